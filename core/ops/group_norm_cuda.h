/* group_norm_cuda.h: CUDA kernels of GroupNorm on channels-last tensors (group_norm.cu); the same
 * arguments as the CPU kernels in group_norm.h, on device pointers. Statistics are fp32 from double
 * sums: each (n, group) is cut into a fixed number of chunks (from the shape alone), each chunk summed by
 * one block with a fixed tree, the chunks then added in order: deterministic. Built only with CUDA. */
#ifndef VAEC_OPS_GROUP_NORM_CUDA_H
#define VAEC_OPS_GROUP_NORM_CUDA_H
#include <stdint.h>

void group_norm_forward_cuda(const float *x, const float *weight, const float *bias, float *y, float *stats,
                             int64_t N, int64_t S, int64_t C, int groups, float eps);
/* gx, gw, gb may be NULL (not needed) */
void group_norm_backward_cuda(const float *x, const float *weight, const float *stats, const float *gy,
                              float *gx, float *gw, float *gb, int64_t N, int64_t S, int64_t C, int groups);

#endif
