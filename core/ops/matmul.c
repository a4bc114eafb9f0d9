/* matmul.c: batched matmul and linear, forward and backward, on gemm_f32 (CPU: oneDNN or OpenBLAS) or cuBLAS (CUDA);
 * fp32, or bf16 operands and outputs with fp32 accumulation and fp32 gradients (CPU: gemm_bf16, CUDA: cuBLAS). */
#include "core/ops/matmul.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/grad_f32.h"   // defines: grad_f32
#include "core/cpu/gemm.h"       // defines: gemm_f32
#include "core/cpu/bf16_cpu.h"   // defines: gemm_bf16, bf16_f32_scratch, bf16_round_array
#include "core/bf16.h"           // defines: bf16_to_f32
#include "core/autocast.h"       // defines: autocast_on, autocast_operand
#include "core/ops/cast.h"       // defines: op_cast
#ifdef VAEC_HAVE_CUDA
#include "core/ops/linalg_cuda.h"   // defines: gemm_rm_cuda, gemm_rm_bf16_cuda, bias_set_cuda, colsum_cuda
#endif

typedef struct { bool ta, tb; int64_t batch, m, k, n; } mm_ctx;

/* the CPU's bf16 product for gemm_on: gemm_bf16 into float32 (c itself, or scratch when c is bf16 or beta is
   not 0), plus beta times the old C, rounded to bf16 once when c_bf16. C is dense: ldc = n. */
static void gemm_bf16_cpu(bool c_bf16, int64_t batch, bool ta, bool tb, int64_t m, int64_t n, int64_t k, const void *a,
                          int64_t lda, int64_t sa, const void *b, int64_t ldb, int64_t sb, float beta, void *c, int64_t sc) {
    if (!c_bf16 && beta == 0.0f) {
        gemm_bf16(ta, tb, batch, m, n, k, a, lda, sa, b, ldb, sb, c, n, sc);
        return;
    }
    const int64_t mn = m * n;
    mem_block *blk = bf16_f32_scratch(batch * mn);
    float *t = blk->ptr;
    gemm_bf16(ta, tb, batch, m, n, k, a, lda, sa, b, ldb, sb, t, n, mn);
    for (int64_t i = 0; i < batch; i++) {
        float *ti = t + i * mn;
        if (beta != 0.0f) {
            if (c_bf16) {
                const uint16_t *ci = (const uint16_t *)c + i * sc;
                for (int64_t j = 0; j < mn; j++) ti[j] += beta * bf16_to_f32(ci[j]);
            } else {
                const float *ci = (const float *)c + i * sc;
                for (int64_t j = 0; j < mn; j++) ti[j] += beta * ci[j];
            }
        }
        if (c_bf16) bf16_round_array(ti, (uint16_t *)c + i * sc, mn);
        else memcpy((float *)c + i * sc, ti, (size_t)mn * sizeof(float));
    }
    mem_block_release(blk);
}

/* Row-major batched C = alpha op(A) op(B) + beta C on either device: per batch item through gemm_f32 on the
   CPU (the reference, unchanged), one strided-batched cuBLAS call on CUDA. bf16: A and B are bf16, C is bf16
   when c_bf16 and fp32 otherwise (the gradients); the CPU sums in float32 (gemm_bf16), adds beta C there
   and rounds once, as cuBLAS does. */
static void gemm_on(device_t dev, bool bf16, bool c_bf16, int64_t batch, bool ta, bool tb, int64_t m, int64_t n,
                    int64_t k, const void *a, int64_t lda, int64_t sa, const void *b, int64_t ldb, int64_t sb, float beta,
                    void *c, int64_t sc) {
    switch (dev) {
        case DEVICE_CPU: {
            if (bf16) {
                gemm_bf16_cpu(c_bf16, batch, ta, tb, m, n, k, a, lda, sa, b, ldb, sb, beta, c, sc);
                break;
            }
            const float *af = a, *bf = b;
            float *cf = c;
            for (int64_t i = 0; i < batch; i++)
                gemm_f32(ta, tb, m, n, k, 1.0f, af + i * sa, lda, bf + i * sb, ldb, beta, cf + i * sc, n);
            break;
        }
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            if (bf16) gemm_rm_bf16_cuda(ta, tb, m, n, k, 1.0f, a, lda, sa, b, ldb, sb, beta, c, c_bf16, n, sc, batch);
            else gemm_rm_cuda(ta, tb, m, n, k, 1.0f, a, lda, sa, b, ldb, sb, beta, c, n, sc, batch);
            break;
#endif
        default: DEVICE_UNSUPPORTED("matmul", dev);
    }
}

/* The operands' dtype: fp32, or bf16 (fp32 accumulation). Returns true for bf16. */
static bool operand_dtype(const char *op, const tensor *a, const tensor *b, const tensor *bias) {
    char sa[96], sb[96];
    tensor_shape_str(a, sa, sizeof sa);
    tensor_shape_str(b, sb, sizeof sb);
    CHECK_HINT(a->dtype == b->dtype && (!bias || bias->dtype == a->dtype), "convert them to one dtype (tensor_to_dtype)",
               "%s: operands %s and %s must share one dtype, got %s and %s%s%s%s", op, sa, sb, dtype_name(a->dtype),
               dtype_name(b->dtype), bias ? " (bias " : "", bias ? dtype_name(bias->dtype) : "", bias ? ")" : "");
    CHECK(a->dtype == DTYPE_F32 || a->dtype == DTYPE_BF16, "%s: dtype %s is not supported (float32 or bf16)", op,
          dtype_name(a->dtype));
    return a->dtype == DTYPE_BF16;
}

/* The output gradient as the GEMMs take it: itself (fp32), or a bf16 copy for bf16 operands (*tmp owns it). */
static const void *grad_operand(const tensor *gy, bool bf16, tensor **tmp) {
    *tmp = NULL;
    if (!bf16) return tensor_f32(gy);
    switch (gy->device) {
        case DEVICE_CPU: *tmp = tensor_to_dtype(gy, DTYPE_BF16); return (*tmp)->data;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            *tmp = tensor_new(gy->ndim, gy->shape, DTYPE_BF16, gy->device);
            f32_to_bf16_cuda(tensor_f32(gy), (*tmp)->data, gy->numel);
            return (*tmp)->data;
#endif
        default: DEVICE_UNSUPPORTED("matmul (bf16)", gy->device);
    }
}

/* fp32 gradients for either operand dtype */
static tensor *grad_like(const tensor *t) { return tensor_new(t->ndim, t->shape, DTYPE_F32, t->device); }

static void matmul_backward(ag_node *n) {
    mm_ctx *c = n->ctx;
    tensor *a = n->inputs[0], *b = n->inputs[1], *gy = grad_f32(n->out->grad), *gtmp;   /* bf16 gradients too */
    const device_t dev = a->device;
    const bool bf = a->dtype == DTYPE_BF16;
    const void *g = grad_operand(gy, bf, &gtmp);
    int64_t sa = c->m * c->k, sb = c->k * c->n, sg = c->m * c->n;
    if (ag_needs_grad(n, 0)) {
        tensor *ga = grad_like(a);
        /* dA' = dC B'^T (M,K); stored transposed when A was: dA = B' dC^T (K,M) */
        if (!c->ta)
            gemm_on(dev, bf, false, c->batch, false, !c->tb, c->m, c->k, c->n, g, c->n, sg, b->data,
                    c->tb ? c->k : c->n, sb, 0.0f, tensor_f32(ga), sa);
        else
            gemm_on(dev, bf, false, c->batch, c->tb, true, c->k, c->m, c->n, b->data, c->tb ? c->k : c->n, sb, g, c->n,
                    sg, 0.0f, tensor_f32(ga), sa);
        ag_grad_add_owned(a, ga);
    }
    if (ag_needs_grad(n, 1)) {
        tensor *gb = grad_like(b);
        /* dB' = A'^T dC (K,N); stored transposed when B was: dB = dC^T A' (N,K) */
        if (!c->tb)
            gemm_on(dev, bf, false, c->batch, !c->ta, false, c->k, c->n, c->m, a->data, c->ta ? c->m : c->k, sa, g,
                    c->n, sg, 0.0f, tensor_f32(gb), sb);
        else
            gemm_on(dev, bf, false, c->batch, true, c->ta, c->n, c->k, c->m, g, c->n, sg, a->data, c->ta ? c->m : c->k,
                    sa, 0.0f, tensor_f32(gb), sb);
        ag_grad_add_owned(b, gb);
    }
    tensor_release(gtmp);
    tensor_release(gy);
}

static tensor *matmul(tensor *a, tensor *b, bool trans_a, bool trans_b) {
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
    const bool bf = operand_dtype("matmul", a, b, NULL);
    tensor *y = r == 3 ? tensor_new(SHAPE(batch, m, nn), a->dtype, a->device) : tensor_new(SHAPE(m, nn), a->dtype, a->device);
    gemm_on(a->device, bf, bf, batch, trans_a, trans_b, m, nn, k, a->data, trans_a ? m : k, m * k, b->data,
            trans_b ? k : nn, k * nn, 0.0f, y->data, m * nn);
    ag_node *node = ag_record("matmul", matmul_backward, y, 2, (tensor *[]){a, b});
    if (node) *(mm_ctx *)ag_ctx(node, sizeof(mm_ctx)) = (mm_ctx){trans_a, trans_b, batch, m, k, nn};
    return tensor_autorelease(y);
}

static void linear_backward(ag_node *n) {
    tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->n_inputs > 2 ? n->inputs[2] : NULL, *gtmp;
    tensor *gy = grad_f32(n->out->grad);   /* bf16 gradients too */
    const device_t dev = x->device;
    const bool bf = x->dtype == DTYPE_BF16;
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in;
    const float *g = tensor_f32(gy);
    const void *gop = grad_operand(gy, bf, &gtmp);
    if (ag_needs_grad(n, 0)) {   /* dx = dy W */
        tensor *gx = grad_like(x);
        gemm_on(dev, bf, false, 1, false, false, rows, in, out, gop, out, 0, w->data, in, 0, 0.0f, tensor_f32(gx), 0);
        ag_grad_add_owned(x, gx);
    }
    if (ag_needs_grad(n, 1)) {   /* dW = dy^T x */
        tensor *gw = grad_like(w);
        gemm_on(dev, bf, false, 1, true, false, out, in, rows, gop, out, 0, x->data, in, 0, 0.0f, tensor_f32(gw), 0);
        ag_grad_add_owned(w, gw);
    }
    tensor_release(gtmp);
    if (b && ag_needs_grad(n, 2)) {   /* db = column sums of dy, in double */
        tensor *gb = grad_like(b);
        float *o = tensor_f32(gb);
        switch (dev) {
            case DEVICE_CPU:
#pragma omp parallel for if (rows * out > 65536) schedule(static)
                for (int64_t j = 0; j < out; j++) {
                    double s = 0;
                    for (int64_t r = 0; r < rows; r++) s += g[r * out + j];
                    o[j] = (float)s;
                }
                break;
#ifdef VAEC_HAVE_CUDA
            case DEVICE_CUDA: colsum_cuda(g, rows, out, o); break;
#endif
            default: DEVICE_UNSUPPORTED("linear_backward", dev);
        }
        ag_grad_add_owned(b, gb);
    }
    tensor_release(gy);
}

static tensor *linear(tensor *x, tensor *w, tensor *b) {
    char sx[96], sw[96];
    tensor_shape_str(x, sx, sizeof sx);
    tensor_shape_str(w, sw, sizeof sw);
    CHECK(w->ndim == 2 && x->ndim >= 1 && x->shape[x->ndim - 1] == w->shape[1],
          "linear: input %s does not match weight %s (out, in)", sx, sw);
    CHECK(!b || (b->ndim == 1 && b->shape[0] == w->shape[0]), "linear: bias must be (%lld)", (long long)w->shape[0]);
    CHECK_SAME_DEVICE("linear", x, w);
    if (b) CHECK_SAME_DEVICE("linear", x, b);
    int64_t out = w->shape[0], in = w->shape[1], rows = x->numel / in, shape[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim - 1; d++) shape[d] = x->shape[d];
    shape[x->ndim - 1] = out;
    const bool bf = operand_dtype("linear", x, w, b);
    tensor *y = tensor_new(x->ndim, shape, x->dtype, x->device);
    if (b) {   /* start from the bias, then accumulate the product */
        switch (x->device) {
            case DEVICE_CPU: {   /* bf16: the bias's bits, copied like any 16-bit word */
                const size_t es = dtype_size(x->dtype);
                for (int64_t r = 0; r < rows; r++) memcpy((char *)y->data + (size_t)(r * out) * es, b->data, (size_t)out * es);
                break;
            }
#ifdef VAEC_HAVE_CUDA
            case DEVICE_CUDA:
                if (bf) bias_set_bf16_cuda(y->data, b->data, rows, out);
                else bias_set_cuda(tensor_f32(y), tensor_f32(b), rows, out);
                break;
#endif
            default: DEVICE_UNSUPPORTED("linear", x->device);
        }
    }
    gemm_on(x->device, bf, bf, 1, false, true, rows, out, in, x->data, in, 0, w->data, in, 0, b ? 1.0f : 0.0f, y->data, 0);
    tensor *ins[3] = {x, w, b};
    ag_record("linear", linear_backward, y, b ? 3 : 2, ins);
    return tensor_autorelease(y);
}

/* under autocast (core/autocast.h): bf16 operands, a bf16 result (as torch.autocast returns) */
tensor *op_matmul(tensor *a, tensor *b, bool trans_a, bool trans_b) {
    if (!autocast_on()) return matmul(a, b, trans_a, trans_b);
    return matmul(autocast_operand(a), autocast_operand(b), trans_a, trans_b);
}

tensor *op_linear(tensor *x, tensor *w, tensor *b) {
    if (!autocast_on()) return linear(x, w, b);
    return linear(autocast_operand(x), autocast_operand(w), autocast_operand(b));
}
