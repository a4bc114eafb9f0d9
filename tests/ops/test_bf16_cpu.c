/* test_bf16_cpu.c: conv2d, conv3d, matmul and linear with bf16 operands on the CPU, each against the same op in
 * float32 on the same bf16-rounded inputs: the output and every gradient. Shapes: Cin 3 (conv_in), stride 2
 * with Downsample2D's (0,1,0,1) pad, CausalConv3d's front time pad with time stride 1 and 2, 1x1x1 with and
 * without bias, batched matmul with each transpose pair, linear on a 3-D input with and without bias.
 *
 * Tolerances (max|bf16 - fp32| / max|fp32|), from bf16's 8 significant bits (unit roundoff 2^-8):
 *   output (bf16)                       2^-8 + 1e-5: one rounding to bf16 (at most 2^-8 of each value) plus
 *                                       float32 summation-order noise
 *   gradients, bf16-exact gy            1e-5: the bf16 products are exact in float32 and accumulate in float32,
 *                                       so only the order of the float32 sums differs
 *   gradients, any float32 gy           1e-2: gy is rounded to bf16 for the products (as on CUDA), so each
 *                                       product is off by at most 2^-8; bias gradients sum gy itself: 1e-5
 * Both CPU paths (oneDNN's bf16 kernels; widen + float32 kernel + round), each forced, agree within 1e-5 on
 * the gradients and one bf16 unit in the last place (2^-7) on the output: a float32 sum in another order may
 * round to the neighbouring bf16 value. The choice between them (core/cpu/bf16_cpu.h): the floor (no
 * avx512_core, VAEC_CPU_BACKEND=own: widened, even under VAEC_BF16_KERNELS=native, checked in a child with
 * oneDNN held to AVX2), the forced modes, and the probe's per-class decision, which follows its own
 * times, is made once per process even when threads ask together, and is reported. Mixed dtypes fail with
 * a message naming them. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_backward_with_grad
#include "core/autocast.h"             // defines: autocast_set
#include "core/cpu/bf16_cpu.h"         // defines: bf16_cpu_native_for, bf16_cpu_force, bf16_cpu_probe
#include "core/cpu/cpu.h"              // defines: conv_dnnl_impl_name
#include "core/cpu/dnnl_util.h"        // defines: dnnl_isa_name
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d, op_matmul, op_linear
#include "core/rng.h"                  // defines: rng_seed, rng_fill_normal
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/gradcheck.h"   // defines: gc_input, rel_error, gc_take_input_grads
#include "tests/harness/test.h"

#define TOL_OUT (1.0 / 256 + 1e-5)   /* 2^-8 + float32 noise */
#define TOL_ULP (1.0 / 128)          /* one bf16 unit in the last place */
#define TOL_GRAD_EXACT 1e-5
#define TOL_GRAD_ROUNDED 1e-2

static const conv_case conv_cases[] = {
    {"conv_in_rgb", 2, {2, 12, 10, 3}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"res_3x3", 2, {1, 10, 9, 32}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"downsample", 2, {2, 12, 9, 16}, 16, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"causal_3x3x3", 3, {2, 5, 6, 6, 16}, 32, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 0},
    {"causal_ts2", 3, {1, 9, 6, 6, 16}, 16, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"temporal_1x1x1", 3, {2, 3, 4, 5, 24}, 8, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"temporal_1x1x1_bias", 3, {1, 4, 4, 4, 8}, 8, {1, 1, 1}, {1, 1, 1}, {0}, 1},
};
#define N_CONV (int)(sizeof conv_cases / sizeof *conv_cases)

/* ---- matmul and linear closures ---- */
typedef struct { bool ta, tb; } mm_flags;
static tensor *mm_fn(void *ctx, tensor **in) {
    const mm_flags *f = ctx;
    return op_matmul(in[0], in[1], f->ta, f->tb);
}
static tensor *linear_fn(void *ctx, tensor **in) { return op_linear(in[0], in[1], in[2]); }
static tensor *linear_nobias_fn(void *ctx, tensor **in) { return op_linear(in[0], in[1], NULL); }

typedef struct {
    const char *name;
    gc_fn f;
    mm_flags flags;
    int n;
    int64_t shape[3][3];   /* each input's shape; rank from ndim */
    int ndim[3];
} mm_case;

static const mm_case mm_cases[] = {
    {"matmul_2d", mm_fn, {false, false}, 2, {{33, 70}, {70, 17}}, {2, 2}},
    {"matmul_nn", mm_fn, {false, false}, 2, {{3, 33, 70}, {3, 70, 17}}, {3, 3}},
    {"matmul_tn", mm_fn, {true, false}, 2, {{3, 70, 33}, {3, 70, 17}}, {3, 3}},
    {"matmul_nt", mm_fn, {false, true}, 2, {{3, 33, 70}, {3, 17, 70}}, {3, 3}},
    {"matmul_tt", mm_fn, {true, true}, 2, {{3, 70, 33}, {3, 17, 70}}, {3, 3}},
    {"linear_bias", linear_fn, {false, false}, 3, {{2, 150, 64}, {96, 64}, {96}}, {3, 2, 1}},
    {"linear_nobias", linear_nobias_fn, {false, false}, 2, {{2, 150, 64}, {96, 64}}, {3, 2}},
};
#define N_MM (int)(sizeof mm_cases / sizeof *mm_cases)

/* t rounded through bf16, back in float32 (a leaf without grad) */
static tensor *bf16_exact(const tensor *t) {
    tensor *h = tensor_to_dtype(t, DTYPE_BF16), *f = tensor_to_dtype(h, DTYPE_F32);
    tensor_release(h);
    return f;
}

/* the inputs of case i (conv_cases first, then mm_cases), rounded to bf16-exact float32; returns the count */
static int case_inputs(int i, tensor **in) {
    tensor *raw[3] = {NULL, NULL, NULL};
    int n;
    if (i < N_CONV) {
        conv_case_inputs(&conv_cases[i], 900 + 3 * i, 0.2f, raw);
        n = conv_cases[i].bias ? 3 : 2;
    } else {
        const mm_case *c = &mm_cases[i - N_CONV];
        n = c->n;
        for (int j = 0; j < n; j++) raw[j] = gc_input_scaled(c->ndim[j], c->shape[j], 40 + 3 * i + j, j == 1 ? 0.2f : 1.0f);
    }
    for (int j = 0; j < 3; j++) {
        in[j] = j < n ? bf16_exact(raw[j]) : NULL;
        tensor_release(raw[j]);
    }
    return n;
}

static const char *case_name(int i) { return i < N_CONV ? conv_cases[i].name : mm_cases[i - N_CONV].name; }

static tensor *case_run(int i, tensor **in) {
    if (i < N_CONV) return conv_case_fn((void *)&conv_cases[i], in);
    const mm_case *c = &mm_cases[i - N_CONV];
    return c->f((void *)&c->flags, in);
}

/* Runs case i in dtype dt on copies of in, backward with the float32 gradient gy (made on the first call
   from a seed: bf16-exact or not); out[0] = the output as float32, out[1..n] = the gradients (float32). */
static void run_case(int i, tensor **in, int n, dtype_t dt, bool gy_exact, tensor **gy, tensor *out[4]) {
    tensor *x[3] = {NULL, NULL, NULL};
    for (int j = 0; j < n; j++) {
        x[j] = dt == DTYPE_F32 ? tensor_clone(in[j]) : tensor_to_dtype(in[j], dt);
        x[j]->requires_grad = true;
    }
    tensor_scope_begin();
    tensor *y = case_run(i, x);
    EXPECT(y->dtype == dt, "%s: a %s op returned %s", case_name(i), dtype_name(dt), dtype_name(y->dtype));
    out[0] = tensor_to_dtype(y, DTYPE_F32);
    if (!*gy) {
        tensor *r = tensor_empty(y->ndim, y->shape);
        rng_state s = rng_seed(5000 + i);
        rng_fill_normal(&s, tensor_f32(r), r->numel, 0.0f, 1.0f);
        *gy = gy_exact ? bf16_exact(r) : tensor_clone(r);
        tensor_release(r);
    }
    ag_backward_with_grad(y, *gy);
    tensor_scope_end(NULL);
    gc_take_input_grads(x, 3, out + 1, case_name(i));
}

static void release4(tensor *t[4]) {
    for (int k = 0; k < 4; k++) tensor_release(t[k]);
}

/* the bf16 op against the float32 op on every case; gy_exact picks the gradient tolerance (see the top) */
static void check_against_f32(bool gy_exact, const char *tag) {
    for (int i = 0; i < N_CONV + N_MM; i++) {
        tensor *in[3], *gy = NULL, *ref[4], *got[4];
        int n = case_inputs(i, in);
        run_case(i, in, n, DTYPE_F32, gy_exact, &gy, ref);
        run_case(i, in, n, DTYPE_BF16, gy_exact, &gy, got);
        const bool has_bias = (i < N_CONV && conv_cases[i].bias) || (i >= N_CONV && mm_cases[i - N_CONV].f == linear_fn);
        printf("  %-20s %-9s", case_name(i), tag);
        for (int k = 0; k <= n; k++) {
            const bool bias = has_bias && k == 3;
            const double tol = k == 0 ? TOL_OUT : gy_exact || bias ? TOL_GRAD_EXACT : TOL_GRAD_ROUNDED;
            double err = rel_error(got[k], ref[k]);
            static const char *what[4] = {"y", "gx/ga", "gw/gb", "gbias"};
            EXPECT(err <= tol, "%s: %s differs from float32 by %.3g of its max (tolerance %.3g)", case_name(i),
                   what[k], err, tol);
            printf(" %s %.2e", what[k], err);
        }
        printf("\n");
        release4(ref), release4(got);
        tensor_release(gy);
        for (int j = 0; j < n; j++) tensor_release(in[j]);
    }
}

TEST(test_bf16_cpu_ops_match_f32_exact_grad) {
    char what[768];
    bf16_cpu_describe(what, sizeof what);
    printf("  bf16 on the CPU (oneDNN ISA %s): %s\n", dnnl_isa_name(), what);
    check_against_f32(true, "gy exact");
}

TEST(test_bf16_cpu_ops_match_f32_rounded_grad) { check_against_f32(false, "gy f32"); }

/* the widened path (widen, float32 kernel, round) against oneDNN's bf16 kernels, each forced: the same
   arithmetic. Where the CPU has no oneDNN bf16 kernels "native" is widened too (the floor), checked here. */
TEST(test_bf16_cpu_widened_matches_native) {
    const bool have = bf16_cpu_native_available();
    printf("  oneDNN ISA %s: %s\n", dnnl_isa_name(), have ? "both paths" : "no oneDNN bf16 kernels: native is widened too");
    for (int i = 0; i < N_CONV + N_MM; i++) {
        tensor *in[3], *gy = NULL, *nat[4], *wide[4];
        int n = case_inputs(i, in);
        bf16_cpu_force(BF16_KERNELS_NATIVE);
        for (int k = 0; k < BF16_KERNEL_CLASSES; k++)
            EXPECT(bf16_cpu_native_for((bf16_kernel_class)k) == have, "forced native: %s takes the %s path",
                   bf16_kernel_class_name((bf16_kernel_class)k), have ? "widened" : "native");
        run_case(i, in, n, DTYPE_BF16, false, &gy, nat);
        bf16_cpu_force(BF16_KERNELS_WIDENED);
        EXPECT(!bf16_cpu_any_native(), "bf16_cpu_force(BF16_KERNELS_WIDENED) left a oneDNN bf16 path on");
        run_case(i, in, n, DTYPE_BF16, false, &gy, wide);
        bf16_cpu_force(BF16_KERNELS_AUTO);
        printf("  %-20s widened vs native:", case_name(i));
        for (int k = 0; k <= n; k++) {
            /* y: a float32 sum in another order can land on the other side of a bf16 rounding boundary */
            const double tol = k == 0 ? TOL_ULP : TOL_GRAD_EXACT, err = rel_error(wide[k], nat[k]);
            EXPECT(err <= tol, "%s: result %d of the widened path differs from the native bf16 path by %.3g (tolerance %.3g)",
                   case_name(i), k, err, tol);
            printf(" %.2e", err);
        }
        printf("\n");
        release4(nat), release4(wide);
        tensor_release(gy);
        for (int j = 0; j < n; j++) tensor_release(in[j]);
    }
    bf16_cpu_force_fallback(true);   /* the old hook is the widened mode */
    EXPECT(!bf16_cpu_any_native() && bf16_cpu_mode() == BF16_KERNELS_WIDENED, "bf16_cpu_force_fallback(true) is not widened");
    bf16_cpu_force_fallback(false);
    EXPECT(bf16_cpu_mode() != BF16_KERNELS_WIDENED || getenv("VAEC_BF16_KERNELS"), "bf16_cpu_force_fallback(false) kept it");
}

/* under autocast the CPU's bf16 conv takes the float32 master weights and bias and rounds them itself (native:
   into a bf16 copy; widened: rounded and widened in one pass): both paths again, on unrounded float32 inputs */
TEST(test_bf16_cpu_autocast_conv_widened_matches_native) {
    const int picks[] = {1, 4};   /* res_3x3 and causal_ts2, both with a bias */
    for (int p = 0; p < 2; p++) {
        const conv_case *c = &conv_cases[picks[p]];
        tensor *raw[3] = {NULL, NULL, NULL}, *out[2][4], *gy = NULL;
        conv_case_inputs(c, 700 + p, 0.2f, raw);
        for (int path = 0; path < 2; path++) {
            bf16_cpu_force(path ? BF16_KERNELS_WIDENED : BF16_KERNELS_NATIVE);
            tensor *x[3];
            for (int j = 0; j < 3; j++) {
                x[j] = tensor_clone(raw[j]);
                x[j]->requires_grad = true;
            }
            autocast_set(true);
            tensor_scope_begin();
            tensor *y = conv_case_fn((void *)c, x);
            EXPECT(y->dtype == DTYPE_BF16, "%s: autocast conv returned %s", c->name, dtype_name(y->dtype));
            out[path][0] = tensor_to_dtype(y, DTYPE_F32);
            if (!gy) {
                gy = tensor_empty(y->ndim, y->shape);
                rng_state s = rng_seed(77 + p);
                rng_fill_normal(&s, tensor_f32(gy), gy->numel, 0.0f, 1.0f);
            }
            ag_backward_with_grad(y, gy);
            tensor_scope_end(NULL);
            autocast_set(false);
            gc_take_input_grads(x, 3, out[path] + 1, c->name);
        }
        bf16_cpu_force(BF16_KERNELS_AUTO);
        printf("  %-20s autocast widened vs native:", c->name);
        for (int k = 0; k < 4; k++) {
            const double tol = k == 0 ? TOL_ULP : TOL_GRAD_EXACT, err = rel_error(out[1][k], out[0][k]);
            EXPECT(err <= tol, "%s: autocast result %d, widened against native: %.3g (tolerance %.3g)", c->name, k, err, tol);
            printf(" %.2e", err);
        }
        printf("\n");
        release4(out[0]), release4(out[1]);
        tensor_release(gy);
        for (int j = 0; j < 3; j++) tensor_release(raw[j]);
    }
}

/* the floor: oneDNN's bf16 kernels exactly where the CPU has avx512_core, and an optimised one, not its
   reference loops; VAEC_CPU_BACKEND=own (cpu_backend_set) widens every class, even forced native */
TEST(test_bf16_cpu_path_choice) {
    EXPECT(bf16_cpu_native_available() == dnnl_conv_preferred(), "the bf16 floor (%s) does not follow the CPU (%s)",
           bf16_cpu_native_available() ? "oneDNN" : "widened", dnnl_isa_name());
    cpu_backend_set(CPU_BACKEND_OWN);
    bf16_cpu_force(BF16_KERNELS_NATIVE);
    EXPECT(!bf16_cpu_native_available() && !bf16_cpu_any_native(), "VAEC_CPU_BACKEND=own still runs oneDNN's bf16 kernels");
    char what[768];
    bf16_cpu_describe(what, sizeof what);
    EXPECT(strstr(what, "widened") && strstr(what, "VAEC_CPU_BACKEND=own"), "the report under own: %s", what);
    bf16_cpu_force(BF16_KERNELS_AUTO);
    cpu_backend_set(CPU_BACKEND_AUTO);
    if (!bf16_cpu_native_available()) return;   /* checked above: this CPU has no oneDNN bf16 kernels to name */
    conv_geom g = {1, 1, 16, 16, 64, 64, 1, 3, 3, 1, 1, 1, {0, 0, 1, 1, 1, 1}, 1, 16, 16};
    for (int kind = 0; kind < 3; kind++) {
        const char *impl = conv_dnnl_impl_name(&g, kind, true);
        EXPECT(impl && strncmp(impl, "ref", 3) != 0, "oneDNN runs its reference bf16 conv (pass %d): %s", kind,
               impl ? impl : "(none)");
        printf("  oneDNN bf16 conv 64->64 3x3 pass %d: %s\n", kind, impl ? impl : "?");
    }
}

/* auto: each class follows the probe's own times (native only when below BF16_NATIVE_MARGIN of widened), the
   times are real (positive, finite), the probe is one and stays put, and the report names every class */
TEST(test_bf16_cpu_probe_decides_and_reports) {
    if (getenv("VAEC_BF16_KERNELS") && strcmp(getenv("VAEC_BF16_KERNELS"), "auto") != 0) {
        printf("  VAEC_BF16_KERNELS=%s set for this run: checking that it holds\n", getenv("VAEC_BF16_KERNELS"));
        const bool want = bf16_cpu_native_available() && !strcmp(getenv("VAEC_BF16_KERNELS"), "native");
        for (int k = 0; k < BF16_KERNEL_CLASSES; k++) EXPECT(bf16_cpu_native_for((bf16_kernel_class)k) == want, "class %d", k);
        return;
    }
    const bf16_probe_result *p = bf16_cpu_probe();
    EXPECT(p == bf16_cpu_probe(), "bf16_cpu_probe returned two results");
    char what[768];
    bf16_cpu_describe(what, sizeof what);
    printf("  %s\n", what);
    if (!bf16_cpu_native_available()) {
        EXPECT(!p->ran && !bf16_cpu_any_native() && strstr(what, "widened"), "no oneDNN bf16 kernels, yet: %s", what);
        return;
    }
    EXPECT(p->ran && p->threads >= 1, "the probe did not run on a CPU with oneDNN bf16 kernels");
    EXPECT(p->total_ms > 0 && p->total_ms < 2000, "the probe took %.0f ms (meant to be about 0.1 s)", p->total_ms);
    for (int k = 0; k < BF16_KERNEL_CLASSES; k++) {
        const bf16_kernel_class c = (bf16_kernel_class)k;
        EXPECT(p->native_ms[k] > 0 && p->native_ms[k] < 1e3 && p->widened_ms[k] > 0 && p->widened_ms[k] < 1e3,
               "%s: probe times %g / %g ms", bf16_kernel_class_name(c), p->native_ms[k], p->widened_ms[k]);
        EXPECT(p->native[k] == (p->native_ms[k] < BF16_NATIVE_MARGIN * p->widened_ms[k]),
               "%s: decided %s on %.2f ms bf16 against %.2f widened", bf16_kernel_class_name(c),
               p->native[k] ? "native" : "widened", p->native_ms[k], p->widened_ms[k]);
        for (int rep = 0; rep < 3; rep++)
            EXPECT(bf16_cpu_native_for(c) == p->native[k], "%s: the decision changed between calls", bf16_kernel_class_name(c));
        EXPECT(strstr(what, bf16_kernel_class_name(c)) != NULL, "the report does not name %s: %s", bf16_kernel_class_name(c), what);
    }
    /* a forced mode overrides the probe and gives it back unchanged */
    bf16_cpu_force(BF16_KERNELS_NATIVE);
    EXPECT(bf16_cpu_native_for(BF16_CONV_FWD) && bf16_cpu_native_for(BF16_GEMM), "forced native ignored");
    bf16_cpu_force(BF16_KERNELS_AUTO);
    for (int k = 0; k < BF16_KERNEL_CLASSES; k++)
        EXPECT(bf16_cpu_native_for((bf16_kernel_class)k) == p->native[k], "class %d: not the probe's decision after a force", k);
}

/* threads that ask at once, in a fresh process (a child: the probe has not run there), get one probe and one
   decision: pthread_once, and no thread reads a half-written result */
#define ASKERS 4
static void *ask_all(void *out) {
    bool *d = out;
    for (int k = 0; k < BF16_KERNEL_CLASSES; k++) d[k] = bf16_cpu_native_for((bf16_kernel_class)k);
    d[BF16_KERNEL_CLASSES] = bf16_cpu_probe()->ran;
    return NULL;
}

TEST(test_bf16_cpu_probe_once_across_threads) {
    if (!getenv("VAEC_BF16_PROBE_CHILD")) {
        test_run_self("VAEC_BF16_PROBE_CHILD=1 VAEC_BF16_KERNELS=auto", "test_bf16_cpu_probe_once_across_threads",
                      "the child (a fresh process: no probe yet)");
        return;
    }
    pthread_t th[ASKERS];
    bool got[ASKERS][BF16_KERNEL_CLASSES + 1];
    for (int i = 0; i < ASKERS; i++) EXPECT(pthread_create(&th[i], NULL, ask_all, got[i]) == 0, "pthread_create");
    for (int i = 0; i < ASKERS; i++) pthread_join(th[i], NULL);
    const bf16_probe_result *p = bf16_cpu_probe();
    for (int i = 0; i < ASKERS; i++)
        for (int k = 0; k < BF16_KERNEL_CLASSES; k++)
            EXPECT(got[i][k] == (bf16_cpu_native_available() && p->native[k]), "thread %d, class %d: %d against the probe's %d",
                   i, k, got[i][k], p->native[k]);
    for (int i = 0; i < ASKERS; i++) EXPECT(got[i][BF16_KERNEL_CLASSES] == p->ran, "thread %d saw the probe half done", i);
    printf("  %d threads, one probe (%.0f ms): %c%c%c%c\n", ASKERS, p->total_ms, "wn"[got[0][0]], "wn"[got[0][1]],
           "wn"[got[0][2]], "wn"[got[0][3]]);
}

/* With oneDNN held to AVX2 (a child process: the ISA is fixed at oneDNN's first call) the bf16 ops take the
   fallback by themselves and still match float32 */
TEST(test_bf16_cpu_avx2_takes_fallback) {
    if (!getenv("ONEDNN_MAX_CPU_ISA")) {
        /* VAEC_BF16_KERNELS=native too: the floor holds against it (there is no fast kernel to force) */
        test_run_self("ONEDNN_MAX_CPU_ISA=AVX2 VAEC_BF16_KERNELS=native", "test_bf16_cpu_avx2_takes_fallback", "the AVX2 child");
        return;
    }
    char what[768];
    bf16_cpu_describe(what, sizeof what);
    printf("  oneDNN ISA %s: bf16 %s\n", dnnl_isa_name(), what);
    if (strcmp(getenv("ONEDNN_MAX_CPU_ISA"), "AVX2") == 0) {
        EXPECT(!bf16_cpu_any_native(), "with oneDNN held to AVX2 (%s) the bf16 ops still take oneDNN's bf16 kernels",
               dnnl_isa_name());
        EXPECT(strstr(what, "need avx512_core") != NULL, "the report does not say why: %s", what);
    }
    const int picks[] = {0, 2, 4, N_CONV + 3, N_CONV + 5};
    for (int p = 0; p < 5; p++) {
        int i = picks[p];
        tensor *in[3], *gy = NULL, *ref[4], *got[4];
        int n = case_inputs(i, in);
        run_case(i, in, n, DTYPE_F32, true, &gy, ref);
        run_case(i, in, n, DTYPE_BF16, true, &gy, got);
        for (int k = 0; k <= n; k++) {
            const double tol = k == 0 ? TOL_OUT : TOL_GRAD_EXACT, err = rel_error(got[k], ref[k]);
            EXPECT(err <= tol, "%s (AVX2): result %d differs from float32 by %.3g (tolerance %.3g)", case_name(i), k, err,
                   tol);
        }
        release4(ref), release4(got);
        tensor_release(gy);
        for (int j = 0; j < n; j++) tensor_release(in[j]);
    }
}

/* ---- bad arguments ---- */
static tensor *bf16_zeros(int ndim, const int64_t *shape) {
    tensor *z = tensor_zeros(ndim, shape), *h = tensor_to_dtype(z, DTYPE_BF16);
    tensor_release(z);
    return h;
}

static void conv_mixed(void *ctx) {
    conv2d_args a = {{1, 1}, {1, 1, 1, 1}};
    op_conv2d(bf16_zeros(SHAPE(1, 4, 4, 3)), tensor_zeros(SHAPE(2, 3, 3, 3)), NULL, &a);
}
static void conv_mixed_bias(void *ctx) {
    conv3d_args a = {{1, 1, 1}, {0}};
    op_conv3d(bf16_zeros(SHAPE(1, 2, 4, 4, 3)), bf16_zeros(SHAPE(2, 1, 1, 1, 3)), tensor_zeros(SHAPE(2)), &a);
}
static void conv_f16(void *ctx) {
    conv2d_args a = {{1, 1}, {0}};
    tensor *x = tensor_to_dtype(tensor_zeros(SHAPE(1, 4, 4, 3)), DTYPE_F16);
    op_conv2d(x, tensor_to_dtype(tensor_zeros(SHAPE(2, 1, 1, 3)), DTYPE_F16), NULL, &a);
}
static void matmul_mixed(void *ctx) { op_matmul(bf16_zeros(SHAPE(2, 3)), tensor_zeros(SHAPE(3, 4)), false, false); }
static void linear_mixed_bias(void *ctx) {
    op_linear(bf16_zeros(SHAPE(2, 3)), bf16_zeros(SHAPE(4, 3)), tensor_zeros(SHAPE(4)));
}

TEST(test_bf16_cpu_mixed_dtypes_fail_naming_them) {
    EXPECT(test_expect_fatal(conv_mixed, NULL, "conv2d: x (1,4,4,3), w (2,3,3,3) must share one dtype, got x BF16, w F32"),
           "conv2d with bf16 x and float32 w must be refused, naming both");
    EXPECT(test_expect_fatal(conv_mixed_bias, NULL, "must share one dtype, got x BF16, w BF16, b F32"),
           "conv3d with a float32 bias on bf16 x, w must be refused, naming the three");
    EXPECT(test_expect_fatal(conv_f16, NULL, "conv2d: dtype F16 is not supported"), "f16 convs must be refused");
    EXPECT(test_expect_fatal(matmul_mixed, NULL, "matmul: operands (2,3) and (3,4) must share one dtype, got BF16 and F32"),
           "matmul with mixed dtypes must be refused, naming both");
    EXPECT(test_expect_fatal(linear_mixed_bias, NULL, "got BF16 and BF16 (bias F32)"),
           "linear with a float32 bias on bf16 operands must be refused");
}
