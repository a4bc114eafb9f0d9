/* attention_cuda.h: the fused single-head attention on the GPU (attention.cu): the CUDA twins of
 * attention_forward_cpu / attention_backward_cpu, same arguments, except that the backward's work buffer
 * holds all N batch items (N*Lq*Lk floats) so each GEMM runs once, batched. Device pointers, fp32.
 * Built only with CUDA. */
#ifndef VAEC_OPS_ATTENTION_CUDA_H
#define VAEC_OPS_ATTENTION_CUDA_H
#include <stdint.h>

void attention_forward_cuda(const float *q, const float *k, const float *v, float *out, float *P, int64_t N,
                            int64_t Lq, int64_t Lk, int64_t C, float scale);
/* dq, dk, dv may be NULL (not needed); work: N*Lq*Lk floats */
void attention_backward_cuda(const float *q, const float *k, const float *v, const float *P, const float *gout,
                             float *dq, float *dk, float *dv, float *work, int64_t N, int64_t Lq, int64_t Lk,
                             int64_t C, float scale);

#endif
