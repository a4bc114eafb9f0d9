/* autocast.h: bf16 mixed precision as torch.autocast(dtype=torch.bfloat16) computes it, one switch for
 * both devices.
 *
 *   bool prev = autocast_set(true);     // the region: a training step's forward and backward, an inference
 *   tensor *y = op_conv3d(x, w, b, &a); // x, w, b float32 (or w held in bf16): computed in bf16, y bf16
 *   autocast_set(prev);
 *
 * Inside a region the ops PyTorch's autocast runs in bf16 (op_conv2d, op_conv3d, op_matmul, op_linear,
 * op_attention) cast each float32 operand to bf16 (op_cast, a node of the graph), run their bf16 kernels
 * (oneDNN / cuDNN / cuBLAS: bf16 products, float32 accumulation) and return bf16, as torch.autocast does
 * (op_attention through its second op_matmul). Group norm takes a bf16 input as it is, computes its statistics in
 * float32 and keeps the bf16 input for backward; the shape ops (reshape, permute, slice, concat, zero pad)
 * carry bf16 through where they can (core/ops/region.h: as 32-bit pairs); every other op widens a
 * bf16 operand to float32 on entry (autocast_f32, as torch promotes bf16 + float32 to float32) and
 * computes as it always does. Gradients are float32 everywhere: a cast's backward hands the float32
 * gradient through, so parameters (the float32 master weights) get float32 gradients, and AdamW and
 * clipping never see bf16. Outside a region nothing changes.
 *
 * What autograd holds for backward is therefore bf16 wherever a bf16 op's input or output is saved: the
 * products' operands and the group norms' inputs, half the bytes of float32. The rules and where each
 * cast sits: docs/architecture.md, "Mixed precision". */
#ifndef VAEC_AUTOCAST_H
#define VAEC_AUTOCAST_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

/* switches the region on or off for this thread; returns the previous state (to restore) */
bool autocast_set(bool on);
bool autocast_on(void);
/* an operand of a bf16 op: op_cast(t, DTYPE_BF16) when t is float32, else t; NULL stays NULL */
tensor *autocast_operand(tensor *t);
/* an operand of a float32-only op: op_cast(t, DTYPE_F32) when t is bf16 (a bf16 op's result), else t itself
   (not retained); an op calls it on entry, so a bf16 tensor meets float32 kernels only widened */
tensor *autocast_f32(tensor *t);
/* "fp32" -> false, "bf16" -> true; anything else stops with a message naming `where` and the value */
bool precision_is_bf16(const char *value, const char *where);

#endif
