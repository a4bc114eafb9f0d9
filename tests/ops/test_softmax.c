/* test_softmax.c: op_softmax gradient checks, PyTorch goldens and overflow safety. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops/softmax.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *softmax_fn(void *ctx, tensor **in) { return op_softmax(in[0]); }

TEST(test_softmax_grad) {
    /* scale 2: rows are peaked, not flat, so the gradient is not near zero everywhere */
    tensor *a = gc_input_scaled(SHAPE(3, 7), 31, 2.0f);
    gradcheck("softmax.3x7", softmax_fn, NULL, 1, &a, NULL);
    tensor *b = gc_input_scaled(SHAPE(2, 3, 5), 32, 2.0f);
    gradcheck("softmax.2x3x5", softmax_fn, NULL, 1, &b, NULL);
    tensor *c = gc_input_scaled(SHAPE(4, 1), 33, 2.0f);   /* a single class: y = 1, gradient 0 */
    gradcheck("softmax.4x1", softmax_fn, NULL, 1, &c, NULL);
    tensor_release(a);
    tensor_release(b);
    tensor_release(c);
}

static void softmax_golden(golden_file *g, const char *key) {
    golden_check_op(g, key, softmax_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
}

TEST(test_softmax_matches_torch) {
    golden_file *g = golden_open("norm");
    softmax_golden(g, "sm2");   /* (3,7) */
    softmax_golden(g, "sm3");   /* (2,3,5) */
    golden_close(g);
}

/* logits of 1000 overflow expf without the max subtraction */
TEST(test_softmax_large_logits_finite) {
    tensor *x = tensor_from_data(SHAPE(1, 3), (float[]){1000.0f, 999.0f, -1000.0f});
    tensor *y = op_softmax(x);
    const float *p = tensor_f32(y);
    const double e = exp(-1.0), want0 = 1.0 / (1.0 + e);
    EXPECT(isfinite(p[0]) && fabs(p[0] - want0) < 1e-6 && fabs(p[1] - e * want0) < 1e-6 && p[2] == 0.0f,
           "softmax(1000, 999, -1000) = (%g, %g, %g)", p[0], p[1], p[2]);
    tensor_release(y);
    tensor_release(x);
}
