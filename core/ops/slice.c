/* slice.c: slice and concat along a dim, forward and backward, via region copies. A bf16 input (a bf16 op's
 * result under autocast) is carried through as bf16 when its last dim's extents and offsets are even (two
 * elements move as one 32-bit word, region_copy_pairs), else widened on entry; gradients are float32. */
#include "core/ops/slice.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"       // defines: autocast_f32
#include "core/ops/grad_f32.h"   // defines: grad_f32, grad_new_like
#include "core/ops/region.h"     // defines: region_copy (CPU or CUDA), region_copy_pairs

/* src's box at src_off to dst at dst_off, in their (shared) dtype; bf16 only where region_pairs_ok */
static void copy_box(const tensor *src, const int64_t *src_off, tensor *dst, const int64_t *dst_off, const int64_t *count) {
    if (src->dtype == DTYPE_BF16)
        region_copy_pairs(src->device, src->data, src->shape, src_off, dst->data, dst->shape, dst_off, count, src->ndim);
    else
        region_copy(src->device, tensor_f32(src), src->shape, src_off, tensor_f32(dst), dst->shape, dst_off, count,
                    src->ndim);
}

typedef struct { int dim; int64_t start; } slice_ctx;

static void slice_backward(ag_node *n) {
    slice_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = grad_f32(n->out->grad);
    tensor *gx = grad_new_like(x, true);
    int64_t zero[TENSOR_MAX_DIMS] = {0}, off[TENSOR_MAX_DIMS] = {0};
    off[c->dim] = c->start;
    region_copy(x->device, tensor_f32(gy), gy->shape, zero, tensor_f32(gx), gx->shape, off, gy->shape, gy->ndim);
    tensor_release(gy);
    ag_grad_add_owned(x, gx);
}

tensor *op_slice(tensor *x, int dim, int64_t start, int64_t end) {
    int d = dim < 0 ? dim + x->ndim : dim;
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(d >= 0 && d < x->ndim, "slice: dim %d out of range for shape %s", dim, s);
    CHECK(start >= 0 && end <= x->shape[d] && start <= end, "slice: [%lld, %lld) out of range for dim %d of shape %s",
          (long long)start, (long long)end, d, s);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, x->shape, sizeof shape);
    shape[d] = end - start;
    int64_t zero[TENSOR_MAX_DIMS] = {0}, off[TENSOR_MAX_DIMS] = {0};
    off[d] = start;
    if (x->dtype == DTYPE_BF16 && !region_pairs_ok(x->shape, off, shape, zero, shape, x->ndim))
        x = autocast_f32(x);   /* odd extents: widened (core/autocast.h) */
    tensor *y = tensor_new(x->ndim, shape, x->dtype, x->device);
    copy_box(x, off, y, zero, y->shape);
    ag_node *n = ag_record("slice", slice_backward, y, 1, (tensor *[]){x});
    if (n) *(slice_ctx *)ag_ctx(n, sizeof(slice_ctx)) = (slice_ctx){d, start};
    return tensor_autorelease(y);
}

typedef struct { int dim; } concat_ctx;

static void concat_backward(ag_node *n) {
    int d = ((concat_ctx *)n->ctx)->dim;
    tensor *gy = grad_f32(n->out->grad);
    int64_t off[TENSOR_MAX_DIMS] = {0}, zero[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n->n_inputs; i++) {
        tensor *x = n->inputs[i];
        if (ag_needs_grad(n, i)) {
            tensor *gx = grad_new_like(x, false);
            region_copy(x->device, tensor_f32(gy), gy->shape, off, tensor_f32(gx), gx->shape, zero, x->shape, x->ndim);
            ag_grad_add_owned(x, gx);
        }
        off[d] += x->shape[d];
    }
    tensor_release(gy);
}

tensor *op_concat(int n, tensor **parts, int dim) {
    CHECK(n >= 1, "concat of no tensors");
    tensor *xs[n];   /* the parts, possibly widened (below); the caller's array stays as it was */
    memcpy(xs, parts, (size_t)n * sizeof *xs);
    int d = dim < 0 ? dim + xs[0]->ndim : dim;
    CHECK(d >= 0 && d < xs[0]->ndim, "concat: dim %d out of range for a %d-dim tensor", dim, xs[0]->ndim);
    int64_t shape[TENSOR_MAX_DIMS];
    memcpy(shape, xs[0]->shape, sizeof shape);
    shape[d] = 0;
    bool all_bf16 = true;
    for (int i = 0; i < n; i++) {
        char a[96], b[96];
        tensor_shape_str(xs[0], a, sizeof a);
        tensor_shape_str(xs[i], b, sizeof b);
        bool ok = xs[i]->ndim == xs[0]->ndim;
        for (int k = 0; ok && k < xs[0]->ndim; k++) ok = k == d || xs[i]->shape[k] == xs[0]->shape[k];
        CHECK(ok, "concat along dim %d: tensor %d has shape %s, tensor 0 has %s", d, i, b, a);
        CHECK_SAME_DEVICE("concat", xs[0], xs[i]);
        shape[d] += xs[i]->shape[d];
        all_bf16 = all_bf16 && xs[i]->dtype == DTYPE_BF16 && xs[i]->ndim > 0 && xs[i]->shape[xs[i]->ndim - 1] % 2 == 0;
    }
    /* bf16 parts stay bf16 when all are and go as pairs (even last dims); else float32, as torch promotes */
    if (!all_bf16) for (int i = 0; i < n; i++) xs[i] = autocast_f32(xs[i]);
    tensor *y = tensor_new(xs[0]->ndim, shape, xs[0]->dtype, xs[0]->device);
    int64_t off[TENSOR_MAX_DIMS] = {0}, zero[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n; i++) {
        copy_box(xs[i], zero, y, off, xs[i]->shape);
        off[d] += xs[i]->shape[d];
    }
    ag_node *node = ag_record("concat", concat_backward, y, n, xs);
    if (node) ((concat_ctx *)ag_ctx(node, sizeof(concat_ctx)))->dim = d;
    return tensor_autorelease(y);
}
