/* linalg_cuda.h: the dense building blocks the CUDA matmul, linear, conv and attention share
 * (linalg_cuda.cu). Device pointers, fp32, all on the backend's stream. Built only with CUDA.
 *
 *   gemm_rm_cuda     row-major batched GEMM through cuBLAS (the operand swap: C^T = op(B)^T op(A)^T)
 *   bias_set_cuda    y[r, j] = b[j]   (a linear's output before the product accumulates into it)
 *   bias_add_cuda    y[r, j] += b[j]  (a conv's bias on its channels-last output)
 *   colsum_cuda      out[j] = sum_r g[r, j]: bias gradients; fixed-order double sums, so deterministic */
#ifndef VAEC_OPS_LINALG_CUDA_H
#define VAEC_OPS_LINALG_CUDA_H
#include <stdbool.h>
#include <stdint.h>

/* C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i] for i < batch, row-major; op(A) is (m,k), op(B) (k,n).
 * lda, ldb, ldc: row strides of the matrices as stored; sa, sb, sc: element strides between batch items. */
void gemm_rm_cuda(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
                  int64_t sa, const float *b, int64_t ldb, int64_t sb, float beta, float *c, int64_t ldc, int64_t sc,
                  int64_t batch);
void bias_set_cuda(float *y, const float *b, int64_t rows, int64_t cols);
void bias_add_cuda(float *y, const float *b, int64_t rows, int64_t cols);
void colsum_cuda(const float *g, int64_t rows, int64_t cols, float *out);

#endif
