/* pad.c: constant pad forward (fill, then copy the interior) and backward (crop the gradient). A bf16 input
 * (a bf16 op's result under autocast) stays bf16 for zero padding with an even last dim and even pads on it
 * (the interior moves as 32-bit pairs, region_copy_pairs); otherwise it is widened on entry. */
#include "core/ops/pad.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"       // defines: autocast_f32
#include "core/ops/grad_f32.h"   // defines: grad_f32, grad_new_like
#include "core/ops/region.h"     // defines: region_copy (CPU or CUDA), region_copy_pairs

typedef struct { int64_t before[TENSOR_MAX_DIMS]; } pad_ctx;

static void pad_backward(ag_node *n) {
    pad_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = grad_f32(n->out->grad);
    tensor *gx = grad_new_like(x, false);
    int64_t zero[TENSOR_MAX_DIMS] = {0};
    region_copy(x->device, tensor_f32(gy), gy->shape, c->before, tensor_f32(gx), gx->shape, zero, x->shape, x->ndim);
    tensor_release(gy);
    ag_grad_add_owned(x, gx);
}

tensor *op_pad(tensor *x, const int64_t *pads, float value) {
    int64_t shape[TENSOR_MAX_DIMS];
    pad_ctx c;
    for (int d = 0; d < x->ndim; d++) {
        CHECK(pads[2 * d] >= 0 && pads[2 * d + 1] >= 0, "pad: negative padding %lld/%lld on dim %d",
              (long long)pads[2 * d], (long long)pads[2 * d + 1], d);
        c.before[d] = pads[2 * d];
        shape[d] = x->shape[d] + pads[2 * d] + pads[2 * d + 1];
    }
    int64_t zero[TENSOR_MAX_DIMS] = {0};
    if (x->dtype == DTYPE_BF16 && (value != 0.0f || !region_pairs_ok(x->shape, zero, shape, c.before, x->shape, x->ndim)))
        x = autocast_f32(x);   /* a fill value or odd extents: widened (core/autocast.h) */
    tensor *y = tensor_new(x->ndim, shape, x->dtype, x->device);
    if (x->dtype == DTYPE_BF16) {
        device_memset0(y->device, y->data, (size_t)y->numel * sizeof(uint16_t));   /* bf16 +0 is all zero bits */
        region_copy_pairs(x->device, x->data, x->shape, zero, y->data, y->shape, c.before, x->shape, x->ndim);
    } else {
        tensor_fill(y, value);   /* CPU or CUDA */
        region_copy(x->device, tensor_f32(x), x->shape, zero, tensor_f32(y), y->shape, c.before, x->shape, x->ndim);
    }
    ag_node *n = ag_record("pad", pad_backward, y, 1, (tensor *[]){x});
    if (n) *(pad_ctx *)ag_ctx(n, sizeof c) = c;
    return tensor_autorelease(y);
}
