/* test_slice.c: slice and concat along any dim: gradient checks, goldens, bad shapes. */
#include <string.h>
#include "core/ops/slice.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *first_fn(void *c, tensor **in) { return op_slice(in[0], 0, 0, 2); }
static tensor *mid_fn(void *c, tensor **in) { return op_slice(in[0], 1, 2, 5); }
static tensor *last_fn(void *c, tensor **in) { return op_slice(in[0], -1, 3, 5); }
static tensor *concat_fn(void *c, tensor **in) { return op_concat(3, in, *(int *)c); }

TEST(test_slice_grad) {
    tensor *x = gc_input(SHAPE(4, 6, 5), 1);
    gradcheck("slice.grad_first", first_fn, NULL, 1, &x, NULL);
    gradcheck("slice.grad_mid", mid_fn, NULL, 1, &x, NULL);
    gradcheck("slice.grad_last", last_fn, NULL, 1, &x, NULL);
    tensor_release(x);
}

TEST(test_concat_grad) {
    int64_t shapes[3][3][3] = {{{1, 3, 2}, {2, 3, 2}, {3, 3, 2}}, {{2, 1, 3}, {2, 4, 3}, {2, 2, 3}},
                               {{2, 3, 1}, {2, 3, 2}, {2, 3, 4}}};
    for (int d = 0; d < 3; d++) {
        tensor *xs[3];
        for (int i = 0; i < 3; i++) xs[i] = gc_input(3, shapes[d][i], 10 + (uint64_t)(3 * d + i));
        gradcheck("concat.grad", concat_fn, &d, 3, xs, NULL);
        for (int i = 0; i < 3; i++) tensor_release(xs[i]);
    }
}

TEST(test_slice_concat_match_torch) {
    golden_file *g = golden_open("shape");
    const char *x[] = {"x"}, *gx[] = {"gx"};
    golden_check_op(g, "slice_first", first_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "slice_mid", mid_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "slice_last", last_fn, NULL, 1, x, gx, "y", 0);
    for (int d = 0; d < 3; d++) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "concat%d", d);
        golden_check_op(g, prefix, concat_fn, &d, 3, (const char *[]){"x0", "x1", "x2"},
                        (const char *[]){"gx0", "gx1", "gx2"}, "y", 0);
    }
    golden_close(g);
}

static void concat_mismatch(void *c) {
    tensor *xs[2] = {tensor_zeros(SHAPE(2, 3)), tensor_zeros(SHAPE(2, 4))};
    op_concat(2, xs, 0);
}
static void slice_out_of_range(void *c) { op_slice(tensor_zeros(SHAPE(2, 3)), 1, 1, 5); }

TEST(test_slice_concat_bad_shapes_are_fatal) {
    EXPECT(test_expect_fatal(concat_mismatch, NULL, "tensor 1 has shape (2,4), tensor 0 has (2,3)"), "concat shapes");
    EXPECT(test_expect_fatal(slice_out_of_range, NULL, "[1, 5) out of range for dim 1 of shape (2,3)"), "slice range");
}

TEST(test_concat_grad_partial_inputs) {
    int dim = 1;
    tensor *xs[3] = {gc_input(SHAPE(2, 1, 3), 20), gc_input(SHAPE(2, 2, 3), 21), gc_input(SHAPE(2, 4, 3), 22)};
    xs[1]->requires_grad = false;
    gradcheck("concat.partial", concat_fn, &dim, 3, xs, NULL);
    EXPECT(xs[1]->grad == NULL, "an input without requires_grad got a gradient");
    for (int i = 0; i < 3; i++) tensor_release(xs[i]);
}

TEST(test_slice_concat_large_roundtrip) {
    tensor *x = gc_input(SHAPE(3, 40, 33, 20), 40);
    tensor_scope_begin();
    for (int dim = 0; dim < 4; dim++) {
        int64_t size = x->shape[dim], cut1 = size / 3, cut2 = size - 1;
        tensor *parts[3] = {op_slice(x, dim, 0, cut1), op_slice(x, dim, cut1, cut2), op_slice(x, dim, cut2, size)};
        tensor *y = op_concat(3, parts, dim);
        EXPECT(tensor_same_shape(x, y) && memcmp(x->data, y->data, (size_t)x->numel * 4) == 0,
               "slice + concat along dim %d does not give x back", dim);
    }
    tensor_scope_end(NULL);
    tensor_release(x);
}

/* concat of many inputs: autograd nodes take any number */
static tensor *concat_many_fn(void *ctx, tensor **in) { return op_concat(12, in, 0); }

TEST(test_concat_grad_many_inputs) {
    tensor *xs[12];
    for (int i = 0; i < 12; i++) xs[i] = gc_input(SHAPE(1 + i % 3, 2), 30 + (uint64_t)i);
    gradcheck("concat.many", concat_many_fn, NULL, 12, xs, NULL);
    for (int i = 0; i < 12; i++) tensor_release(xs[i]);
}
