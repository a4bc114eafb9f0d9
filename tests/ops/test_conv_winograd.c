/* test_conv_winograd.c: the Winograd F(2x2,3x3) forward (core/ops/conv_winograd.c) against the direct
 * im2col forward on every path it has: odd sizes (cut tiles), asymmetric and zero pads, channel counts
 * off the vector width, Cout off the 16-channel kernel (the cblas fallback), causal time taps with time
 * stride 2, several chunks per frame, the shared-chunk path for big weights; and the same bits on 1 and
 * 2 threads; and the size rule that picks it. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "core/cpu/cpu.h"   // defines: conv_winograd_applies, conv_set_workspace_limit
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/gradcheck.h"   // defines: rel_error
#include "tests/harness/test.h"

static const conv_case cases[] = {
    {"odd_c20", 2, {2, 9, 7, 20}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"asym_cout24", 2, {1, 40, 38, 16}, 24, {1, 3, 3}, {1, 1, 1}, {0, 0, 0, 2, 1, 0}, 0},
    {"valid", 2, {1, 8, 8, 16}, 16, {1, 3, 3}, {1, 1, 1}, {0}, 1},
    {"chunks", 2, {2, 30, 30, 16}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"big_u", 2, {1, 6, 6, 512}, 256, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c3_causal_ts2", 3, {2, 5, 6, 10, 16}, 16, {3, 3, 3}, {2, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    {"c3_kt1", 3, {1, 3, 5, 5, 24}, 48, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
};

/* the case's output, with the algorithm and thread count given; x, w, b from fixed seeds */
static tensor *forward(const conv_case *c, conv_algo algo, int threads) {
    tensor *in[3];
    conv_case_inputs(c, 11, 0.2f, in);
    const int saved = omp_get_max_threads();
    bool grad = ag_set_grad_enabled(false);
    omp_set_num_threads(threads);
    conv_set_algorithm(algo);
    tensor_scope_begin();
    tensor *y = tensor_clone(conv_case_fn((void *)c, in));
    tensor_scope_end(NULL);
    conv_set_algorithm(CONV_ALGO_AUTO);
    omp_set_num_threads(saved);
    ag_set_grad_enabled(grad);
    for (int i = 0; i < 3; i++) tensor_release(in[i]);
    return y;
}

TEST(test_conv_winograd_matches_direct) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        tensor *want = forward(c, CONV_ALGO_IM2COL, 2), *got = forward(c, CONV_ALGO_WINOGRAD, 2);
        double err = rel_error(got, want);
        /* F(2x2,3x3) adds a few roundings per output: around 1e-7 of the output's scale */
        EXPECT(err < 2e-6, "winograd %s: max error %.3g of max |y| against im2col", c->name, err);
        bool finite = true;
        for (int64_t k = 0; k < got->numel; k++) finite &= isfinite(tensor_f32(got)[k]);
        EXPECT(finite, "winograd %s: non-finite output", c->name);
        printf("  winograd %-14s %.3e\n", c->name, err);
        tensor_release(want), tensor_release(got);
    }
}

TEST(test_conv_winograd_same_bits_any_thread_count) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        tensor *one = forward(c, CONV_ALGO_WINOGRAD, 1), *two = forward(c, CONV_ALGO_WINOGRAD, 2);
        EXPECT(memcmp(one->data, two->data, (size_t)one->numel * sizeof(float)) == 0,
               "winograd %s: output differs between 1 and 2 threads", c->name);
        tensor_release(one), tensor_release(two);
    }
}

/* the input gradient of a stride-1 conv runs as a Winograd conv of gy, the weight gradient as the adjoint
 * of the Winograd forward (conv_cpu.c, conv_winograd.c): both against the im2col GEMM + col2im backward,
 * for every case (the time-stride-2 case keeps col2im for the input gradient) */
static void grads(const conv_case *c, conv_algo algo, int threads, tensor **gx, tensor **gw) {
    tensor *in[3];
    conv_case_inputs(c, 21, 0.2f, in);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    conv_set_algorithm(algo);
    tensor_scope_begin();
    ag_backward(op_sum_all(op_square(conv_case_fn((void *)c, in))));
    tensor_scope_end(NULL);
    conv_set_algorithm(CONV_ALGO_AUTO);
    omp_set_num_threads(saved);
    *gx = in[0]->grad, *gw = in[1]->grad;
    in[0]->grad = in[1]->grad = NULL;
    for (int i = 0; i < 3; i++) tensor_release(in[i]);
}

TEST(test_conv_winograd_grads_match_direct) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        tensor *wx, *ww, *gx, *gw;
        grads(c, CONV_ALGO_IM2COL, 2, &wx, &ww);
        grads(c, CONV_ALGO_WINOGRAD, 2, &gx, &gw);
        const double ex = rel_error(gx, wx), ew = rel_error(gw, ww);
        EXPECT(ex < 3e-6, "winograd input gradient %s: max error %.3g of max |gx| against col2im", c->name, ex);
        EXPECT(ew < 3e-6, "winograd weight gradient %s: max error %.3g of max |gw| against im2col", c->name, ew);
        printf("  winograd dx %-14s %.3e   dw %.3e\n", c->name, ex, ew);
        tensor_release(wx), tensor_release(ww), tensor_release(gx), tensor_release(gw);
    }
}

/* the Winograd gradients are the same bits on 1 and 2 threads (the time-stride-2 case's input gradient
 * goes through OpenBLAS threaded over the output, which is not: it is left out) */
TEST(test_conv_winograd_grads_same_bits_any_thread_count) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        if (c->stride[0] != 1) continue;
        tensor *x1, *w1, *x2, *w2;
        grads(c, CONV_ALGO_WINOGRAD, 1, &x1, &w1);
        grads(c, CONV_ALGO_WINOGRAD, 2, &x2, &w2);
        EXPECT(memcmp(x1->data, x2->data, (size_t)x1->numel * sizeof(float)) == 0,
               "winograd %s: input gradient differs between 1 and 2 threads", c->name);
        EXPECT(memcmp(w1->data, w2->data, (size_t)w1->numel * sizeof(float)) == 0,
               "winograd %s: weight gradient differs between 1 and 2 threads", c->name);
        tensor_release(x1), tensor_release(w1), tensor_release(x2), tensor_release(w2);
    }
}

/* a frame's output must not depend on the other frames of its batch (the spatial VAE runs micro-batches) */
TEST(test_conv_winograd_frame_independent_of_batch) {
    const conv_case *c = &cases[3];   /* chunks: two 30x30 frames, several chunks each */
    tensor *both = forward(c, CONV_ALGO_WINOGRAD, 2);
    conv_case first = *c;
    first.x[0] = 1;
    tensor *alone = forward(&first, CONV_ALGO_WINOGRAD, 2);
    EXPECT(memcmp(both->data, alone->data, (size_t)alone->numel * sizeof(float)) == 0,
           "winograd: frame 0 differs when computed alone");
    tensor_release(both), tensor_release(alone);
}

TEST(test_conv_winograd_only_where_it_pays) {
    /* stride 1 3x3 at 128 channels and 256 tiles: yes; 64 tiles of 512 channels: no; stride 2, 1x1 or
     * 3 input channels: never */
    conv_geom big = {1, 4, 32, 32, 128, 128, 3, 3, 3, 1, 1, 1, {2, 0, 1, 1, 1, 1}, 4, 32, 32};
    conv_geom small = {1, 1, 16, 16, 512, 512, 1, 3, 3, 1, 1, 1, {0, 0, 1, 1, 1, 1}, 1, 16, 16};
    conv_geom s2 = big, k1 = big, rgb = big;
    s2.sh = s2.sw = 2, s2.Ho = s2.Wo = 16;
    k1.kh = k1.kw = 1;
    rgb.cin = 3;
    EXPECT(conv_winograd_applies(&big), "3x3x3 128ch 4x32x32 should take Winograd");
    EXPECT(!conv_winograd_applies(&small), "512ch on 64 tiles should stay on im2col");
    EXPECT(!conv_winograd_applies(&s2) && !conv_winograd_applies(&k1) && !conv_winograd_applies(&rgb),
           "stride 2, 1x1 and 3-channel convs have no Winograd path");
    conv_set_algorithm(CONV_ALGO_WINOGRAD);
    EXPECT(conv_winograd_applies(&small) && !conv_winograd_applies(&s2), "forced Winograd: any size, same shapes");
    conv_set_algorithm(CONV_ALGO_IM2COL);
    EXPECT(!conv_winograd_applies(&big), "im2col forced");
    conv_set_algorithm(CONV_ALGO_AUTO);
}
