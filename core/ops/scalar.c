/* scalar.c: tensor-with-constant ops (kernels in pointwise.c). */
#include "core/ops/scalar.h"
#include "core/ops/pointwise.h"   // defines: pointwise_op

tensor *op_add_scalar(tensor *x, float s) { return pointwise_op(PW_ADD_SCALAR, x, s, 0); }
tensor *op_mul_scalar(tensor *x, float s) { return pointwise_op(PW_MUL_SCALAR, x, s, 0); }
tensor *op_rsub_scalar(tensor *x, float s) { return pointwise_op(PW_RSUB_SCALAR, x, s, 0); }
tensor *op_pow_scalar(tensor *x, float p) { return pointwise_op(PW_POW_SCALAR, x, p, 0); }
