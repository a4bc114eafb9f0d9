/* gemm_bf16.h: row-major batched GEMM with bf16 operands and a float32 result, for the bf16 matmul and linear
 * on the CPU: its two paths. gemm_bf16 (bf16_cpu.h), same arguments but the last, runs the one chosen.
 *
 *   gemm_bf16_path(false, true, 1, m, n, k, a, k, 0, b, k, 0, c, n, 0, native);   // c (float32) = a b^T
 *
 * C_i = op(A_i) op(B_i) for i < batch, A_i = a + i*sa (likewise B, C), op = transpose where ta/tb; C is
 * overwritten. Products of bf16 values accumulate in float32. native: one oneDNN matmul primitive for the
 * whole batch, cached per shape (avx512_core and up); else the operands are widened to float32 and gemm_f32
 * runs: the same arithmetic. */
#ifndef VAEC_CPU_GEMM_BF16_H
#define VAEC_CPU_GEMM_BF16_H
#include <stdbool.h>
#include <stdint.h>

void gemm_bf16_path(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                    int64_t sa, const uint16_t *b, int64_t ldb, int64_t sb, float *c, int64_t ldc, int64_t sc, bool native);

#endif
