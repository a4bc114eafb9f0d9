/* unary.c: abs, square, exp, log, sqrt, neg, clamp (kernels in pointwise.c). */
#include "core/ops/unary.h"
#include "core/ops/pointwise.h"   // defines: pointwise_op

tensor *op_abs(tensor *x) { return pointwise_op(PW_ABS, x, 0, 0); }
tensor *op_square(tensor *x) { return pointwise_op(PW_SQUARE, x, 0, 0); }
tensor *op_exp(tensor *x) { return pointwise_op(PW_EXP, x, 0, 0); }
tensor *op_log(tensor *x) { return pointwise_op(PW_LOG, x, 0, 0); }
tensor *op_sqrt(tensor *x) { return pointwise_op(PW_SQRT, x, 0, 0); }
tensor *op_neg(tensor *x) { return pointwise_op(PW_NEG, x, 0, 0); }

tensor *op_clamp(tensor *x, float lo, float hi) {
    CHECK(lo <= hi, "clamp: lower bound %g above upper bound %g", lo, hi);
    return pointwise_op(PW_CLAMP, x, lo, hi);
}
