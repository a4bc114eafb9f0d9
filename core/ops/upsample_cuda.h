/* upsample_cuda.h: CUDA kernels of nearest 2x upsampling (upsample.cu); the arguments of the CPU
 * kernels, on device pointers. The backward adds each input's four gradients in the CPU's order, so
 * both devices give the same bits. Built only with CUDA. */
#ifndef VAEC_OPS_UPSAMPLE_CUDA_H
#define VAEC_OPS_UPSAMPLE_CUDA_H
#include <stdint.h>

void upsample_nearest2x_forward_cuda(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t C);
void upsample_nearest2x_backward_cuda(const float *gy, float *gx, int64_t P, int64_t H, int64_t W, int64_t C);

#endif
