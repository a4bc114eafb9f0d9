/* gemm_avx2.h: a small single-threaded SGEMM for CPU ops that lay out one operand themselves (the
 * Winograd convolution's 16 products): AVX2 + FMA, nothing packed but B.
 *
 *   gemm_avx2_usable()                  -> this CPU has AVX2 and FMA (checked once)
 *   gemm_avx2_packed_index(K, k, n)     -> where B(k, n) (K x N) lives in the packed layout: blocks of
 *                                          16 columns, k-major inside a block
 *   gemm_avx2(M, N, K, a, lda, bp, c, ldc)
 *                                       -> C (M x N) = A (M x K, row-major, lda) B (packed); N a multiple
 *                                          of 16; C overwritten
 *
 * The kernel keeps 6 rows x 16 columns of C in 12 registers and broadcasts A's elements straight from
 * A's rows, so A needs no packing; K runs in blocks of 256 so one block of B (16 KiB) stays in L1. Each
 * element of C is summed in the same order (k ascending, FMA) whatever M, the row block or the thread:
 * results do not depend on how callers split the rows. (Tried for attention, q k^T and P v at L 1024: A's
 * rows 2-4 KiB apart made it slower than OpenBLAS there, 22 against 18-20 ms.) */
#ifndef VAEC_OPS_GEMM_AVX2_H
#define VAEC_OPS_GEMM_AVX2_H
#include <stdbool.h>
#include <stdint.h>

bool gemm_avx2_usable(void);

static inline int64_t gemm_avx2_packed_index(int64_t K, int64_t k, int64_t n) {
    return ((n >> 4) * K + k) * 16 + (n & 15);
}

void gemm_avx2(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *bp, float *c, int64_t ldc);

#endif
