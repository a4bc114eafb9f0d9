/* shape.c: reshape, permute and depth-to-time, forward and backward. reshape and permute carry bf16 (a bf16
 * op's result under autocast) through; their gradients are float32. */
#include "core/ops/shape.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add
#include "core/ops/grad_f32.h"   // defines: grad_f32, grad_new_like
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/shape_cuda.h"   // defines: permute_cuda
#endif

static void reshape_backward(ag_node *n) {
    tensor *x = n->inputs[0];
    tensor *g = tensor_view(n->out->grad, x->ndim, x->shape);
    ag_grad_add(x, g);   /* g shares the output gradient's storage: accumulate by copy */
    tensor_release(g);
}

tensor *op_reshape(tensor *x, int ndim, const int64_t *shape) {
    int64_t s[TENSOR_MAX_DIMS], known = 1;
    int infer = -1;
    CHECK(ndim <= TENSOR_MAX_DIMS, "reshape to %d dims (at most %d)", ndim, TENSOR_MAX_DIMS);
    for (int d = 0; d < ndim; d++) {
        s[d] = shape[d];
        if (shape[d] == -1) {
            CHECK(infer < 0, "reshape: more than one -1 in the new shape");
            infer = d;
        } else known *= shape[d];
    }
    if (infer >= 0) {
        char a[96];
        tensor_shape_str(x, a, sizeof a);
        CHECK(known > 0 && x->numel % known == 0, "reshape: cannot infer a dim for %s", a);
        s[infer] = x->numel / known;
    }
    tensor *y = tensor_view(x, ndim, s);   /* checks the element count, naming the shape */
    ag_record("reshape", reshape_backward, y, 1, (tensor *[]){x});
    return tensor_autorelease(y);
}

/* where each output row of a permute starts in the input, and the input stride along the row */
typedef struct {
    int64_t oshape[TENSOR_MAX_DIMS], ostride_in[TENSOR_MAX_DIMS], inner, rows, n, sin;
} permute_plan;

static permute_plan permute_plan_of(const int64_t *shape, int ndim, const int *perm) {
    permute_plan p = {.n = 1};
    int64_t istride[TENSOR_MAX_DIMS] = {0};
    istride[ndim - 1] = 1;
    for (int d = ndim - 2; d >= 0; d--) istride[d] = istride[d + 1] * shape[d + 1];
    for (int d = 0; d < ndim; d++) { p.oshape[d] = shape[perm[d]]; p.ostride_in[d] = istride[perm[d]]; p.n *= p.oshape[d]; }
    p.inner = p.oshape[ndim - 1], p.rows = p.inner ? p.n / p.inner : 0, p.sin = p.ostride_in[ndim - 1];
    return p;
}

static int64_t permute_row_offset(const permute_plan *p, int ndim, int64_t r) {
    int64_t off = 0;
    for (int d = ndim - 2; d >= 0; d--) { off += (r % p->oshape[d]) * p->ostride_in[d]; r /= p->oshape[d]; }
    return off;
}

void permute_cpu(const float *x, const int64_t *shape, int ndim, const int *perm, float *y) {
    const permute_plan p = permute_plan_of(shape, ndim, perm);
#pragma omp parallel for if (p.n > 32768) schedule(static)
    for (int64_t r = 0; r < p.rows; r++) {
        int64_t off = permute_row_offset(&p, ndim, r);
        float *yr = y + r * p.inner;
        if (p.sin == 1) memcpy(yr, x + off, (size_t)p.inner * sizeof(float));   /* last dim stays last */
        else for (int64_t j = 0; j < p.inner; j++) yr[j] = x[off + j * p.sin];
    }
}

/* permute_cpu for 16-bit elements (bf16), where the last dim moves: one element at a time */
static void permute_u16_cpu(const uint16_t *x, const int64_t *shape, int ndim, const int *perm, uint16_t *y) {
    const permute_plan p = permute_plan_of(shape, ndim, perm);
#pragma omp parallel for if (p.n > 32768) schedule(static)
    for (int64_t r = 0; r < p.rows; r++) {
        int64_t off = permute_row_offset(&p, ndim, r);
        uint16_t *yr = y + r * p.inner;
        for (int64_t j = 0; j < p.inner; j++) yr[j] = x[off + j * p.sin];
    }
}

/* A bf16 permute that keeps the last dim last with an even extent moves pairs of elements as 32-bit words
   through the float32 kernels (either device); the CPU does any other bf16 permute element by element. */
static bool permute_pairs(const tensor *x, const int *perm) {
    return x->ndim > 0 && perm[x->ndim - 1] == x->ndim - 1 && x->shape[x->ndim - 1] % 2 == 0;
}

typedef struct { int perm[TENSOR_MAX_DIMS]; } permute_ctx;

static void permute_backward(ag_node *n) {
    permute_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = grad_f32(n->out->grad);
    int inv[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) inv[c->perm[d]] = d;
    tensor *gx = grad_new_like(x, false);   /* float32 for a bf16 x too */
    switch (x->device) {
        case DEVICE_CPU:
            if (x->ndim) permute_cpu(tensor_f32(gy), gy->shape, gy->ndim, inv, tensor_f32(gx));
            else tensor_copy_(gx, gy);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            if (x->ndim) permute_cuda(tensor_f32(gy), gy->shape, gy->ndim, inv, tensor_f32(gx));
            else tensor_copy_(gx, gy);
            break;
#endif
        default: DEVICE_UNSUPPORTED("permute_backward", x->device);
    }
    tensor_release(gy);
    ag_grad_add_owned(x, gx);
}

tensor *op_permute(tensor *x, const int *perm) {
    int seen[TENSOR_MAX_DIMS] = {0};
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) {
        CHECK(perm[d] >= 0 && perm[d] < x->ndim && !seen[perm[d]], "permute: entry %d (%d) is not a permutation of %d dims",
              d, perm[d], x->ndim);
        seen[perm[d]] = 1;
        shape[d] = x->shape[perm[d]];
    }
    /* bf16 (a bf16 op's result under autocast) stays bf16 on the CPU, and on CUDA where it goes as pairs */
    if (x->dtype == DTYPE_BF16 && !permute_pairs(x, perm) && x->device != DEVICE_CPU) x = autocast_f32(x);
    tensor *y = tensor_new(x->ndim, shape, x->dtype, x->device);
    const bool pairs = x->dtype == DTYPE_BF16 && permute_pairs(x, perm);
    int64_t half[TENSOR_MAX_DIMS];   /* the shape in 32-bit pairs */
    memcpy(half, x->shape, (size_t)x->ndim * sizeof *half);
    if (pairs) half[x->ndim - 1] /= 2;
    switch (x->device) {
        case DEVICE_CPU:
            if (!x->ndim) tensor_copy_(y, x);
            else if (pairs) permute_cpu((const float *)x->data, half, x->ndim, perm, (float *)y->data);
            else if (x->dtype == DTYPE_BF16) permute_u16_cpu(x->data, x->shape, x->ndim, perm, y->data);
            else permute_cpu(tensor_f32(x), x->shape, x->ndim, perm, tensor_f32(y));
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            if (!x->ndim) tensor_copy_(y, x);
            else if (pairs) permute_cuda((const float *)x->data, half, x->ndim, perm, (float *)y->data);
            else permute_cuda(tensor_f32(x), x->shape, x->ndim, perm, tensor_f32(y));
            break;
#endif
        default: DEVICE_UNSUPPORTED("permute", x->device);
    }
    ag_node *n = ag_record("permute", permute_backward, y, 1, (tensor *[]){x});
    if (n) memcpy(((permute_ctx *)ag_ctx(n, sizeof(permute_ctx)))->perm, perm, (size_t)x->ndim * sizeof(int));
    return tensor_autorelease(y);
}

tensor *op_depth_to_time(tensor *x, int ts) {
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(x->ndim == 5 && ts > 0 && x->shape[4] % ts == 0,
          "depth_to_time: expects (B,T,H,W,C*%d) with channels divisible by %d, got %s", ts, ts, s);
    int64_t b = x->shape[0], t = x->shape[1], h = x->shape[2], w = x->shape[3], c = x->shape[4] / ts;
    /* (B,T,H,W,C,ts) -> (B,T,ts,H,W,C) -> (B,T*ts,H,W,C) */
    tensor *v = op_reshape(x, 6, (int64_t[]){b, t, h, w, c, ts});
    tensor *p = op_permute(v, (int[]){0, 1, 5, 2, 3, 4});
    return op_reshape(p, 5, (int64_t[]){b, t * ts, h, w, c});
}

static tensor *permute_channels(const tensor *t, bool to_last) {
    int nd = t->ndim, perm[TENSOR_MAX_DIMS];
    CHECK(nd >= 2, "permute_channels: needs at least 2 dims");
    perm[0] = 0;
    if (to_last) { for (int d = 1; d < nd - 1; d++) perm[d] = d + 1; perm[nd - 1] = 1; }
    else { perm[1] = nd - 1; for (int d = 2; d < nd; d++) perm[d] = d - 1; }
    int64_t shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < nd; d++) shape[d] = t->shape[perm[d]];
    tensor *out = tensor_empty(nd, shape);
    permute_cpu(tensor_f32(t), t->shape, nd, perm, tensor_f32(out));
    return out;
}

tensor *permute_channels_last(const tensor *t) { return permute_channels(t, true); }
tensor *permute_channels_first(const tensor *t) { return permute_channels(t, false); }
