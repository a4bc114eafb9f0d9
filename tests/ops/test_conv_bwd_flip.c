/* test_conv_bwd_flip.c: a conv's input gradient computed as a forward conv on flipped weights
 * (core/cpu/conv_bwd_flip.h, VAEC_CONV_BWD_DATA=forward) equals oneDNN's backward-data kernel's
 * (VAEC_CONV_BWD_DATA=direct) within float32 summation noise, in float32 and bf16, on 2-D and 3-D shapes with
 * CausalConv3d's front-only time pad, per-side pads, a non-square kernel, unequal channel counts, with and
 * without bias; stride-2 convs (Downsample2D's (0,1,0,1)) stay on the direct kernel even when forward is asked
 * for; the automatic choice follows its rule (float32, a brgemm forward against a non-brgemm backward-data
 * kernel) on AVX-512 and under ONEDNN_MAX_CPU_ISA=AVX2; a bad VAEC_CONV_BWD_DATA stops with a hint. The output and the
 * weight and bias gradients do not change bit for bit. */
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_backward_with_grad
#include "core/cpu/bf16_cpu.h"         // defines: bf16_cpu_native_available, bf16_cpu_force
#include "core/cpu/conv_bwd_flip.h"    // defines: conv_set_bwd_data_mode, conv_bwd_data_mode_parse
#include "core/cpu/cpu.h"              // defines: conv_dnnl_bwd_data_as_forward, conv_dnnl_impl_name
#include "core/cpu/dnnl_util.h"        // defines: dnnl_isa_name
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/gradcheck.h"   // defines: gc_input, rel_error
#include "tests/harness/test.h"

static const conv_case cases[] = {
    {"res_3x3_bias", 2, {2, 12, 10, 32}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"conv_in_rgb", 2, {2, 12, 10, 3}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"cin16_cout24_nobias", 2, {1, 9, 14, 16}, 24, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 0},
    {"asym_pad_0101_s1", 2, {1, 8, 7, 16}, 8, {1, 3, 3}, {1, 1, 1}, {0, 0, 0, 1, 0, 1}, 1},
    {"kernel_3x2_pad_2_0", 2, {1, 6, 9, 8}, 16, {1, 3, 2}, {1, 1, 1}, {0, 0, 2, 0, 0, 1}, 0},
    {"downsample_s2", 2, {2, 12, 9, 16}, 16, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"shortcut_1x1", 2, {1, 6, 7, 32}, 16, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"causal_3x3x3", 3, {2, 5, 8, 6, 16}, 32, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    {"causal_3x3x3_nobias", 3, {1, 7, 5, 6, 24}, 16, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 0},
    {"causal_ts2", 3, {1, 9, 6, 6, 16}, 16, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"temporal_3x1x1", 3, {1, 6, 4, 5, 16}, 16, {3, 1, 1}, {1, 1, 1}, {2, 0, 0, 0, 0, 0}, 1},
    {"kt1_3x3", 3, {1, 3, 7, 7, 16}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
};
#define N_CASES ((int)(sizeof cases / sizeof *cases))

static bool stride_one(const conv_case *c) { return c->stride[0] == 1 && c->stride[1] == 1 && c->stride[2] == 1; }

/* the geometry op_conv2d / op_conv3d hand the kernels for case c */
static conv_geom case_geom(const conv_case *c) {
    conv_geom g;
    memset(&g, 0, sizeof g);
    const bool d3 = c->dims == 3;
    g.B = c->x[0], g.T = d3 ? c->x[1] : 1, g.H = c->x[d3 ? 2 : 1], g.W = c->x[d3 ? 3 : 2], g.cin = c->x[d3 ? 4 : 3];
    g.cout = c->cout, g.kt = c->k[0], g.kh = c->k[1], g.kw = c->k[2];
    g.st = c->stride[0], g.sh = c->stride[1], g.sw = c->stride[2];
    memcpy(g.pad, c->pad, sizeof g.pad);
    g.To = (g.T + g.pad[0] + g.pad[1] - g.kt) / g.st + 1;
    g.Ho = (g.H + g.pad[2] + g.pad[3] - g.kh) / g.sh + 1;
    g.Wo = (g.W + g.pad[4] + g.pad[5] - g.kw) / g.sw + 1;
    return g;
}

/* y (float32) and the gradients of case c in dtype dt (gy fixed by a seed), with backward data in mode m */
static void run(const conv_case *c, dtype_t dt, conv_bwd_data_mode m, tensor *out[4]) {
    tensor *raw[3], *in[3] = {NULL, NULL, NULL};
    conv_case_inputs(c, 51, 0.2f, raw);
    for (int j = 0; j < 3; j++) {
        in[j] = dt == DTYPE_F32 ? tensor_clone(raw[j]) : tensor_to_dtype(raw[j], dt);
        in[j]->requires_grad = true;
        tensor_release(raw[j]);
    }
    conv_set_algorithm(CONV_ALGO_DNNL);
    conv_set_bwd_data_mode(m);
    tensor_scope_begin();
    tensor *y = conv_case_fn((void *)c, in);
    out[0] = tensor_to_dtype(y, DTYPE_F32);
    tensor *gy = gc_input(y->ndim, y->shape, 88);
    gy->requires_grad = false;
    ag_backward_with_grad(y, gy);
    tensor_release(gy);
    tensor_scope_end(NULL);
    conv_set_bwd_data_mode(CONV_BWD_DATA_AUTO);
    conv_set_algorithm(CONV_ALGO_AUTO);
    for (int j = 0; j < 3; j++) {
        out[j + 1] = c->bias || j < 2 ? in[j]->grad : NULL;
        in[j]->grad = NULL;
        tensor_release(in[j]);
    }
}

static bool same_bits(const tensor *a, const tensor *b) {
    return !a == !b && (!a || (a->numel == b->numel && !memcmp(a->data, b->data, (size_t)a->numel * dtype_size(a->dtype))));
}

/* both modes on every case in dt: gx within tol, everything else the same bits; forward mode runs as a
   forward conv exactly on the stride-1 cases */
static void check_modes(dtype_t dt, double tol) {
    for (int i = 0; i < N_CASES; i++) {
        const conv_case *c = &cases[i];
        tensor *d[4], *f[4];
        run(c, dt, CONV_BWD_DATA_DIRECT, d);
        run(c, dt, CONV_BWD_DATA_FORWARD, f);
        const double err = rel_error(f[1], d[1]);
        EXPECT(err <= tol, "%s %s: the input gradient as a forward conv differs from backward-data by %.3g of its max "
               "(tolerance %.3g)", c->name, dtype_name(dt), err, tol);
        EXPECT(same_bits(d[0], f[0]) && same_bits(d[2], f[2]) && same_bits(d[3], f[3]),
               "%s %s: the output, weight or bias gradient changed with the backward-data mode", c->name, dtype_name(dt));
        const conv_geom g = case_geom(c);
        conv_set_bwd_data_mode(CONV_BWD_DATA_FORWARD);
        const bool as_fwd = conv_dnnl_bwd_data_as_forward(&g, dt == DTYPE_BF16);
        conv_set_bwd_data_mode(CONV_BWD_DATA_DIRECT);
        const bool direct_as_fwd = conv_dnnl_bwd_data_as_forward(&g, dt == DTYPE_BF16);
        conv_set_bwd_data_mode(CONV_BWD_DATA_AUTO);
        EXPECT(as_fwd == stride_one(c) && !direct_as_fwd,
               "%s %s: forward mode ran %s, direct mode %s (a forward conv where stride 1, backward-data elsewhere)",
               c->name, dtype_name(dt), as_fwd ? "a forward conv" : "backward-data",
               direct_as_fwd ? "a forward conv" : "backward-data");
        printf("  %-20s %-4s gx %.2e  %s\n", c->name, dtype_name(dt), err, as_fwd ? "as forward" : "direct (stride 2)");
        for (int k = 0; k < 4; k++) tensor_release(d[k]), tensor_release(f[k]);
    }
}

TEST(test_conv_bwd_flip_matches_direct_f32) {
    check_modes(DTYPE_F32, 3e-6);   /* the same sum in another order: a few float32 roundings */
}

TEST(test_conv_bwd_flip_matches_direct_bf16) {
    if (!bf16_cpu_native_available()) {
        char why[160];
        snprintf(why, sizeof why, "no oneDNN bf16 kernels on this CPU (%s): bf16 convs are widened to float32", dnnl_isa_name());
        TEST_SKIP(why);
    }
    bf16_cpu_force(BF16_KERNELS_NATIVE);   /* oneDNN's bf16 kernels even where the probe found them slower */
    check_modes(DTYPE_BF16, 1e-5);   /* bf16 products are exact in float32: only the order of the sums differs */
    bf16_cpu_force(BF16_KERNELS_AUTO);
}

/* auto takes the forward conv exactly where the rule says: float32, stride 1, backward-data's kernel not
   brgemm, the flipped forward's brgemm (bf16 stays direct: no faster there) */
static void check_auto_rule(void) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    for (int bf16 = 0; bf16 < 2; bf16++) {
        if (bf16 && !bf16_cpu_native_available()) continue;   /* no oneDNN bf16 kernels to name */
        for (int i = 0; i < N_CASES; i++) {
            const conv_geom g = case_geom(&cases[i]);
            conv_set_bwd_data_mode(CONV_BWD_DATA_DIRECT);
            const char *direct = conv_dnnl_impl_name(&g, 1, bf16);
            conv_set_bwd_data_mode(CONV_BWD_DATA_FORWARD);
            const char *fwd = conv_dnnl_impl_name(&g, 1, bf16);
            conv_set_bwd_data_mode(CONV_BWD_DATA_AUTO);
            const bool as_fwd = conv_dnnl_bwd_data_as_forward(&g, bf16);
            const bool want = !bf16 && stride_one(&cases[i]) && !strstr(direct, "brg") && strstr(fwd, "brg");
            EXPECT(as_fwd == want, "%s %s: auto runs %s; backward-data kernel %s, flipped forward %s", cases[i].name,
                   bf16 ? "bf16" : "f32", as_fwd ? "the forward conv" : "backward-data", direct, fwd);
            if (i < 3 || i == 5)
                printf("  %-20s %-4s backward-data %-26s flipped forward %-26s auto: %s\n", cases[i].name,
                       bf16 ? "bf16" : "f32", direct, fwd, as_fwd ? "forward" : "direct");
        }
    }
    conv_set_algorithm(CONV_ALGO_AUTO);
}

TEST(test_conv_bwd_flip_auto_follows_the_kernels) {
    printf("  oneDNN ISA %s\n", dnnl_isa_name());
    check_auto_rule();
}

/* the same under oneDNN held to AVX2 (a child: the ISA is fixed at oneDNN's first call): no brgemm kernels
   there, so auto stays direct, and forced forward still matches */
TEST(test_conv_bwd_flip_avx2) {
    if (!getenv("ONEDNN_MAX_CPU_ISA")) {
        test_run_self("ONEDNN_MAX_CPU_ISA=AVX2", "test_conv_bwd_flip_avx2", "the AVX2 child");
        return;
    }
    printf("  oneDNN ISA %s\n", dnnl_isa_name());
    check_auto_rule();
    check_modes(DTYPE_F32, 3e-6);
}

static void parse_bad(void *value) { conv_bwd_data_mode_parse(value); }

TEST(test_conv_bwd_data_mode_bad_value_is_fatal) {
    EXPECT(conv_bwd_data_mode_parse(NULL) == CONV_BWD_DATA_AUTO && conv_bwd_data_mode_parse("") == CONV_BWD_DATA_AUTO &&
               conv_bwd_data_mode_parse("auto") == CONV_BWD_DATA_AUTO &&
               conv_bwd_data_mode_parse("direct") == CONV_BWD_DATA_DIRECT &&
               conv_bwd_data_mode_parse("forward") == CONV_BWD_DATA_FORWARD,
           "VAEC_CONV_BWD_DATA's values are not read as their modes");
    EXPECT(test_expect_fatal(parse_bad, "flipped", "VAEC_CONV_BWD_DATA=flipped is not a backward-data mode"),
           "a bad VAEC_CONV_BWD_DATA value does not stop with its name");
    EXPECT(test_expect_fatal(parse_bad, "Forward", "use auto (the default"), "the error gives no hint of the values");
}
