/* upsample.h: nearest-neighbour 2x upsampling of H and W, channels-last.
 *
 * (N,H,W,C) -> (N,2H,2W,C) and video (B,T,H,W,C) -> (B,T,2H,2W,C) (time untouched):
 *   y[..., 2h+a, 2w+b, c] = x[..., h, w, c]   for a, b in {0, 1}
 * as F.interpolate(scale_factor=2, mode="nearest") per frame. Backward sums each 2x2 block.
 */
#ifndef VAEC_OPS_UPSAMPLE_H
#define VAEC_OPS_UPSAMPLE_H
#include "core/tensor.h"   // defines: tensor

tensor *op_upsample_nearest2x(tensor *x);

/* P = N or B*T frames of (H, W, C) */
void upsample_nearest2x_forward_cpu(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t C);
void upsample_nearest2x_backward_cpu(const float *gy, float *gx, int64_t P, int64_t H, int64_t W, int64_t C);

#endif
