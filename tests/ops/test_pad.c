/* test_pad.c: constant padding per side: gradient checks and goldens (causal time pad, Downsample2D). */
#include <math.h>
#include <string.h>
#include "core/ops/pad.h"
#include "core/ops/slice.h"
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

TEST(test_pad_large_roundtrip) {
    tensor *x = gc_input(SHAPE(2, 5, 16, 17, 24), 5);
    int64_t pads[] = {0, 0, 2, 0, 1, 1, 1, 1, 0, 0};
    tensor_scope_begin();
    tensor *y = op_pad(x, pads, 0.5f);
    tensor *c = op_slice(op_slice(op_slice(y, 1, 2, 7), 2, 1, 17), 3, 1, 18);
    EXPECT(tensor_same_shape(c, x) && memcmp(c->data, x->data, (size_t)x->numel * 4) == 0,
           "pad then crop does not give x back");
    double frame = 0;
    const float *yd = tensor_f32(y);
    for (int64_t i = 0; i < y->numel; i++) frame += yd[i];
    for (int64_t i = 0; i < c->numel; i++) frame -= tensor_f32(c)[i];
    int64_t n_frame = y->numel - x->numel;
    EXPECT(fabs(frame - 0.5 * (double)n_frame) < 1e-3 * (double)n_frame, "pad frame sum %.3f, want %.3f", frame,
           0.5 * (double)n_frame);
    tensor_scope_end(NULL);
    tensor_release(x);
}
