/* test_shape.c: reshape, permute, depth_to_time: gradient checks, goldens, bad shapes. */
#include <string.h>
#include "core/ops/shape.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *permute5_fn(void *c, tensor **in) { return op_permute(in[0], (int[]){0, 4, 1, 2, 3}); }
static tensor *permute3_fn(void *c, tensor **in) { return op_permute(in[0], (int[]){2, 0, 1}); }
static tensor *reshape_fn(void *c, tensor **in) { return op_reshape(in[0], SHAPE(4, -1)); }
static tensor *d2t_fn(void *c, tensor **in) { return op_depth_to_time(in[0], 2); }
/* permute, then a nonlinear use, so a wrong inverse permutation shows in the gradient */
static tensor *permute_back_fn(void *c, tensor **in) {
    return op_permute(op_permute(in[0], (int[]){0, 4, 1, 2, 3}), (int[]){0, 2, 3, 4, 1});
}

TEST(test_shape_ops_grad) {
    tensor *x5 = gc_input(SHAPE(2, 3, 1, 5, 3), 1), *x3 = gc_input(SHAPE(3, 5, 2), 2), *xr = gc_input(SHAPE(2, 3, 4), 3);
    gradcheck("permute.grad5", permute5_fn, NULL, 1, &x5, NULL);
    gradcheck("permute.grad_roundtrip", permute_back_fn, NULL, 1, &x5, NULL);
    gradcheck("permute.grad3", permute3_fn, NULL, 1, &x3, NULL);
    gradcheck("reshape.grad", reshape_fn, NULL, 1, &xr, NULL);
    tensor *d1 = gc_input(SHAPE(1, 3, 2, 3, 8), 4), *d2 = gc_input(SHAPE(2, 2, 1, 1, 4), 5);
    gradcheck("depth_to_time.grad_a", d2t_fn, NULL, 1, &d1, NULL);
    gradcheck("depth_to_time.grad_b", d2t_fn, NULL, 1, &d2, NULL);
    tensor *all[] = {x5, x3, xr, d1, d2};
    for (int i = 0; i < 5; i++) tensor_release(all[i]);
}

TEST(test_shape_ops_match_torch) {
    golden_file *g = golden_open("shape");
    const char *x[] = {"x"}, *gx[] = {"gx"};
    golden_check_op(g, "permute5", permute5_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "permute3", permute3_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "reshape", reshape_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "d2t_a", d2t_fn, NULL, 1, x, gx, "y", 0);
    golden_check_op(g, "d2t_b", d2t_fn, NULL, 1, x, gx, "y", 0);
    golden_close(g);
}

static void reshape_wrong_count(void *c) { op_reshape(tensor_zeros(SHAPE(2, 3)), SHAPE(4, 2)); }
static void d2t_bad_channels(void *c) { op_depth_to_time(tensor_zeros(SHAPE(1, 2, 2, 2, 3)), 2); }

TEST(test_shape_ops_bad_shapes_are_fatal) {
    EXPECT(test_expect_fatal(reshape_wrong_count, NULL, "shape (2,3)"), "reshape must name the shape");
    EXPECT(test_expect_fatal(d2t_bad_channels, NULL, "(1,2,2,2,3)"), "depth_to_time must name the shape");
}

TEST(test_reshape_is_a_view) {
    tensor *x = gc_input(SHAPE(4, 6), 2);
    tensor_scope_begin();
    tensor *y = op_reshape(x, SHAPE(2, -1, 3));
    EXPECT(y->data == x->data && y->shape[1] == 4, "reshape should share storage and infer 4, got %lld",
           (long long)y->shape[1]);
    tensor_scope_end(NULL);
    tensor_release(x);
}

TEST(test_depth_to_time_index_map) {
    int64_t B = 2, T = 3, H = 2, W = 1, C = 3;
    int ts = 3;
    tensor *x = gc_input(SHAPE(B, T, H, W, C * ts), 10);
    tensor_scope_begin();
    tensor *y = op_depth_to_time(x, ts);
    const float *xd = tensor_f32(x), *yd = tensor_f32(y);
    int bad = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t hw = 0; hw < H * W; hw++)
                for (int64_t c = 0; c < C; c++)
                    for (int s = 0; s < ts; s++)
                        bad += yd[((b * T * ts + t * ts + s) * H * W + hw) * C + c] !=
                               xd[((b * T + t) * H * W + hw) * C * ts + c * ts + s];
    EXPECT(bad == 0, "depth_to_time: %d elements misplaced", bad);
    tensor_scope_end(NULL);
    tensor_release(x);
}

TEST(test_permute_large_matches_naive) {
    int64_t B = 2, T = 5, H = 16, W = 17, C = 33;
    int to_cf[] = {0, 4, 1, 2, 3}, swap_bt[] = {1, 0, 2, 3, 4};
    tensor *x = gc_input(SHAPE(B, T, H, W, C), 11);
    tensor_scope_begin();
    tensor *y = op_permute(x, to_cf), *z = op_permute(x, swap_bt);
    const float *xd = tensor_f32(x), *yd = tensor_f32(y), *zd = tensor_f32(z);
    int64_t bad = 0;
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++)
            for (int64_t hw = 0; hw < H * W; hw++)
                for (int64_t c = 0; c < C; c++) {
                    float v = xd[((b * T + t) * H * W + hw) * C + c];
                    bad += yd[((b * C + c) * T + t) * H * W + hw] != v;
                    bad += zd[((t * B + b) * H * W + hw) * C + c] != v;
                }
    EXPECT(bad == 0, "large permute: %lld elements misplaced", (long long)bad);
    tensor_scope_end(NULL);
    tensor_release(x);
}
