/* softmax_cuda.h: CUDA kernels of softmax over the last dim (softmax.cu), one block per row; the same
 * arguments as the CPU kernels, on device pointers. Sums in double, fixed tree. Built only with CUDA. */
#ifndef VAEC_OPS_SOFTMAX_CUDA_H
#define VAEC_OPS_SOFTMAX_CUDA_H
#include <stdint.h>

void softmax_forward_cuda(const float *x, float *y, int64_t rows, int64_t D);
void softmax_backward_cuda(const float *y, const float *gy, float *gx, int64_t rows, int64_t D);

#endif
