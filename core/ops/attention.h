/* attention.h: fused single-head scaled dot-product attention.
 *
 * q (N, Lq, C), k (N, Lk, C), v (N, Lk, C) -> out (N, Lq, C):
 *   P = softmax(q k^T * scale) over the Lk keys,   out = P v
 * as diffusers' mid-block attention over the H*W positions of a channels-last (N,H,W,C) image viewed as
 * (N, HW, C), with scale = 1/sqrt(C). One op, one autograd node; the probabilities P (N, Lq, Lk) are
 * saved for backward (never written out on the CPU when no gradient is needed). GEMMs go through gemm_f32 (CPU:
 * blocks of query rows, attention.c), or strided-batched cuBLAS
 * over all N items (CUDA, attention.cu).
 */
#ifndef VAEC_OPS_ATTENTION_H
#define VAEC_OPS_ATTENTION_H
#include "core/tensor.h"   // defines: tensor

tensor *op_attention(tensor *q, tensor *k, tensor *v, float scale);

/* P: (N, Lq, Lk) output, kept for backward; NULL: not needed (no gradient), the probabilities stay in a block-sized scratch */
void attention_forward_cpu(const float *q, const float *k, const float *v, float *out, float *P, int64_t N,
                           int64_t Lq, int64_t Lk, int64_t C, float scale);
/* dq, dk, dv may be NULL (not needed); work: Lq*Lk floats */
void attention_backward_cpu(const float *q, const float *k, const float *v, const float *P, const float *gout,
                            float *dq, float *dk, float *dv, float *work, int64_t N, int64_t Lq, int64_t Lk,
                            int64_t C, float scale);

#endif
