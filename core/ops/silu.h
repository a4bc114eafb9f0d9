/* silu.h: y = x * sigmoid(x), elementwise. */
#ifndef VAEC_OPS_SILU_H
#define VAEC_OPS_SILU_H
#include "core/tensor.h"   // defines: tensor

tensor *op_silu(tensor *x);
void silu_forward_cpu(const float *x, float *y, int64_t n);
void silu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n);

#endif
