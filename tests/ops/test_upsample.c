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
    golden_check_op(g, key, upsample_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
    char k[64], label[64];   /* the forward is a copy: exact */
    snprintf(k, sizeof k, "%s.x", key);
    tensor *x = golden_get(g, k);
    tensor_scope_begin();
    snprintf(k, sizeof k, "%s.y", key);
    snprintf(label, sizeof label, "%s.fwd_exact", key);
    golden_check(label, op_upsample_nearest2x(x), g, k, 0.0);
    tensor_scope_end(NULL);
    tensor_release(x);
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
