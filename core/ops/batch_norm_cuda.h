/* batch_norm_cuda.h: CUDA kernels of BatchNorm (batch_norm.cu), device pointers; the same contract as
 * batch_norm_forward_cpu / batch_norm_backward_cpu. Per-channel sums run over a partition of the M rows
 * fixed by the shape (P parts of 8 rows x 32 channels a block, in double), then the parts are added in
 * order by one thread a channel: results repeat bit for bit. Built only with CUDA. */
#ifndef VAEC_OPS_BATCH_NORM_CUDA_H
#define VAEC_OPS_BATCH_NORM_CUDA_H
#include <stdbool.h>
#include <stdint.h>

void batch_norm_forward_cuda(const float *x, const float *weight, const float *bias, float *y, float *stats,
                             float *running_mean, float *running_var, int64_t M, int64_t C, bool training,
                             float momentum, float eps);
void batch_norm_backward_cuda(const float *x, const float *weight, const float *stats, const float *gy, float *gx,
                              float *gw, float *gb, int64_t M, int64_t C, bool training);

#endif
