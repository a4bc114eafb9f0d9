/* test_conv_backends.c: every CPU conv path forced in turn (oneDNN, vaec's im2col, vaec's Winograd) and
 * compared with the others on the shapes both VAEs use: 2-D and 3-D, Cin 3 (conv_in), Downsample2D's
 * (0,1,0,1) pad with stride 2, CausalConv3d's front-only time pad with time stride 1 and 2, 1x1x1 with
 * and without bias, several frames in a batch; forward, input, weight and bias gradients. And oneDNN's
 * promise: the same bits run to run at one thread count. */
#include <omp.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/cpu/cpu.h"              // defines: conv_dnnl_impl_name
#include "core/cpu/dnnl_util.h"        // defines: dnnl_isa_name, dnnl_conv_preferred
#include "core/ops.h"
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/gradcheck.h"   // defines: rel_error
#include "tests/harness/test.h"

static const conv_case cases[] = {
    {"conv_in_rgb", 2, {2, 12, 10, 3}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"res_3x3", 2, {1, 14, 18, 32}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"downsample", 2, {2, 12, 9, 16}, 16, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"shortcut_1x1", 2, {1, 6, 7, 32}, 16, {1, 1, 1}, {1, 1, 1}, {0}, 1},
    {"causal_3x3x3", 3, {2, 5, 8, 6, 16}, 32, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 0},
    {"causal_ts2", 3, {1, 9, 6, 6, 16}, 16, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"causal_ts2_t8", 3, {1, 8, 4, 4, 8}, 16, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"temporal_1x1x1", 3, {2, 3, 4, 5, 24}, 8, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"temporal_1x1x1_bias", 3, {1, 4, 4, 4, 8}, 8, {1, 1, 1}, {1, 1, 1}, {0}, 1},
    {"kt1_3x3", 3, {1, 3, 7, 7, 16}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
};

static const conv_algo algos[] = {CONV_ALGO_DNNL, CONV_ALGO_IM2COL, CONV_ALGO_WINOGRAD};
static const char *algo_names[] = {"dnnl", "im2col", "winograd"};

/* output and every gradient (loss = sum(y * R) for a fixed R) of case c on one path */
static void run(const conv_case *c, conv_algo algo, int threads, tensor *out[4]) {
    tensor *in[3];
    conv_case_inputs(c, 31, 0.2f, in);
    const int saved = omp_get_max_threads();
    omp_set_num_threads(threads);
    conv_set_algorithm(algo);
    tensor_scope_begin();
    tensor *y = conv_case_fn((void *)c, in);
    out[0] = tensor_clone(y);
    tensor *r = gc_input(y->ndim, y->shape, 77);
    r->requires_grad = false;
    ag_backward(op_sum_all(op_mul(y, r)));
    tensor_release(r);
    tensor_scope_end(NULL);
    conv_set_algorithm(CONV_ALGO_AUTO);
    omp_set_num_threads(saved);
    for (int i = 0; i < 3; i++) {
        out[i + 1] = in[i] && in[i]->grad ? in[i]->grad : NULL;
        if (in[i]) in[i]->grad = NULL;
        tensor_release(in[i]);
    }
}

static void release4(tensor *t[4]) {
    for (int i = 0; i < 4; i++) tensor_release(t[i]);
}

TEST(test_conv_backends_agree) {
    printf("  oneDNN ISA on this CPU: %s; automatic conv choice: %s\n", dnnl_isa_name(),
           dnnl_conv_preferred() ? "oneDNN" : "vaec's own kernels");
    const char *what[4] = {"output", "input grad", "weight grad", "bias grad"};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        tensor *ref[4];
        run(c, CONV_ALGO_IM2COL, 2, ref);
        for (int a = 0; a < 3; a++) {
            if (algos[a] == CONV_ALGO_IM2COL) continue;
            tensor *got[4];
            run(c, algos[a], 2, got);
            for (int k = 0; k < 4; k++) {
                EXPECT(!ref[k] == !got[k], "%s %s: %s present on one path only", algo_names[a], c->name, what[k]);
                if (!ref[k] || !got[k]) continue;
                double err = rel_error(got[k], ref[k]);
                /* different summation orders (and Winograd's transforms): a few float32 roundings */
                EXPECT(err < 3e-6, "%s %s: %s differs from im2col by %.3g of its max", algo_names[a], c->name, what[k],
                       err);
                if (k == 0 || k == 2) printf("  %-8s %-20s %-11s %.2e\n", algo_names[a], c->name, what[k], err);
            }
            release4(got);
        }
        release4(ref);
    }
}

TEST(test_conv_backends_same_bits_run_to_run) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        tensor *a[4], *b[4];
        run(&cases[i], CONV_ALGO_DNNL, 2, a);
        run(&cases[i], CONV_ALGO_DNNL, 2, b);
        for (int k = 0; k < 4; k++)
            if (a[k])
                EXPECT(memcmp(a[k]->data, b[k]->data, (size_t)a[k]->numel * sizeof(float)) == 0,
                       "dnnl %s: result %d differs between two identical runs", cases[i].name, k);
        release4(a), release4(b);
    }
}

/* the automatic choice follows the CPU: oneDNN where it has AVX-512, vaec's kernels elsewhere, and
 * VAEC_CPU_BACKEND=own (cpu_backend_set) switches oneDNN off */
TEST(test_conv_backend_choice) {
    conv_geom g = {1, 1, 16, 16, 64, 64, 1, 3, 3, 1, 1, 1, {0, 0, 1, 1, 1, 1}, 1, 16, 16};
    EXPECT(conv_uses_dnnl(&g) == dnnl_conv_preferred(), "automatic conv choice does not follow the CPU (%s)",
           dnnl_isa_name());
    cpu_backend_set(CPU_BACKEND_OWN);
    EXPECT(!conv_uses_dnnl(&g), "VAEC_CPU_BACKEND=own still runs oneDNN convs");
    cpu_backend_set(CPU_BACKEND_AUTO);
    conv_set_algorithm(CONV_ALGO_DNNL);
    EXPECT(conv_uses_dnnl(&g), "forcing CONV_ALGO_DNNL does not run oneDNN");
    const char *impl = conv_dnnl_impl_name(&g, 0, false);
    EXPECT(impl && strncmp(impl, "ref", 3) != 0, "oneDNN runs its reference conv (%s): no optimised kernel for f32 nhwc",
           impl ? impl : "(none)");
    printf("  oneDNN conv 64->64 3x3 forward: %s\n", impl ? impl : "?");
    conv_set_algorithm(CONV_ALGO_AUTO);
}
