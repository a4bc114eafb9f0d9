/* cast.h: op_cast, the differentiable dtype conversion between float32 and bf16 (either device), and
 * tensor_cast, the same without autograd (parameters held in bf16, inference).
 *
 *   tensor *xb = op_cast(x, DTYPE_BF16);   // rounded to nearest even (core/bf16.h); x itself when already bf16
 *   tensor *y  = op_cast(yb, DTYPE_F32);   // exact
 *
 * The gradient passes through unchanged: in vaec every gradient is float32 whatever its tensor's dtype, so
 * the cast's backward hands the float32 output gradient to its input as it came (a copy). This is where
 * autocast (core/autocast.h) puts bf16 into a graph and takes it out again. */
#ifndef VAEC_OPS_CAST_H
#define VAEC_OPS_CAST_H
#include "core/tensor.h"   // defines: tensor, dtype_t

/* float32 <-> bf16; returns x (retained into the scope) when x already has that dtype */
tensor *op_cast(tensor *x, dtype_t dtype);
/* a new tensor (caller owns it) of t's values in dtype, on t's device; no graph */
tensor *tensor_cast(const tensor *t, dtype_t dtype);
/* t's storage replaced by its values in dtype, in place (a parameter layers keep pointers to); no views
 * may share it, any gradient is dropped */
void tensor_cast_(tensor *t, dtype_t dtype);

#endif
