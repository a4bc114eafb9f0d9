/* shape_cuda.h: the CUDA permute (shape.cu); the arguments of permute_cpu, on device pointers.
 * Reshape needs no kernel (a view) and depth_to_time is reshape + permute. Built only with CUDA. */
#ifndef VAEC_OPS_SHAPE_CUDA_H
#define VAEC_OPS_SHAPE_CUDA_H
#include <stdint.h>

void permute_cuda(const float *x, const int64_t *shape, int ndim, const int *perm, float *y);

#endif
