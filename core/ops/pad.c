/* pad.c: constant pad forward (fill, then copy the interior) and backward (crop the gradient). */
#include "core/ops/pad.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/region.h"     // defines: region_copy (CPU or CUDA)
#include "core/autocast.h"   // defines: autocast_f32

typedef struct { int64_t before[TENSOR_MAX_DIMS]; } pad_ctx;

static void pad_backward(ag_node *n) {
    pad_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *gx = tensor_empty_like(x);
    int64_t zero[TENSOR_MAX_DIMS] = {0};
    region_copy(x->device, tensor_f32(gy), gy->shape, c->before, tensor_f32(gx), gx->shape, zero, x->shape, x->ndim);
    ag_grad_add_owned(x, gx);
}

tensor *op_pad(tensor *x, const int64_t *pads, float value) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    int64_t shape[TENSOR_MAX_DIMS];
    pad_ctx c;
    for (int d = 0; d < x->ndim; d++) {
        CHECK(pads[2 * d] >= 0 && pads[2 * d + 1] >= 0, "pad: negative padding %lld/%lld on dim %d",
              (long long)pads[2 * d], (long long)pads[2 * d + 1], d);
        c.before[d] = pads[2 * d];
        shape[d] = x->shape[d] + pads[2 * d] + pads[2 * d + 1];
    }
    tensor *y = tensor_new(x->ndim, shape, DTYPE_F32, x->device);
    int64_t zero[TENSOR_MAX_DIMS] = {0};
    tensor_fill(y, value);   /* CPU or CUDA */
    region_copy(x->device, tensor_f32(x), x->shape, zero, tensor_f32(y), y->shape, c.before, x->shape, x->ndim);
    ag_node *n = ag_record("pad", pad_backward, y, 1, (tensor *[]){x});
    if (n) *(pad_ctx *)ag_ctx(n, sizeof c) = c;
    return tensor_autorelease(y);
}
