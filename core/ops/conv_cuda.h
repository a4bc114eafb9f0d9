/* conv_cuda.h: conv2d/conv3d on the GPU through cuDNN (conv.cu), the CUDA twins of conv_forward_cpu and
 * conv_backward_cpu with the same geometry and the same meaning of NULL gradients. Device pointers, fp32.
 * Built only with CUDA. */
#ifndef VAEC_OPS_CONV_CUDA_H
#define VAEC_OPS_CONV_CUDA_H
#include "core/ops/conv.h"   // defines: conv_geom

void conv_forward_cuda(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
void conv_backward_cuda(const conv_geom *g, const float *x, const float *w, const float *gy, float *gx, float *gw,
                        float *gb);

#endif
