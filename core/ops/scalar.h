/* scalar.h: ops between a tensor and a float constant. */
#ifndef VAEC_OPS_SCALAR_H
#define VAEC_OPS_SCALAR_H
#include "core/tensor.h"   // defines: tensor

tensor *op_add_scalar(tensor *x, float s);   /* x + s */
tensor *op_mul_scalar(tensor *x, float s);   /* x * s */
tensor *op_rsub_scalar(tensor *x, float s);  /* s - x */
tensor *op_pow_scalar(tensor *x, float p);   /* x^p (x > 0, or integer p) */

#endif
