/* matmul.c: batched matmul and linear, forward and backward, on cblas_sgemm. */
#include "core/ops/matmul.h"
#include <cblas.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned

typedef struct { bool ta, tb; int64_t batch, m, k, n; } mm_ctx;

/* C[i] = alpha * op(A[i]) op(B[i]) + beta * C[i] for each batch item; A is (M,K) after op, B (K,N) */
static void gemm_batched(int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const float *a,
                         const float *b, float *c, float beta, int64_t sa, int64_t sb) {
    for (int64_t i = 0; i < batch; i++)
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n,
                    (int)k, 1.0f, a + i * sa, ta ? (int)m : (int)k, b + i * sb, tb ? (int)k : (int)n, beta,
                    c + i * m * n, (int)n);
}

static void matmul_backward(ag_node *n) {
    mm_ctx *c = n->ctx;
    tensor *a = n->inputs[0], *b = n->inputs[1], *gy = n->out->grad;
    if (a->device != DEVICE_CPU) DEVICE_UNSUPPORTED("matmul_backward", a->device);
    int64_t sa = c->m * c->k, sb = c->k * c->n;
    if (ag_needs_grad(n, 0)) {
        tensor *ga = tensor_empty_like(a);
        /* dA' = dC B'^T (M,K); stored transposed when A was: dA = B' dC^T (K,M) */
        for (int64_t i = 0; i < c->batch; i++) {
            const float *g = tensor_f32(gy) + i * c->m * c->n, *bb = tensor_f32(b) + i * sb;
            float *o = tensor_f32(ga) + i * sa;
            if (!c->ta)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, c->tb ? CblasNoTrans : CblasTrans, (int)c->m, (int)c->k,
                            (int)c->n, 1.0f, g, (int)c->n, bb, c->tb ? (int)c->k : (int)c->n, 0.0f, o, (int)c->k);
            else
                cblas_sgemm(CblasRowMajor, c->tb ? CblasTrans : CblasNoTrans, CblasTrans, (int)c->k, (int)c->m,
                            (int)c->n, 1.0f, bb, c->tb ? (int)c->k : (int)c->n, g, (int)c->n, 0.0f, o, (int)c->m);
        }
        ag_grad_add_owned(a, ga);
    }
    if (ag_needs_grad(n, 1)) {
        tensor *gb = tensor_empty_like(b);
        /* dB' = A'^T dC (K,N); stored transposed when B was: dB = dC^T A' (N,K) */
        for (int64_t i = 0; i < c->batch; i++) {
            const float *g = tensor_f32(gy) + i * c->m * c->n, *aa = tensor_f32(a) + i * sa;
            float *o = tensor_f32(gb) + i * sb;
            if (!c->tb)
                cblas_sgemm(CblasRowMajor, c->ta ? CblasNoTrans : CblasTrans, CblasNoTrans, (int)c->k, (int)c->n,
                            (int)c->m, 1.0f, aa, c->ta ? (int)c->m : (int)c->k, g, (int)c->n, 0.0f, o, (int)c->n);
            else
                cblas_sgemm(CblasRowMajor, CblasTrans, c->ta ? CblasTrans : CblasNoTrans, (int)c->n, (int)c->k,
                            (int)c->m, 1.0f, g, (int)c->n, aa, c->ta ? (int)c->m : (int)c->k, 0.0f, o, (int)c->k);
        }
        ag_grad_add_owned(b, gb);
    }
}

tensor *op_matmul(tensor *a, tensor *b, bool trans_a, bool trans_b) {
    char sa[96], sb[96];
    tensor_shape_str(a, sa, sizeof sa);
    tensor_shape_str(b, sb, sizeof sb);
    CHECK((a->ndim == 2 || a->ndim == 3) && a->ndim == b->ndim, "matmul: expects two 2-D or two 3-D tensors, got %s and %s",
          sa, sb);
    CHECK_SAME_DEVICE("matmul", a, b);
    int r = a->ndim;
    int64_t batch = r == 3 ? a->shape[0] : 1;
    CHECK(r == 2 || b->shape[0] == batch, "matmul: batch sizes differ in %s and %s", sa, sb);
    int64_t m = trans_a ? a->shape[r - 1] : a->shape[r - 2], k = trans_a ? a->shape[r - 2] : a->shape[r - 1];
    int64_t kb = trans_b ? b->shape[r - 1] : b->shape[r - 2], nn = trans_b ? b->shape[r - 2] : b->shape[r - 1];
    CHECK(k == kb, "matmul: inner dims differ: %s%s x %s%s (%lld vs %lld)", sa, trans_a ? "^T" : "", sb,
          trans_b ? "^T" : "", (long long)k, (long long)kb);
    tensor *y = r == 3 ? tensor_new(SHAPE(batch, m, nn), DTYPE_F32, a->device) : tensor_new(SHAPE(m, nn), DTYPE_F32, a->device);
    switch (a->device) {
        case DEVICE_CPU:
            gemm_batched(batch, trans_a, trans_b, m, nn, k, tensor_f32(a), tensor_f32(b), tensor_f32(y), 0.0f, m * k, k * nn);
            break;
        default: DEVICE_UNSUPPORTED("matmul", a->device);
    }
    ag_node *node = ag_record("matmul", matmul_backward, y, 2, (tensor *[]){a, b});
    if (node) *(mm_ctx *)ag_ctx(node, sizeof(mm_ctx)) = (mm_ctx){trans_a, trans_b, batch, m, k, nn};
    return tensor_autorelease(y);
}

static void linear_backward(ag_node *n) {
    tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->n_inputs > 2 ? n->inputs[2] : NULL, *gy = n->out->grad;
    if (x->device != DEVICE_CPU) DEVICE_UNSUPPORTED("linear_backward", x->device);
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    const float *g = tensor_f32(gy);
    if (ag_needs_grad(n, 0)) {   /* dx = dy W */
        tensor *gx = tensor_empty_like(x);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)in, (int)out, 1.0f, g, (int)out,
                    tensor_f32(w), (int)in, 0.0f, tensor_f32(gx), (int)in);
        ag_grad_add_owned(x, gx);
    }
    if (ag_needs_grad(n, 1)) {   /* dW = dy^T x */
        tensor *gw = tensor_empty_like(w);
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)out, (int)in, (int)rows, 1.0f, g, (int)out,
                    tensor_f32(x), (int)in, 0.0f, tensor_f32(gw), (int)in);
        ag_grad_add_owned(w, gw);
    }
    if (b && ag_needs_grad(n, 2)) {   /* db = column sums of dy, in double */
        tensor *gb = tensor_empty_like(b);
        float *o = tensor_f32(gb);
#pragma omp parallel for if (rows * out > 65536) schedule(static)
        for (int64_t j = 0; j < out; j++) {
            double s = 0;
            for (int64_t r = 0; r < rows; r++) s += g[r * out + j];
            o[j] = (float)s;
        }
        ag_grad_add_owned(b, gb);
    }
}

tensor *op_linear(tensor *x, tensor *w, tensor *b) {
    char sx[96], sw[96];
    tensor_shape_str(x, sx, sizeof sx);
    tensor_shape_str(w, sw, sizeof sw);
    CHECK(w->ndim == 2 && x->ndim >= 1 && x->shape[x->ndim - 1] == w->shape[1],
          "linear: input %s does not match weight %s (out, in)", sx, sw);
    CHECK(!b || (b->ndim == 1 && b->shape[0] == w->shape[0]), "linear: bias must be (%lld)", (long long)w->shape[0]);
    CHECK_SAME_DEVICE("linear", x, w);
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in, shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim - 1; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    tensor *y = tensor_new(x->ndim, shape, DTYPE_F32, x->device);
    switch (x->device) {
        case DEVICE_CPU: {
            float *yd = tensor_f32(y);
            if (b) {   /* start from the bias, then accumulate the product */
                const float *bd = tensor_f32(b);
                for (int64_t r = 0; r < rows; r++) for (int64_t j = 0; j < out; j++) yd[r * out + j] = bd[j];
            }
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)out, (int)in, 1.0f, tensor_f32(x),
                        (int)in, tensor_f32(w), (int)in, b ? 1.0f : 0.0f, yd, (int)out);
            break;
        }
        default: DEVICE_UNSUPPORTED("linear", x->device);
    }
    tensor *ins[3] = {x, w, b};
    ag_record("linear", linear_backward, y, b ? 3 : 2, ins);
    return tensor_autorelease(y);
}
