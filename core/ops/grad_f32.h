/* grad_f32.h: an output gradient as float32, whatever dtype it arrived in.
 *
 * The bf16 kernels (conv, matmul, linear on CUDA) produce float32 gradients, but the gradient flowing into
 * them may be bf16 (a bf16 output seeded with a bf16 gradient, or a bf16 op upstream). Their backward
 * takes grad_f32(gy): gy itself, retained, when it is float32; otherwise a widened copy on the same
 * device. The caller releases the result. bf16 -> float32 is exact, so nothing is lost. */
#include <stdbool.h>
#ifndef VAEC_OPS_GRAD_F32_H
#define VAEC_OPS_GRAD_F32_H
#include "core/tensor.h"   // defines: tensor

tensor *grad_f32(tensor *gy);
/* a float32 tensor of t's shape on t's device, zero-filled when zero: the gradient of t whatever t's dtype
   (the shape ops' backward, which carry bf16 forward) */
tensor *grad_new_like(const tensor *t, bool zero);

#endif
