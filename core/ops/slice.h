/* slice.h: a contiguous range along one dim, and concatenation along one dim.
 * op_slice keeps [start, end) of dim (negative dim counts from the end); op_concat joins any number of
 * tensors whose other dims agree. Both copy (vaec tensors are contiguous). */
#ifndef VAEC_OPS_SLICE_H
#define VAEC_OPS_SLICE_H
#include "core/tensor.h"   // defines: tensor

tensor *op_slice(tensor *x, int dim, int64_t start, int64_t end);
tensor *op_concat(int n, tensor **xs, int dim);

#endif
