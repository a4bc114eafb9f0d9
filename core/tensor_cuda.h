/* tensor_cuda.h: the CUDA kernels behind tensor.c's in-place helpers (tensor_add_, tensor_fill), used by
 * gradient accumulation and parameter setup on the GPU. Built only with CUDA. */
#ifndef VAEC_TENSOR_CUDA_H
#define VAEC_TENSOR_CUDA_H
#include <stdint.h>

void tensor_add_cuda(float *dst, const float *src, int64_t n);   /* dst += src */
void tensor_fill_cuda(float *dst, float value, int64_t n);

#endif
