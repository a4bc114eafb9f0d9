/* region_cuda.h: the CUDA box copy behind pad, slice and concat (region.cu); the arguments of
 * region_copy_cpu, on device pointers. Built only with CUDA. */
#ifndef VAEC_OPS_REGION_CUDA_H
#define VAEC_OPS_REGION_CUDA_H
#include <stdint.h>

void region_copy_cuda(const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                      const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);

#endif
