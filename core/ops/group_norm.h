/* group_norm.h: GroupNorm over channels-last tensors.
 *
 * x is (N, S..., C) with any number of middle dims: images (N,H,W,C), video (B,T,H,W,C). The C channels
 * form `groups` groups of C/groups consecutive channels; mean and biased variance are taken per
 * (n, group) over every middle position and the group's channels (for video that spans all frames, as
 * PyTorch's GroupNorm on (B,C,T,H,W) does):
 *   y[n,s,c] = (x[n,s,c] - mean[n,g]) / sqrt(var[n,g] + eps) * weight[c] + bias[c]
 * weight and bias are (C) or NULL (NULL: 1 and 0). Statistics accumulate in double. Output: x's shape.
 * Backward gives dx, dweight = sum gy*xhat, dbias = sum gy (sums over N and positions).
 */
#ifndef VAEC_OPS_GROUP_NORM_H
#define VAEC_OPS_GROUP_NORM_H
#include "core/tensor.h"   // defines: tensor

tensor *op_group_norm(tensor *x, tensor *weight, tensor *bias, int groups, float eps);

/* stats: (N, groups, 2) floats, mean then rstd = 1/sqrt(var+eps), written by forward, read by backward.
   x is float32, or bf16 (x_bf16: uint16_t values, read in place and widened a row at a time); y, gy, gx,
   the parameters and their gradients are float32. */
void group_norm_forward_cpu(const void *x, bool x_bf16, const float *weight, const float *bias, float *y, float *stats,
                            int64_t N, int64_t S, int64_t C, int groups, float eps);
/* gx, gw, gb may be NULL (not needed) */
void group_norm_backward_cpu(const void *x, bool x_bf16, const float *weight, const float *stats, const float *gy,
                             float *gx, float *gw, float *gb, int64_t N, int64_t S, int64_t C, int groups);

#endif
