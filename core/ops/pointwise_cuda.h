/* pointwise_cuda.h: CUDA kernels of the one-input elementwise ops (pointwise.cu); same signatures as the
 * CPU kernels in pointwise.h, on device pointers. Built only with CUDA. */
#ifndef VAEC_OPS_POINTWISE_CUDA_H
#define VAEC_OPS_POINTWISE_CUDA_H
#include "core/ops/pointwise.h"   // defines: pointwise_kind

void pointwise_forward_cuda(pointwise_kind k, const float *x, float *y, int64_t n, float p0, float p1);
void pointwise_backward_cuda(pointwise_kind k, const float *x, const float *y, const float *gy, float *gx,
                             int64_t n, float p0, float p1);

#endif
