/* bf16_cpu.h: what the CPU's bf16 kernels (convolutions, GEMMs) share: which path runs, and the
 * conversions of whole arrays.
 *
 *   if (bf16_cpu_native()) ...oneDNN with bf16 memory...   // AVX-512 CPUs: fast bf16 kernels
 *   else { widen to f32, run the f32 kernel, round back }  // elsewhere: correct, slow
 *
 * oneDNN 2.6 has bf16 convolution and matmul kernels from avx512_core up (AVX512-BF16 and AMX run them in
 * hardware, plain AVX-512 emulates the bf16 products); below that (AVX2) it has only reference kernels,
 * orders of magnitude slower. There, and under VAEC_CPU_BACKEND=own, the bf16 ops widen their operands to
 * float32, run the float32 kernel and round the result to bf16: the same arithmetic (bf16 inputs are
 * exact in float32, accumulation is float32 in both), at float32 speed plus the conversions. */
#ifndef VAEC_CPU_BF16_CPU_H
#define VAEC_CPU_BF16_CPU_H
#include <stdbool.h>
#include <stdint.h>
#include "core/mem.h"   // defines: mem_block

/* whether the bf16 ops run oneDNN's bf16 kernels here: the oneDNN backend on a CPU with avx512_core */
bool bf16_cpu_native(void);
/* test hook: force the widen / float32 / round path on any CPU (false restores the choice above) */
void bf16_cpu_force_fallback(bool on);

/* dst[i] = bf16 of src[i], rounded to nearest even (core/bf16.h) */
void bf16_round_array(const float *src, uint16_t *dst, int64_t n);
/* dst[i] = src[i] as float32 (exact) */
void bf16_widen_array(const uint16_t *src, float *dst, int64_t n);
/* a float32 copy of n bf16 values, in workspace memory from vaec's allocator (the caller releases it) */
mem_block *bf16_widened(const void *src, int64_t n);
/* a bf16 copy of n float32 values, likewise */
mem_block *bf16_rounded(const float *src, int64_t n);
/* room for n float32 values (a result before it is rounded), likewise */
mem_block *bf16_f32_scratch(int64_t n);

#endif
