/* silu_cuda.h: CUDA kernels of SiLU (silu.cu), device pointers. Built only with CUDA. */
#ifndef VAEC_OPS_SILU_CUDA_H
#define VAEC_OPS_SILU_CUDA_H
#include <stdint.h>

void silu_forward_cuda(const float *x, float *y, int64_t n);
void silu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n);

#endif
