/* slice.c: slice and concat along a dim, forward and backward, via region copies. */
#include "core/ops/slice.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/region.h"     // defines: region_copy (CPU or CUDA)
#include "core/autocast.h"   // defines: autocast_f32

typedef struct { int dim; int64_t start; } slice_ctx;

static void slice_backward(ag_node *n) {
    slice_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *gx = tensor_zeros_like(x);
    int64_t zero[TENSOR_MAX_DIMS] = {0}, off[TENSOR_MAX_DIMS] = {0};
    off[c->dim] = c->start;
    region_copy(x->device, tensor_f32(gy), gy->shape, zero, tensor_f32(gx), gx->shape, off, gy->shape, gy->ndim);
    ag_grad_add_owned(x, gx);
}

tensor *op_slice(tensor *x, int dim, int64_t start, int64_t end) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    int d = dim < 0 ? dim + x->ndim : dim;
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(d >= 0 && d < x->ndim, "slice: dim %d out of range for shape %s", dim, s);
    CHECK(start >= 0 && end <= x->shape[d] && start <= end, "slice: [%lld, %lld) out of range for dim %d of shape %s",
          (long long)start, (long long)end, d, s);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[d] = end - start;
    tensor *y = tensor_new(x->ndim, shape, DTYPE_F32, x->device);
    int64_t zero[TENSOR_MAX_DIMS] = {0}, off[TENSOR_MAX_DIMS] = {0};
    off[d] = start;
    region_copy(x->device, tensor_f32(x), x->shape, off, tensor_f32(y), y->shape, zero, y->shape, y->ndim);
    ag_node *n = ag_record("slice", slice_backward, y, 1, (tensor *[]){x});
    if (n) *(slice_ctx *)ag_ctx(n, sizeof(slice_ctx)) = (slice_ctx){d, start};
    return tensor_autorelease(y);
}

typedef struct { int dim; } concat_ctx;

static void concat_backward(ag_node *n) {
    int d = ((concat_ctx *)n->ctx)->dim;
    tensor *gy = n->out->grad;
    int64_t off[TENSOR_MAX_DIMS] = {0}, zero[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n->n_inputs; i++) {
        tensor *x = n->inputs[i];
        if (ag_needs_grad(n, i)) {
            tensor *gx = tensor_empty_like(x);
            region_copy(x->device, tensor_f32(gy), gy->shape, off, tensor_f32(gx), gx->shape, zero, x->shape, x->ndim);
            ag_grad_add_owned(x, gx);
        }
        off[d] += x->shape[d];
    }
}

tensor *op_concat(int n, tensor **parts, int dim) {
    CHECK(n >= 1, "concat of no tensors");
    tensor *xs[n];   /* the parts, bf16 ones widened (core/autocast.h); the caller's array stays as it was */
    for (int i = 0; i < n; i++) xs[i] = autocast_f32(parts[i]);
    int d = dim < 0 ? dim + xs[0]->ndim : dim;
    CHECK(d >= 0 && d < xs[0]->ndim, "concat: dim %d out of range for a %d-dim tensor", dim, xs[0]->ndim);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[d] = 0;
    for (int i = 0; i < n; i++) {
        char a[96], b[96];
        tensor_shape_str(xs[0], a, sizeof a);
        tensor_shape_str(xs[i], b, sizeof b);
        bool ok = xs[i]->ndim == xs[0]->ndim;
        for (int k = 0; ok && k < xs[0]->ndim; k++) ok = k == d || xs[i]->shape[k] == xs[0]->shape[k];
        CHECK(ok, "concat along dim %d: tensor %d has shape %s, tensor 0 has %s", d, i, b, a);
        CHECK_SAME_DEVICE("concat", xs[0], xs[i]);
        shape[d] += xs[i]->shape[d];
    }
    tensor *y = tensor_new(xs[0]->ndim, shape, DTYPE_F32, xs[0]->device);
    int64_t off[TENSOR_MAX_DIMS] = {0}, zero[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        region_copy(y->device, tensor_f32(xs[i]), xs[i]->shape, zero, tensor_f32(y), y->shape, off, xs[i]->shape, y->ndim);
        off[d] += xs[i]->shape[d];
    }
    ag_node *node = ag_record("concat", concat_backward, y, n, xs);
    if (node) ((concat_ctx *)ag_ctx(node, sizeof(concat_ctx)))->dim = d;
    return tensor_autorelease(y);
}
