// attention.cu: softmax(q k^T * scale) v on the GPU (see attention_cuda.h): the products are
// strided-batched cuBLAS GEMMs over the N items (linalg_cuda.h); the row softmax and its backward are the
// softmax op's kernels (softmax.cu: the CPU's formulas, fixed-tree block sums), run in place on P / dP.
#include "core/cuda_util.cuh"   // defines: vaec_stream
extern "C" {
#include "core/ops/attention_cuda.h"
#include "core/ops/linalg_cuda.h"    // defines: gemm_rm_cuda
#include "core/ops/softmax_cuda.h"   // defines: softmax_forward_cuda, softmax_backward_cuda
}

extern "C" void attention_forward_cuda(const float *q, const float *k, const float *v, float *out, float *P,
                                       int64_t N, int64_t Lq, int64_t Lk, int64_t C, float scale) {
    if (N * Lq == 0) return;
    const int64_t sq = Lq * C, sk = Lk * C, sp = Lq * Lk;
    gemm_rm_cuda(false, true, Lq, Lk, C, scale, q, C, sq, k, C, sk, 0.0f, P, Lk, sp, N);   // S = scale q k^T
    softmax_forward_cuda(P, P, N * Lq, Lk);   // in place: each thread reads, then writes, its own elements
    gemm_rm_cuda(false, false, Lq, C, Lk, 1.0f, P, Lk, sp, v, C, sk, 0.0f, out, C, sq, N);  // out = P v
}

extern "C" void attention_backward_cuda(const float *q, const float *k, const float *v, const float *P,
                                        const float *gout, float *dq, float *dk, float *dv, float *work, int64_t N,
                                        int64_t Lq, int64_t Lk, int64_t C, float scale) {
    const int64_t sq = Lq * C, sk = Lk * C, sp = Lq * Lk;
    if (dv) gemm_rm_cuda(true, false, Lk, C, Lq, 1.0f, P, Lk, sp, gout, C, sq, 0.0f, dv, C, sk, N);   // P^T gout
    if (!dq && !dk) return;
    gemm_rm_cuda(false, true, Lq, Lk, C, 1.0f, gout, C, sq, v, C, sk, 0.0f, work, Lk, sp, N);          // dP = gout v^T
    softmax_backward_cuda(P, work, work, N * Lq, Lk);                                                 // dS, in place
    if (dq) gemm_rm_cuda(false, false, Lq, C, Lk, scale, work, Lk, sp, k, C, sk, 0.0f, dq, C, sq, N);  // scale dS k
    if (dk) gemm_rm_cuda(true, false, Lk, C, Lq, scale, work, Lk, sp, q, C, sq, 0.0f, dk, C, sk, N);   // scale dS^T q
}
