/* relu_cuda.h: CUDA kernels of ReLU (relu.cu), device pointers. Built only with CUDA. */
#ifndef VAEC_OPS_RELU_CUDA_H
#define VAEC_OPS_RELU_CUDA_H
#include <stdint.h>

void relu_forward_cuda(const float *x, float *y, int64_t n);
void relu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n);

#endif
