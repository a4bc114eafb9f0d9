/* test_relu.c: op_relu gradient check, its gradient at 0 and for NaN arriving where x <= 0, and the
 * PyTorch golden. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops/relu.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *relu_fn(void *ctx, tensor **in) { return op_relu(in[0]); }

/* values at least 0.05 away from the kink: finite differences with step 1e-2 never straddle it */
static tensor *away_from_zero(int ndim, const int64_t *shape, uint64_t seed) {
    tensor *x = gc_input(ndim, shape, seed);
    float *p = tensor_f32(x);
    for (int64_t i = 0; i < x->numel; i++) p[i] = p[i] >= 0 ? p[i] + 0.05f : p[i] - 0.05f;
    return x;
}

TEST(test_relu_grad) {
    int64_t shapes[][4] = {{1, 1, 1, 7}, {2, 5, 3, 3}};
    for (int i = 0; i < 2; i++) {
        tensor *x = away_from_zero(4, shapes[i], 30 + (uint64_t)i);
        gradcheck("relu.grad", relu_fn, NULL, 1, &x, NULL);
        tensor_release(x);
    }
}

TEST(test_relu_grad_is_zero_at_zero_and_masks_nan) {
    tensor *x = tensor_zeros(SHAPE(4));
    float *p = tensor_f32(x);
    p[0] = -1, p[1] = 0, p[2] = 2, p[3] = -3;
    x->requires_grad = true;
    tensor *gy = tensor_zeros(SHAPE(4));
    float *g = tensor_f32(gy);
    g[0] = NAN, g[1] = INFINITY, g[2] = 5, g[3] = 1;
    tensor_scope_begin();
    ag_backward_with_grad(op_relu(x), gy);
    tensor_scope_end(NULL);
    const float *gx = tensor_f32(x->grad);
    EXPECT(gx[0] == 0 && gx[1] == 0 && gx[2] == 5 && gx[3] == 0, "relu gradient %g %g %g %g, want 0 0 5 0", gx[0],
           gx[1], gx[2], gx[3]);
    tensor_release(x);
    tensor_release(gy);
}

TEST(test_relu_matches_torch) {
    golden_file *g = golden_open("vgg_ops");
    golden_check_op(g, "relu", relu_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 0.0);
    golden_close(g);
}
