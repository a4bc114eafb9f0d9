/* gemm.h: row-major single-precision GEMM for the CPU ops, on the best library kernel for this CPU.
 *
 *   gemm_f32(false, true, m, n, k, 1.0f, a, k, b, k, 0.0f, c, n);   // c = a b^T
 *
 * C = alpha op(A) op(B) + beta C, op = transpose where ta/tb. It runs oneDNN's sgemm (AVX2, AVX-512 or
 * AMX kernels chosen at run time), or OpenBLAS's cblas_sgemm under VAEC_CPU_BACKEND=own. Inside an OpenMP
 * parallel region both run single-threaded on the calling thread. */
#ifndef VAEC_CPU_GEMM_H
#define VAEC_CPU_GEMM_H
#include <stdbool.h>
#include <stdint.h>

void gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

#endif
