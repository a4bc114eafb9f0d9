/* broadcast.h: NumPy/PyTorch broadcasting for binary ops, and its inverse for their gradients.
 *
 *   bcast_plan p;
 *   bcast_plan_init(&p, a, b, "add");           // fatal, naming both shapes, if incompatible
 *   ... p.ndim, p.shape = result shape, p.sa / p.sb = strides of a and b (0 on broadcast dims)
 *   tensor *ga = sum_to_shape(grad_of_result, a->ndim, a->shape);  // reduce over a's broadcast dims
 */
#ifndef VAEC_OPS_BROADCAST_H
#define VAEC_OPS_BROADCAST_H
#include "core/tensor.h"   // defines: tensor

typedef struct bcast_plan {
    int ndim;
    int64_t shape[TENSOR_MAX_DIMS];
    int64_t sa[TENSOR_MAX_DIMS], sb[TENSOR_MAX_DIMS];   /* element strides into a and b */
    int64_t numel;
    int same;                                           /* a, b and result all the same shape */
} bcast_plan;

void bcast_plan_init(bcast_plan *p, const tensor *a, const tensor *b, const char *op);
/* offset into a (which=0) or b (which=1) of result element i */
int64_t bcast_offset(const bcast_plan *p, int64_t i, int which);
/* g summed down to `shape` (which g's shape broadcasts from); new tensor, caller owns. Each output
   element is a double sum over its own inputs in a fixed order: deterministic, any thread count. */
tensor *sum_to_shape(const tensor *g, int ndim, const int64_t *shape);

#endif
