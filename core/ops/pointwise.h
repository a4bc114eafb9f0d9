/* pointwise.h: the engine behind the one-input elementwise ops (unary.h, scalar.h): one forward and
 * one backward kernel over a table of functions, one autograd node type. */
#ifndef VAEC_OPS_POINTWISE_H
#define VAEC_OPS_POINTWISE_H
#include "core/tensor.h"   // defines: tensor

typedef enum {
    PW_ABS, PW_SQUARE, PW_EXP, PW_LOG, PW_SQRT, PW_NEG, PW_CLAMP,
    PW_ADD_SCALAR, PW_MUL_SCALAR, PW_RSUB_SCALAR, PW_POW_SCALAR,
    PW_COUNT
} pointwise_kind;

tensor *pointwise_op(pointwise_kind k, tensor *x, float p0, float p1);
void pointwise_forward_cpu(pointwise_kind k, const float *x, float *y, int64_t n, float p0, float p1);
void pointwise_backward_cpu(pointwise_kind k, const float *x, const float *y, const float *gy, float *gx,
                            int64_t n, float p0, float p1);

#endif
