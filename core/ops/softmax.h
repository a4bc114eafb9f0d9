/* softmax.h: softmax over the last dim of a tensor of any rank.
 *
 * y[..., i] = exp(x[..., i] - max) / sum_j exp(x[..., j] - max), max-subtracted so large logits do not
 * overflow; the sum adds in float over 16 values a lane, then in double. Output: x's shape.
 * Backward: gx = y * (gy - sum(gy * y)).
 */
#ifndef VAEC_OPS_SOFTMAX_H
#define VAEC_OPS_SOFTMAX_H
#include "core/tensor.h"   // defines: tensor

tensor *op_softmax(tensor *x);

/* rows of length D; x and y may alias (in place) */
void softmax_forward_cpu(const float *x, float *y, int64_t rows, int64_t D);
/* one row, serial (for callers that split rows over threads themselves) */
void softmax_row_cpu(const float *x, float *y, int64_t D);
void softmax_backward_cpu(const float *y, const float *gy, float *gx, int64_t rows, int64_t D);

#endif
