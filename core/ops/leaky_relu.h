/* leaky_relu.h: y = x for x > 0, slope * x elsewhere, elementwise (PyTorch's LeakyReLU; the PatchGAN
 * discriminator uses slope 0.2). The gradient is 1 where x > 0 and slope elsewhere (slope at x = 0, as
 * PyTorch). In-place in PyTorch (inplace=True) changes nothing in the values or gradients. */
#ifndef VAEC_OPS_LEAKY_RELU_H
#define VAEC_OPS_LEAKY_RELU_H
#include "core/tensor.h"   // defines: tensor

tensor *op_leaky_relu(tensor *x, float slope);
void leaky_relu_forward_cpu(const float *x, float *y, int64_t n, float slope);
void leaky_relu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n, float slope);

#endif
