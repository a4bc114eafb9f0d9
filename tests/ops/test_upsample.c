/* test_upsample.c: op_upsample_nearest2x gradient checks (4-D and 5-D, odd sizes) and PyTorch goldens. */
#include "autograd/autograd.h"
#include "core/ops/upsample.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *upsample_fn(void *ctx, tensor **in) { return op_upsample_nearest2x(in[0]); }

TEST(test_upsample_nearest2x_grad_4d) {
    tensor *x = gc_input(SHAPE(2, 3, 5, 3), 81);
    gradcheck("upsample.4d", upsample_fn, NULL, 1, &x, NULL);
    tensor_release(x);
}

TEST(test_upsample_nearest2x_grad_5d) {
    tensor *x = gc_input(SHAPE(2, 3, 3, 5, 2), 82);
    gradcheck("upsample.5d", upsample_fn, NULL, 1, &x, NULL);
    tensor_release(x);
}

static void upsample_golden(golden_file *g, const char *key) {
    char k[64], label[64];
#define GK(s) (snprintf(k, sizeof k, "%s.%s", key, s), k)
#define GL(s) (snprintf(label, sizeof label, "upsample.%s.%s", key, s), label)
    tensor *x = golden_leaf(g, GK("x")), *gy = golden_get(g, GK("gy"));
    tensor_scope_begin();
    tensor *y = op_upsample_nearest2x(x);
    golden_check(GL("fwd"), y, g, GK("y"), 0.0);   /* a copy: exact */
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
    golden_check(GL("gx"), x->grad, g, GK("gx"), 1e-6);
#undef GK
#undef GL
    tensor_release(x);
    tensor_release(gy);
}

TEST(test_upsample_nearest2x_matches_torch) {
    golden_file *g = golden_open("norm");
    upsample_golden(g, "up4");   /* (2,5,3,3) -> (2,10,6,3) */
    upsample_golden(g, "up5");   /* (2,2,3,4,3) -> (2,2,6,8,3), per frame */
    golden_close(g);
}

static void upsample_bad_rank(void *ctx) {
    tensor *x = tensor_zeros(SHAPE(4, 3, 2));
    op_upsample_nearest2x(x);
}

TEST(test_upsample_nearest2x_bad_rank_is_fatal) {
    EXPECT(test_expect_fatal(upsample_bad_rank, NULL, "must be (N,H,W,C) or (B,T,H,W,C)"),
           "a 3-D input did not stop with a clear message");
}
