/* test_conv.c: conv2d and conv3d: gradient checks (odd sizes, stride 2, asymmetric and causal pads, 1x1),
 * PyTorch goldens, bad shapes. */
#include <omp.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "core/cpu/cpu.h"   // defines: conv_winograd_applies, conv_set_workspace_limit
#include "tests/harness/gradcheck.h"
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/test.h"


/* the golden cases (tests/golden/gen_conv.py), in vaec's terms */
static const conv_case cases[] = {
    {"c2_3x3", 2, {2, 5, 7, 3}, 4, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_s2", 2, {1, 7, 6, 4}, 5, {1, 3, 3}, {1, 2, 2}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_down_even", 2, {2, 6, 6, 3}, 4, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"c2_down_odd", 2, {1, 7, 5, 3}, 4, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"c2_1x1", 2, {2, 3, 5, 6}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 1},
    {"c2_1x1_nob", 2, {2, 3, 5, 6}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"c2_big", 2, {1, 16, 16, 32}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c3_causal", 3, {1, 4, 5, 4, 3}, 5, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 0},
    {"c3_ts2_t5", 3, {2, 5, 4, 3, 3}, 4, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"c3_ts2_t4", 3, {1, 4, 3, 3, 4}, 4, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"c3_1x1", 3, {2, 3, 2, 3, 5}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"c3_big", 3, {1, 5, 8, 8, 16}, 16, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
};

static void run_gradcheck(const conv_case *c, uint64_t seed) {
    tensor *in[3];
    conv_case_inputs(c, seed, 0.3f, in);
    char label[64];
    snprintf(label, sizeof label, "conv.grad_%s", c->name);
    gradcheck(label, conv_case_fn, (void *)c, c->bias ? 3 : 2, in, &(gc_opts){.max_elems = 96});
    for (int i = 0; i < 3; i++) tensor_release(in[i]);
}

TEST(test_conv2d_grad) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (cases[i].dims == 2 && cases[i].x[3] < 32) run_gradcheck(&cases[i], 100 + i * 3);
    /* a single output pixel, Cin 3 -> Cout 5 */
    conv_case one = {"c2_one", 2, {1, 3, 3, 3}, 5, {1, 3, 3}, {1, 1, 1}, {0}, 1};
    run_gradcheck(&one, 7);
}

TEST(test_conv3d_grad) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        if (cases[i].dims == 3 && cases[i].x[4] < 16) run_gradcheck(&cases[i], 200 + i * 3);
    /* stride 2 in every dim with odd sizes */
    conv_case s2 = {"c3_s222", 3, {1, 5, 5, 3, 2}, 3, {3, 3, 3}, {2, 2, 2}, {1, 1, 1, 0, 0, 1}, 1};
    run_gradcheck(&s2, 9);
}

/* every golden case: output and the gradients of x, w (and b) */
static void check_conv_goldens(void) {
    golden_file *g = golden_open("conv");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        if (c->bias)
            golden_check_op(g, c->name, conv_case_fn, (void *)c, 3, (const char *[]){"x", "w", "b"},
                            (const char *[]){"gx", "gw", "gb"}, "y", 2e-6);
        else
            golden_check_op(g, c->name, conv_case_fn, (void *)c, 2, (const char *[]){"x", "w"}, (const char *[]){"gx", "gw"}, "y",
                            2e-6);
    }
    golden_close(g);
}

TEST(test_conv_matches_torch) { check_conv_goldens(); }

/* the same goldens with a workspace of one output position per tile: every tile border is crossed by
   the weight-gradient accumulation and the col2im scatter */
TEST(test_conv_matches_torch_one_position_tiles) {
    conv_set_workspace_limit(1);
    check_conv_goldens();
    conv_set_workspace_limit(0);
}

/* the same goldens through oneDNN, whatever this CPU's automatic choice (AVX2 CPUs pick vaec's own kernels) */
TEST(test_conv_matches_torch_dnnl) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    check_conv_goldens();
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* the same goldens through vaec's im2col kernels alone */
TEST(test_conv_matches_torch_im2col) {
    conv_set_algorithm(CONV_ALGO_IM2COL);
    check_conv_goldens();
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* the same goldens through the Winograd forward wherever the kernel allows it (c2_3x3 is 3 channels: no) */
TEST(test_conv_matches_torch_winograd) {
    conv_set_algorithm(CONV_ALGO_WINOGRAD);
    check_conv_goldens();
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* vaec's own im2col kernels (oneDNN's promise is narrower: the same bits run to run at one thread count,
 * test_conv_backends_same_bits_run_to_run) */
TEST(test_conv3d_same_result_any_thread_count) {
    const conv_case *c = &cases[11];   /* c3_big: causal 3x3x3, 16 -> 16 channels */
    conv_set_workspace_limit(64 * 1024);   /* several tiles */
    conv_set_algorithm(CONV_ALGO_IM2COL);
    tensor *got[2][4];
    int saved = omp_get_max_threads();
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        tensor *x = gc_input(SHAPE(1, 5, 8, 8, 16), 1), *w = gc_input_scaled(SHAPE(16, 3, 3, 3, 16), 2, 0.1f),
               *b = gc_input(SHAPE(16), 3);
        tensor_scope_begin();
        tensor *y = conv_case_fn((void *)c, (tensor *[]){x, w, b});
        got[t][0] = tensor_clone(y);
        ag_backward(op_sum_all(op_square(y)));
        tensor_scope_end(NULL);
        got[t][1] = x->grad, got[t][2] = w->grad, got[t][3] = b->grad;
        x->grad = w->grad = b->grad = NULL;
        tensor_release(x), tensor_release(w), tensor_release(b);
    }
    omp_set_num_threads(saved);
    conv_set_workspace_limit(0);
    conv_set_algorithm(CONV_ALGO_AUTO);
    const char *what[4] = {"output", "input grad", "weight grad", "bias grad"};
    for (int k = 0; k < 4; k++) {
        EXPECT(memcmp(got[0][k]->data, got[1][k]->data, (size_t)got[0][k]->numel * 4) == 0, "conv3d %s differs between 1 and "
               "2 threads", what[k]);
        tensor_release(got[0][k]);
        tensor_release(got[1][k]);
    }
}

static void conv3d_channel_mismatch(void *ctx) {
    conv3d_args a = {{1, 1, 1}, {0}};
    op_conv3d(tensor_zeros(SHAPE(1, 2, 3, 3, 4)), tensor_zeros(SHAPE(8, 1, 1, 1, 3)), NULL, &a);
}
static void conv2d_wrong_rank(void *ctx) {
    conv2d_args a = {{1, 1}, {0}};
    op_conv2d(tensor_zeros(SHAPE(1, 3, 3, 4)), tensor_zeros(SHAPE(8, 1, 1, 1, 4)), NULL, &a);
}
static void conv2d_bad_bias(void *ctx) {
    conv2d_args a = {{1, 1}, {0}};
    op_conv2d(tensor_zeros(SHAPE(1, 3, 3, 4)), tensor_zeros(SHAPE(8, 1, 1, 4)), tensor_zeros(SHAPE(7)), &a);
}

TEST(test_conv_bad_shapes_are_fatal) {
    EXPECT(test_expect_fatal(conv3d_channel_mismatch, NULL, "input has 4 channels, weight (8,1,1,1,3) expects 3"),
           "channel mismatch must name both");
    EXPECT(test_expect_fatal(conv2d_wrong_rank, NULL, "conv2d: expects x (N,H,W,Cin)"), "wrong rank");
    EXPECT(test_expect_fatal(conv2d_bad_bias, NULL, "bias must be (8)"), "bad bias");
}
