/* max_pool.h: 2x2 max pooling with stride 2 on channels-last images (VGG's MaxPool2d(2, 2)).
 *
 *   op_max_pool2d: x (N,H,W,C) -> (N,H/2,W/2,C), sizes rounded down (PyTorch's ceil_mode=False: an odd
 *   last row or column is dropped).
 * The gradient goes to the first maximum of each window in row-major order (a NaN counts as the
 * maximum), PyTorch's CPU rule, so ties and NaNs are routed the same way. */
#ifndef VAEC_OPS_MAX_POOL_H
#define VAEC_OPS_MAX_POOL_H
#include "core/tensor.h"   // defines: tensor

tensor *op_max_pool2d(tensor *x);
void max_pool2d_forward_cpu(const float *x, float *y, int64_t N, int64_t H, int64_t W, int64_t C);
/* gx is overwritten */
void max_pool2d_backward_cpu(const float *x, const float *gy, float *gx, int64_t N, int64_t H, int64_t W, int64_t C);

#endif
