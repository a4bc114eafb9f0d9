/* unary.h: elementwise functions of one tensor.
 * Gradients follow PyTorch at the kinks: abs' = sign(x) (0 at 0); clamp passes the gradient where
 * lo <= x <= hi. */
#ifndef VAEC_OPS_UNARY_H
#define VAEC_OPS_UNARY_H
#include "core/tensor.h"   // defines: tensor

tensor *op_abs(tensor *x);
tensor *op_square(tensor *x);
tensor *op_exp(tensor *x);
tensor *op_log(tensor *x);
tensor *op_sqrt(tensor *x);
tensor *op_neg(tensor *x);
tensor *op_clamp(tensor *x, float lo, float hi);

#endif
