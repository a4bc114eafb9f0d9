/* leaky_relu_cuda.h: CUDA kernels of LeakyReLU (leaky_relu.cu), device pointers. Built only with CUDA. */
#ifndef VAEC_OPS_LEAKY_RELU_CUDA_H
#define VAEC_OPS_LEAKY_RELU_CUDA_H
#include <stdint.h>

void leaky_relu_forward_cuda(const float *x, float *y, int64_t n, float slope);
void leaky_relu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n, float slope);

#endif
