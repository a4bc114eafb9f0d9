/* bf16_cpu.h: what the CPU's bf16 kernels (convolutions, GEMMs) share: which path each kernel class runs,
 * and the conversions of whole arrays.
 *
 *   if (bf16_cpu_native_for(BF16_CONV_FWD)) ...oneDNN with bf16 memory...   // where it measured faster
 *   else { widen to f32, run the f32 kernel, round back }                   // the same arithmetic
 *
 * Two paths compute a bf16 product: oneDNN's bf16 kernels ("native"), or the operands widened to float32,
 * the float32 kernel, the result rounded to bf16 ("widened"). They are the same arithmetic (bf16 inputs
 * are exact in float32, both accumulate in float32), so the faster one is taken. oneDNN 2.6 has bf16
 * kernels from avx512_core up; below that (AVX2), and under VAEC_CPU_BACKEND=own, only reference loops,
 * orders of magnitude slower: there the ops are widened without asking. From avx512_core up which is
 * faster depends on the chip: AMX and fast vdpbf16ps (Zen 4/5) run the bf16 kernels faster than float32,
 * some AVX512-BF16 VMs at a third to half the float32 rate. So on the first bf16 use the process times a
 * small problem of each kernel class both ways on one thread (bf16_probe.c, ~0.1 s in all) and takes native only
 * where it is clearly faster (BF16_NATIVE_MARGIN). VAEC_BF16_KERNELS=auto|native|widened sets it for a
 * run (native still means widened below avx512_core: there is no fast kernel to force). */
#ifndef VAEC_CPU_BF16_CPU_H
#define VAEC_CPU_BF16_CPU_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/cpu/bf16_convert.h"   // defines: bf16_operand, bf16_widened, ... (the conversions)
#include "core/cpu/bf16_probe.h"     // defines: bf16_kernel_class, bf16_probe_result
#include "core/ops/conv.h"           // defines: conv_geom

typedef enum { BF16_KERNELS_AUTO, BF16_KERNELS_NATIVE, BF16_KERNELS_WIDENED } bf16_kernels_mode;


/* whether class k runs oneDNN's bf16 kernels now: the forced mode, else VAEC_BF16_KERNELS, else the probe
   (run once per process on the first call; thread-safe) */
bool bf16_cpu_native_for(bf16_kernel_class k);
/* the floor: oneDNN's bf16 kernels exist here (the oneDNN backend, effective ISA with avx512_core) */
bool bf16_cpu_native_available(void);
/* the mode in force: the forced one, else VAEC_BF16_KERNELS (checked: a bad value is a fatal error) */
bf16_kernels_mode bf16_cpu_mode(void);
/* test hooks: force a mode in-process (BF16_KERNELS_AUTO restores VAEC_BF16_KERNELS and the probe);
   bf16_cpu_force_fallback(true) is bf16_cpu_force(BF16_KERNELS_WIDENED), false is AUTO */
void bf16_cpu_force(bf16_kernels_mode m);
void bf16_cpu_force_fallback(bool on);

/* the probe's result (bf16_probe.h), running it first if it has not run (whatever the mode: for reports and
   tests) */
const bf16_probe_result *bf16_cpu_probe(void);
/* "conv fwd", "conv bwd data", "conv bwd weights", "gemm" */
const char *bf16_kernel_class_name(bf16_kernel_class k);
/* one line for logs: the choice per class and why, e.g. "widened (measured: conv fwd 3.1 ms bf16 vs 1.9 ms
   widened, ...)", "widened (VAEC_BF16_KERNELS=widened)", "widened (no oneDNN bf16 kernels: AVX2)" */
void bf16_cpu_describe(char *buf, size_t size);
/* whether any class runs natively now */
bool bf16_cpu_any_native(void);

/* the bf16 convolution and GEMM on the CPU, each pass on the path chosen for its class (the two paths:
 * conv_forward_bf16_path / conv_backward_bf16_path of cpu.h, gemm_bf16_path of gemm_bf16.h, same arguments).
 * bf16 x, w, b -> bf16 y (float32 accumulation); gradients float32 from the float32 output gradient gy, which
 * is rounded to bf16 for the products as on CUDA (the bias gradient sums gy itself). w and b are bf16, or
 * autocast's float32 master weights rounded for the products; b.data NULL: no bias. gemm_bf16: C_i =
 * op(A_i) op(B_i) in float32 from bf16 operands (gemm_bf16.h). */
void conv_forward_bf16_cpu(const conv_geom *g, const uint16_t *x, bf16_operand w, bf16_operand b, uint16_t *y);
void conv_backward_bf16_cpu(const conv_geom *g, const uint16_t *x, bf16_operand w, const float *gy, float *gx,
                            float *gw, float *gb);
void gemm_bf16(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
               int64_t sa, const uint16_t *b, int64_t ldb, int64_t sb, float *c, int64_t ldc, int64_t sc);

#endif
