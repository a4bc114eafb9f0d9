/* bf16_cpu.c: the CPU's bf16 path choice per kernel class (mode, floor, the once-per-process probe) and the
 * bf16 conv and GEMM entry points that follow it (see bf16_cpu.h; the timing itself is bf16_probe.c, the two
 * paths conv_bf16_cpu.c and gemm_bf16.c). */
#include "core/cpu/bf16_cpu.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/bf16.h"            // defines: bf16_from_f32, bf16_to_f32
#include "core/check.h"           // defines: CHECK_HINT
#include "core/cpu/cpu.h"         // defines: conv_forward_bf16_path, conv_backward_bf16_path
#include "core/cpu/gemm_bf16.h"   // defines: gemm_bf16_path
#include "core/cpu/dnnl_util.h"   // defines: cpu_backend_use_dnnl, dnnl_conv_preferred

/* ---- the mode: a test's forced one, else VAEC_BF16_KERNELS ---- */

static _Atomic int forced_mode = BF16_KERNELS_AUTO;

void bf16_cpu_force(bf16_kernels_mode m) { atomic_store(&forced_mode, (int)m); }
void bf16_cpu_force_fallback(bool on) { bf16_cpu_force(on ? BF16_KERNELS_WIDENED : BF16_KERNELS_AUTO); }

static pthread_once_t env_once = PTHREAD_ONCE_INIT;
static bf16_kernels_mode env_mode;

static void read_env(void) {
    const char *e = getenv("VAEC_BF16_KERNELS");
    CHECK_HINT(!e || !*e || !strcmp(e, "auto") || !strcmp(e, "native") || !strcmp(e, "widened"),
               "use auto (the default: time both paths once and take the faster), native (oneDNN's bf16 kernels) or "
               "widened (float32 kernels on widened copies)",
               "VAEC_BF16_KERNELS=%s is not a bf16 kernel choice", e);
    env_mode = !e || !*e || !strcmp(e, "auto") ? BF16_KERNELS_AUTO
               : !strcmp(e, "native")          ? BF16_KERNELS_NATIVE
                                               : BF16_KERNELS_WIDENED;
}

bf16_kernels_mode bf16_cpu_mode(void) {
    bf16_kernels_mode f = (bf16_kernels_mode)atomic_load(&forced_mode);
    if (f != BF16_KERNELS_AUTO) return f;
    pthread_once(&env_once, read_env);
    return env_mode;
}

/* dnnl_conv_preferred() is exactly "the effective ISA includes avx512_core", the floor of oneDNN 2.6's
   bf16 kernels; ONEDNN_MAX_CPU_ISA=AVX2 lowers it for a run */
bool bf16_cpu_native_available(void) { return cpu_backend_use_dnnl() && dnnl_conv_preferred(); }

/* ---- the probe, once per process ---- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bf16_probe_result probe;
static void run_probe(void) {
    if (bf16_cpu_native_available()) bf16_probe_measure(&probe);
}

const bf16_probe_result *bf16_cpu_probe(void) {
    pthread_once(&probe_once, run_probe);
    return &probe;
}

bool bf16_cpu_native_for(bf16_kernel_class k) {
    bf16_kernels_mode m = bf16_cpu_mode();   /* first: a bad VAEC_BF16_KERNELS is named on every CPU */
    if (!bf16_cpu_native_available()) return false;
    switch (m) {
        case BF16_KERNELS_NATIVE: return true;
        case BF16_KERNELS_WIDENED: return false;
        default: return bf16_cpu_probe()->native[k];
    }
}

bool bf16_cpu_any_native(void) {
    for (int k = 0; k < BF16_KERNEL_CLASSES; k++)
        if (bf16_cpu_native_for((bf16_kernel_class)k)) return true;
    return false;
}

const char *bf16_kernel_class_name(bf16_kernel_class k) {
    static const char *names[BF16_KERNEL_CLASSES] = {"conv fwd", "conv bwd data", "conv bwd weights", "gemm"};
    return k >= 0 && k < BF16_KERNEL_CLASSES ? names[k] : "?";
}

void bf16_cpu_describe(char *buf, size_t size) {
    bf16_kernels_mode m = bf16_cpu_mode();
    if (!bf16_cpu_native_available()) {
        snprintf(buf, size, "widened to float32 kernels (no fast oneDNN bf16 kernels: %s)",
                 cpu_backend_use_dnnl() ? "they need avx512_core" : "VAEC_CPU_BACKEND=own");
        return;
    }
    const bool forced = atomic_load(&forced_mode) != BF16_KERNELS_AUTO;
    if (m != BF16_KERNELS_AUTO) {
        snprintf(buf, size, "%s (%s)", m == BF16_KERNELS_NATIVE ? "oneDNN's bf16 kernels" : "widened to float32 kernels",
                 forced ? "forced by a test" : m == BF16_KERNELS_NATIVE ? "VAEC_BF16_KERNELS=native"
                                                                       : "VAEC_BF16_KERNELS=widened");
        return;
    }
    const bf16_probe_result *p = bf16_cpu_probe();
    int n_native = 0;
    for (int k = 0; k < BF16_KERNEL_CLASSES; k++) n_native += p->native[k];
    const char *what = n_native == BF16_KERNEL_CLASSES ? "oneDNN's bf16 kernels"
                       : n_native == 0                 ? "widened to float32 kernels"
                                                       : "mixed";
    size_t len = (size_t)snprintf(buf, size, "%s, measured on one core (bf16 vs widened, best of the probe; %d threads "
                                  "run, load %.1f):", what, p->threads, p->load1);
    for (int k = 0; k < BF16_KERNEL_CLASSES && len < size; k++)
        len += (size_t)snprintf(buf + len, size - len, "%s %s %.2f vs %.2f ms -> %s", k ? ";" : "",
                                bf16_kernel_class_name((bf16_kernel_class)k), p->native_ms[k], p->widened_ms[k],
                                p->native[k] ? "bf16" : "widened");
    if (len < size) snprintf(buf + len, size - len, " (probe %.0f ms)", p->total_ms);
}

/* ---- the bf16 kernels, each pass on the path chosen for its class ---- */

void conv_forward_bf16_cpu(const conv_geom *g, const uint16_t *x, bf16_operand w, bf16_operand b, uint16_t *y) {
    conv_forward_bf16_path(g, x, w, b, y, bf16_cpu_native_for(BF16_CONV_FWD));
}

void conv_backward_bf16_cpu(const conv_geom *g, const uint16_t *x, bf16_operand w, const float *gy, float *gx,
                            float *gw, float *gb) {
    conv_backward_bf16_path(g, x, w, gy, gx, gw, gb, gx && bf16_cpu_native_for(BF16_CONV_BWD_DATA),
                            gw && bf16_cpu_native_for(BF16_CONV_BWD_WEIGHTS));
}

void gemm_bf16(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
               int64_t sa, const uint16_t *b, int64_t ldb, int64_t sb, float *c, int64_t ldc, int64_t sc) {
    gemm_bf16_path(ta, tb, batch, m, n, k, a, lda, sa, b, ldb, sb, c, ldc, sc, bf16_cpu_native_for(BF16_GEMM));
}
