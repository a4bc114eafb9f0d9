/* binary.c: broadcasting add/sub/mul/div, forward and backward. */
#include "core/ops/binary.h"
#include "autograd/autograd.h"      // defines: ag_record, ag_grad_add_owned
#include "core/ops/broadcast.h"     // defines: bcast_plan, sum_to_shape
#include "core/ops/pointwise.h"     // defines: pointwise_forward_cpu (PW_NEG)
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/binary_cuda.h"   // defines: binary_forward_cuda, binary_full_grad_cuda
#include "core/ops/pointwise_cuda.h"   // defines: pointwise_forward_cuda (PW_NEG)
#endif

static const char *binary_names[] = {"add", "sub", "mul", "div"};

static inline float apply(binary_kind k, float a, float b) {
    switch (k) {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        default: return a / b;
    }
}

void binary_forward_cpu(binary_kind k, const bcast_plan *p, const float *a, const float *b, float *y) {
    int64_t n = p->numel;
    if (p->same) {
#pragma omp parallel for if (n > 32768) schedule(static)
        for (int64_t i = 0; i < n; i++) y[i] = apply(k, a[i], b[i]);
        return;
    }
    /* walk the result in rows of the last dim: offsets computed once per row */
    int64_t inner = p->ndim ? p->shape[p->ndim - 1] : 1, rows = inner ? n / inner : 0;
    int64_t sa = p->ndim ? p->sa[p->ndim - 1] : 0, sb = p->ndim ? p->sb[p->ndim - 1] : 0;
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t oa = bcast_offset(p, r * inner, 0), ob = bcast_offset(p, r * inner, 1);
        float *yr = y + r * inner;
        for (int64_t j = 0; j < inner; j++) yr[j] = apply(k, a[oa + j * sa], b[ob + j * sb]);
    }
}

typedef struct { binary_kind kind; } binary_ctx;

/* add and sub: the gradient is gy or -gy, no input value read (their storage may be gone: ag_input_data_unused) */
static tensor *pass_grad(binary_kind k, int which, const tensor *gy) {
    tensor *g = tensor_clone(gy);
    if (k == BINARY_SUB && which) switch (g->device) {
            case DEVICE_CPU: pointwise_forward_cpu(PW_NEG, tensor_f32(g), tensor_f32(g), g->numel, 0, 0); break;
#ifdef VAEC_HAVE_CUDA
            case DEVICE_CUDA: pointwise_forward_cuda(PW_NEG, tensor_f32(g), tensor_f32(g), g->numel, 0, 0); break;
#endif
            default: DEVICE_UNSUPPORTED("sub_backward", g->device);
        }
    return g;
}

/* gradient of the result with respect to a or b, in the result's shape */
static tensor *full_grad(binary_kind k, int which, const bcast_plan *p, const tensor *a, const tensor *b,
                         const tensor *gy) {
    if (k == BINARY_ADD || k == BINARY_SUB) return pass_grad(k, which, gy);
    tensor *g = tensor_new(p->ndim, p->shape, DTYPE_F32, gy->device);
#ifdef VAEC_HAVE_CUDA
    if (gy->device == DEVICE_CUDA) {
        binary_full_grad_cuda(k, which, p, tensor_f32(a), tensor_f32(b), tensor_f32(gy), tensor_f32(g));
        return g;
    }
#endif
    const float *ad = tensor_f32(a), *bd = tensor_f32(b), *gd = tensor_f32(gy);
    float *out = tensor_f32(g);
    int64_t n = p->numel;
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float av = ad[p->same ? i : bcast_offset(p, i, 0)], bv = bd[p->same ? i : bcast_offset(p, i, 1)];
        float d;
        switch (k) {
            case BINARY_ADD: d = 1.0f; break;
            case BINARY_SUB: d = which ? -1.0f : 1.0f; break;
            case BINARY_MUL: d = which ? av : bv; break;
            default: d = which ? -av / (bv * bv) : 1.0f / bv; break;
        }
        out[i] = gd[i] * d;
    }
    return g;
}

static void binary_backward(ag_node *n) {
    binary_ctx *c = n->ctx;
    tensor *a = n->inputs[0], *b = n->inputs[1], *gy = n->out->grad;
    if (a->device != DEVICE_CPU && a->device != DEVICE_CUDA) DEVICE_UNSUPPORTED("binary_backward", a->device);
    bcast_plan p;
    bcast_plan_init(&p, a, b, binary_names[c->kind]);
    for (int which = 0; which < 2; which++) {
        if (!ag_needs_grad(n, which)) continue;
        tensor *x = n->inputs[which];
        tensor *g = full_grad(c->kind, which, &p, a, b, gy);
        if (g->numel != x->numel || !tensor_same_shape(g, x)) {
            tensor *r = sum_to_shape(g, x->ndim, x->shape);
            tensor_release(g);
            g = r;
        }
        ag_grad_add_owned(x, g);
    }
}

static tensor *binary(binary_kind k, tensor *a, tensor *b) {
    a = autocast_f32(a), b = autocast_f32(b);   /* bf16 + float32 -> float32, as torch promotes (core/autocast.h) */
    CHECK_SAME_DEVICE(binary_names[k], a, b);
    bcast_plan p;
    bcast_plan_init(&p, a, b, binary_names[k]);
    tensor *y = tensor_new(p.ndim, p.shape, DTYPE_F32, a->device);
    switch (a->device) {
        case DEVICE_CPU: binary_forward_cpu(k, &p, tensor_f32(a), tensor_f32(b), tensor_f32(y)); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: binary_forward_cuda(k, &p, tensor_f32(a), tensor_f32(b), tensor_f32(y)); break;
#endif
        default: DEVICE_UNSUPPORTED(binary_names[k], a->device);
    }
    ag_node *n = ag_record(binary_names[k], binary_backward, y, 2, (tensor *[]){a, b});
    if (n) ((binary_ctx *)ag_ctx(n, sizeof(binary_ctx)))->kind = k;
    if (n && (k == BINARY_ADD || k == BINARY_SUB)) {   /* their backward reads shapes only: a residual's storage may go */
        ag_input_data_unused(n, 0);
        if (b != a) ag_input_data_unused(n, 1);
    }
    return tensor_autorelease(y);
}

tensor *op_add(tensor *a, tensor *b) { return binary(BINARY_ADD, a, b); }
tensor *op_sub(tensor *a, tensor *b) { return binary(BINARY_SUB, a, b); }
tensor *op_mul(tensor *a, tensor *b) { return binary(BINARY_MUL, a, b); }
tensor *op_div(tensor *a, tensor *b) { return binary(BINARY_DIV, a, b); }
