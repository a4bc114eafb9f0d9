/* batch_norm.h: BatchNorm over channels-last tensors (PyTorch's nn.BatchNorm2d on (N,C,H,W)).
 *
 * x is (N, ..., C): the statistics of a channel span every other dim (N and all positions), M values.
 *   training: mean and biased variance of the batch normalise, y = (x - mean) / sqrt(var + eps) * w + b,
 *             and, when running_mean/running_var are given, they move in place (PyTorch's rule):
 *             running_mean = (1 - momentum) * running_mean + momentum * mean
 *             running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)   (unbiased)
 *             M must be at least 2, as in PyTorch.
 *   eval:     the running statistics normalise (both required); nothing changes.
 * weight and bias are (C) or NULL (1 and 0). Statistics accumulate in double over a partition fixed by
 * the shape, so results do not depend on the thread count. Backward gives dx (through the batch
 * statistics in training, through the fixed running ones in eval), dweight = sum gy * xhat, dbias = sum gy.
 * The running statistics are buffers: no gradient.
 */
#ifndef VAEC_OPS_BATCH_NORM_H
#define VAEC_OPS_BATCH_NORM_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

tensor *op_batch_norm(tensor *x, tensor *weight, tensor *bias, tensor *running_mean, tensor *running_var,
                      bool training, float momentum, float eps);

/* stats: (C, 2) floats, mean then rstd = 1/sqrt(var+eps) of what normalised (batch or running);
 * running_mean/var: updated in training when not NULL; read in eval */
void batch_norm_forward_cpu(const float *x, const float *weight, const float *bias, float *y, float *stats,
                            float *running_mean, float *running_var, int64_t M, int64_t C, bool training,
                            float momentum, float eps);
/* gx, gw, gb may be NULL (not needed) */
void batch_norm_backward_cpu(const float *x, const float *weight, const float *stats, const float *gy, float *gx,
                             float *gw, float *gb, int64_t M, int64_t C, bool training);

#endif
