/* relu.h: y = max(x, 0), elementwise. The gradient passes where x > 0 and is 0 elsewhere (0 at x = 0,
 * as PyTorch). It selects rather than multiplies, so a NaN/Inf gradient arriving where x <= 0 becomes
 * 0: LPIPS's channel norm sends 0 * inf there for all-zero feature vectors, exactly as in PyTorch. */
#ifndef VAEC_OPS_RELU_H
#define VAEC_OPS_RELU_H
#include "core/tensor.h"   // defines: tensor

tensor *op_relu(tensor *x);
void relu_forward_cpu(const float *x, float *y, int64_t n);
void relu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n);

#endif
