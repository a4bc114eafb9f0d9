/* test_max_pool.c: op_max_pool2d gradient checks (even and odd sizes), tie routing, PyTorch goldens and
 * bad shapes. */
#include "autograd/autograd.h"
#include "core/ops/max_pool.h"
#include "core/ops/reduce.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *pool_fn(void *ctx, tensor **in) { return op_max_pool2d(in[0]); }

/* a permuted ramp with steps of 0.1 (i -> i * 7919 mod n is a permutation: 7919 is prime and does not
   divide n): every window's maximum is 0.1 above the runner-up, so finite differences with step 1e-2
   never move the argmax */
static tensor *distinct_input(int64_t N, int64_t H, int64_t W, int64_t C) {
    tensor *x = tensor_empty(SHAPE(N, H, W, C));
    float *p = tensor_f32(x);
    const int64_t n = x->numel;
    for (int64_t i = 0; i < n; i++) p[i] = 0.1f * (float)((i * 7919) % n - n / 2);
    x->requires_grad = true;
    return x;
}

TEST(test_max_pool2d_grad) {
    int64_t shapes[][4] = {{1, 2, 2, 1}, {2, 4, 6, 3}, {1, 5, 7, 2}};   /* the last drops a row and a column */
    for (int i = 0; i < 3; i++) {
        tensor *x = distinct_input(shapes[i][0], shapes[i][1], shapes[i][2], shapes[i][3]);
        gradcheck("max_pool2d.grad", pool_fn, NULL, 1, &x, NULL);
        tensor_release(x);
    }
}

TEST(test_max_pool2d_tie_goes_to_first_in_window) {
    tensor *x = tensor_zeros(SHAPE(1, 2, 2, 1));   /* all equal: PyTorch routes to the top-left */
    x->requires_grad = true;
    tensor_scope_begin();
    ag_backward(op_sum_all(op_max_pool2d(x)));
    tensor_scope_end(NULL);
    const float *g = tensor_f32(x->grad);
    EXPECT(g[0] == 1 && g[1] == 0 && g[2] == 0 && g[3] == 0, "tie gradient %g %g %g %g, want 1 0 0 0", g[0], g[1], g[2],
           g[3]);
    tensor_release(x);
}

TEST(test_max_pool2d_matches_torch) {
    golden_file *g = golden_open("vgg_ops");
    golden_check_op(g, "pool_even", pool_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 0.0);
    golden_check_op(g, "pool_odd", pool_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 0.0);
    golden_close(g);
}

static void pool_too_small(void *ctx) {
    tensor *x = tensor_zeros(SHAPE(2, 1, 4, 3));
    op_max_pool2d(x);
}

TEST(test_max_pool2d_bad_shape_is_fatal) {
    EXPECT(test_expect_fatal(pool_too_small, NULL, "max_pool2d: x must be (N,H,W,C) with H and W at least 2, got (2,1,4,3)"),
           "a one-row input did not stop with a clear message");
}
