/* binary.h: elementwise add, sub, mul, div with NumPy/PyTorch broadcasting.
 * Shapes align at the trailing dim; size-1 (or missing) dims stretch. Gradients are summed back to
 * each input's shape (core/ops/broadcast.h). */
#ifndef VAEC_OPS_BINARY_H
#define VAEC_OPS_BINARY_H
#include "core/tensor.h"   // defines: tensor

tensor *op_add(tensor *a, tensor *b);
tensor *op_sub(tensor *a, tensor *b);
tensor *op_mul(tensor *a, tensor *b);
tensor *op_div(tensor *a, tensor *b);

typedef enum { BINARY_ADD, BINARY_SUB, BINARY_MUL, BINARY_DIV } binary_kind;
struct bcast_plan;
void binary_forward_cpu(binary_kind k, const struct bcast_plan *p, const float *a, const float *b, float *y);

#endif
