/* test_binary.c: add/sub/mul/div with broadcasting: gradient checks, PyTorch goldens, bad shapes. */
#include <string.h>
#include "core/ops/binary.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef tensor *(*binop)(tensor *, tensor *);
static const char *names[] = {"add", "sub", "mul", "div"};
static const binop fns[] = {op_add, op_sub, op_mul, op_div};

static tensor *bin_fn(void *ctx, tensor **in) { return (*(const binop *)ctx)(in[0], in[1]); }

/* b bounded away from zero so div's finite differences stay smooth */
static tensor *nonzero(int nd, const int64_t *shape, uint64_t seed) {
    tensor *t = gc_input(nd, shape, seed);
    float *d = tensor_f32(t);
    for (int64_t i = 0; i < t->numel; i++) d[i] = d[i] >= 0 ? d[i] + 0.5f : d[i] - 0.5f;
    return t;
}

TEST(test_binary_grad_broadcasting) {
    struct { int na, nb; int64_t a[5], b[5]; } cases[] = {
        {3, 3, {2, 3, 4}, {2, 3, 4}}, {3, 1, {2, 3, 4}, {4}}, {3, 3, {2, 1, 4}, {1, 3, 1}},
        {2, 2, {5, 1}, {1, 4}}, {5, 1, {2, 3, 2, 3, 5}, {5}}, {2, 1, {3, 4}, {1}}, {1, 3, {4}, {2, 3, 4}},
    };
    for (int c = 0; c < 7; c++)
        for (int k = 0; k < 4; k++) {
            tensor *a = gc_input(cases[c].na, cases[c].a, 100 + (uint64_t)c), *b = nonzero(cases[c].nb, cases[c].b, 200 + (uint64_t)c);
            char label[64];
            snprintf(label, sizeof label, "%s.grad%d", names[k], c);
            gradcheck(label, bin_fn, (void *)&fns[k], 2, (tensor *[]){a, b}, NULL);
            tensor_release(a);
            tensor_release(b);
        }
}

TEST(test_binary_matches_torch) {
    golden_file *g = golden_open("elem");
    const char *cases[] = {"same", "trail", "outer", "col_row", "chan", "scalar"};
    for (int c = 0; c < 6; c++)
        for (int k = 0; k < 4; k++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s.%s", names[k], cases[c]);
            golden_check_op(g, prefix, bin_fn, (void *)&fns[k], 2, (const char *[]){"a", "b"},
                            (const char *[]){"ga", "gb"}, "y", 1e-6);
        }
    golden_close(g);
}

static void bad_broadcast(void *ctx) {
    tensor *a = tensor_zeros(SHAPE(2, 3)), *b = tensor_zeros(SHAPE(4));
    op_add(a, b);
}

TEST(test_binary_incompatible_shapes_are_fatal) {
    EXPECT(test_expect_fatal(bad_broadcast, NULL, "add: shapes (2,3) and (4) cannot be broadcast"),
           "incompatible shapes must name both");
}
