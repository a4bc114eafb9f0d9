/* conv_cuda.h: conv2d/conv3d on the GPU through cuDNN (conv.cu), the CUDA twins of conv_forward_cpu and
 * conv_backward_cpu with the same geometry and the same meaning of NULL gradients. Device pointers; fp32 or
 * bf16 data, fp32 gradients. Built only with CUDA. */
#ifndef VAEC_OPS_CONV_CUDA_H
#define VAEC_OPS_CONV_CUDA_H
#include <stdbool.h>
#include "core/ops/conv.h"   // defines: conv_geom

/* bf16: x, w, b and y are bf16 (fp32 accumulation); otherwise float32 */
void conv_forward_cuda(const conv_geom *g, bool bf16, const void *x, const void *w, const void *b, void *y);
/* gy and the gradients gx, gw, gb are float32 for either dtype of x and w */
void conv_backward_cuda(const conv_geom *g, bool bf16, const void *x, const void *w, const float *gy, float *gx,
                        float *gw, float *gb);

#endif
