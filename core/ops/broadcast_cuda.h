/* broadcast_cuda.h: the CUDA kernel of sum_to_shape (broadcast.cu), the gradient reduction of every
 * broadcasting op. Each output element is summed in double by its own thread (few terms) or its own
 * block with a fixed-order tree (many terms): no atomics, the same result on every run. */
#ifndef VAEC_OPS_BROADCAST_CUDA_H
#define VAEC_OPS_BROADCAST_CUDA_H
#include <stdint.h>
#include "core/tensor.h"   // defines: TENSOR_MAX_DIMS

typedef struct {
    int nd, nred;
    int red[TENSOR_MAX_DIMS];              /* the reduced dims, outermost first */
    int64_t gshape[TENSOR_MAX_DIMS];       /* g's shape (the broadcast result) */
    int64_t gstride[TENSOR_MAX_DIMS];      /* g's contiguous strides */
    int64_t ostride[TENSOR_MAX_DIMS];      /* the output's strides, aligned to g's dims */
    int64_t oshape[TENSOR_MAX_DIMS];
    int64_t nout, count;                   /* output elements, terms per output element */
} sum_to_shape_desc;

void sum_to_shape_cuda(const sum_to_shape_desc *d, const float *g, float *out);

#endif
