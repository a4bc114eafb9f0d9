/* test_pad.c: constant padding per side: gradient checks and goldens (causal time pad, Downsample2D). */
#include "core/ops/pad.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *pad_causal_fn(void *c, tensor **in) {
    return op_pad(in[0], (int64_t[]){0, 0, 2, 0, 1, 1, 1, 1, 0, 0}, 0.0f);
}
static tensor *pad_down_fn(void *c, tensor **in) { return op_pad(in[0], (int64_t[]){0, 0, 0, 1, 0, 1, 0, 0}, 0.5f); }

TEST(test_pad_grad) {
    tensor *a = gc_input(SHAPE(1, 3, 4, 5, 2), 1), *b = gc_input(SHAPE(2, 5, 4, 3), 2), *c = gc_input(SHAPE(1, 1, 1, 1, 1), 3);
    gradcheck("pad.grad_causal", pad_causal_fn, NULL, 1, &a, NULL);
    gradcheck("pad.grad_down", pad_down_fn, NULL, 1, &b, NULL);
    gradcheck("pad.grad_single", pad_causal_fn, NULL, 1, &c, NULL);
    tensor_release(a);
    tensor_release(b);
    tensor_release(c);
}

TEST(test_pad_matches_torch) {
    golden_file *g = golden_open("shape");
    golden_check_op(g, "pad_causal", pad_causal_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 0);
    golden_check_op(g, "pad_down", pad_down_fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 0);
    golden_close(g);
}
