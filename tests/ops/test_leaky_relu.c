/* test_leaky_relu.c: op_leaky_relu gradient check (slopes 0.2 and 0.01), its gradient at 0, and the
 * PyTorch golden (slope 0.2, the discriminator's). */
#include "autograd/autograd.h"
#include "core/ops/leaky_relu.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *leaky_fn(void *ctx, tensor **in) { return op_leaky_relu(in[0], *(const float *)ctx); }

TEST(test_leaky_relu_grad) {
    const float slopes[2] = {0.2f, 0.01f};
    for (int k = 0; k < 2; k++) {
        tensor *x = gc_input(SHAPE(2, 5, 3, 3), 80 + (uint64_t)k);
        float *p = tensor_f32(x);   /* away from the kink: finite differences never straddle it */
        for (int64_t i = 0; i < x->numel; i++) p[i] += p[i] >= 0 ? 0.05f : -0.05f;
        gradcheck("leaky_relu.grad", leaky_fn, (void *)&slopes[k], 1, &x, NULL);
        tensor_release(x);
    }
}

TEST(test_leaky_relu_grad_at_zero_is_the_slope) {
    tensor *x = tensor_zeros(SHAPE(3));
    tensor_f32(x)[0] = -2, tensor_f32(x)[2] = 3;
    x->requires_grad = true;
    tensor *gy = tensor_full(SHAPE(3), 1.0f);
    tensor_scope_begin();
    tensor *y = op_leaky_relu(x, 0.2f);
    EXPECT(tensor_f32(y)[0] == -0.4f && tensor_f32(y)[1] == 0 && tensor_f32(y)[2] == 3, "leaky_relu(-2, 0, 3) = %g %g %g",
           tensor_f32(y)[0], tensor_f32(y)[1], tensor_f32(y)[2]);
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
    const float *g = tensor_f32(x->grad);
    EXPECT(g[0] == 0.2f && g[1] == 0.2f && g[2] == 1.0f, "leaky_relu gradient %g %g %g, want 0.2 0.2 1 (PyTorch)", g[0],
           g[1], g[2]);
    tensor_release(x);
    tensor_release(gy);
}

TEST(test_leaky_relu_matches_torch) {
    golden_file *g = golden_open("gan");
    const float slope = 0.2f;
    golden_check_op(g, "leaky", leaky_fn, (void *)&slope, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
    golden_close(g);
}
