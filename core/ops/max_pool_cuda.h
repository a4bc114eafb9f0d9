/* max_pool_cuda.h: CUDA kernels of 2x2 / stride-2 max pooling (max_pool.cu), channels-last, device pointers.
 * Built only with CUDA. */
#ifndef VAEC_OPS_MAX_POOL_CUDA_H
#define VAEC_OPS_MAX_POOL_CUDA_H
#include <stdint.h>

void max_pool2d_forward_cuda(const float *x, float *y, int64_t N, int64_t H, int64_t W, int64_t C);
/* gx is fully written (zeros where no window's maximum is) */
void max_pool2d_backward_cuda(const float *x, const float *gy, float *gx, int64_t N, int64_t H, int64_t W, int64_t C);

#endif
