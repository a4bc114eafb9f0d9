/* linalg_cuda.h: the dense building blocks the CUDA matmul, linear, conv and attention share
 * (linalg_cuda.cu). Device pointers, fp32, all on the backend's stream. Built only with CUDA.
 *
 *   gemm_rm_cuda     row-major batched GEMM through cuBLAS (the operand swap: C^T = op(B)^T op(A)^T)
 *   bias_set_cuda    y[r, j] = b[j]   (a linear's output before the product accumulates into it)
 *   bias_add_cuda    y[r, j] += b[j]  (a conv's bias on its channels-last output)
 *   colsum_cuda      out[j] = sum_r g[r, j]: bias gradients; fixed-order double sums, so deterministic
 * bf16 twins (bf16 operands as raw 16-bit words, fp32 accumulation, tensor cores allowed):
 *   gemm_rm_bf16_cuda, bias_set_bf16_cuda, bias_add_bf16_cuda, f32_to_bf16_cuda, bf16_to_f32_cuda */
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

/* gemm_rm_cuda with bf16 A and B; C is bf16 when c_bf16, else fp32; accumulation in fp32 */
void gemm_rm_bf16_cuda(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const void *a, int64_t lda,
                       int64_t sa, const void *b, int64_t ldb, int64_t sb, float beta, void *c, bool c_bf16,
                       int64_t ldc, int64_t sc, int64_t batch);
void bias_set_bf16_cuda(void *y, const void *b, int64_t rows, int64_t cols);
void bias_add_bf16_cuda(void *y, const void *b, int64_t rows, int64_t cols);
void f32_to_bf16_cuda(const float *x, void *y, int64_t n);   /* round to nearest even, as tensor_to_dtype */
void bf16_to_f32_cuda(const void *x, float *y, int64_t n);

#endif
