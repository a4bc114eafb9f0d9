/* group_norm.c: GroupNorm forward and backward on channels-last tensors (see group_norm.h). */
#include "core/ops/group_norm.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/cast.h"       // defines: tensor_cast
#include "core/ops/grad_f32.h"   // defines: grad_f32
#include "core/bf16.h"           // defines: bf16_to_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/group_norm_cuda.h"   // defines: group_norm_forward_cuda, group_norm_backward_cuda
#endif

/* Channels-last puts a group's Cg channels (often 4) 4*C bytes apart, so one task per group would read
 * every cache line G times. Instead every pass streams the whole (S, C) slab once, in blocks of
 * GN_BLOCK positions: a block accumulates per-channel sums (double) over all C channels with unit
 * stride (vectorizes), blocks run in parallel, and their partials are summed in block order, so the
 * result does not depend on the thread count. */
#define GN_BLOCK 128

static int64_t gn_blocks(int64_t S) { return (S + GN_BLOCK - 1) / GN_BLOCK; }

/* x's row at offset o (C values) as float32: x itself, or a bf16 x (a conv's result under autocast) widened
   into buf, one row at a time, so no float32 copy of the whole activation is made (exact: bf16 -> float32) */
static inline const float *gn_row(const void *x, bool x_bf16, int64_t o, int64_t C, float *buf) {
    if (!x_bf16) return (const float *)x + o;
    const uint16_t *h = (const uint16_t *)x + o;
#pragma omp simd
    for (int64_t c = 0; c < C; c++) buf[c] = bf16_to_f32(h[c]);
    return buf;
}

static float *gn_row_buffer(bool x_bf16, int64_t C) { return x_bf16 ? xmalloc((size_t)C * sizeof(float)) : NULL; }

/* part[(n * nb + blk) * C + c] = sum over the block's positions of x[c] - shift[n * C + c] (squared if sq) */
static void gn_channel_sums(const void *x, bool x_bf16, const double *shift, bool sq, double *part, int64_t N,
                            int64_t S, int64_t C) {
    const int64_t nb = gn_blocks(S);
#pragma omp parallel for schedule(static) if (N * S * C > 32768)
    for (int64_t nk = 0; nk < N * nb; nk++) {
        const int64_t n = nk / nb, s0 = (nk % nb) * GN_BLOCK, s1 = s0 + GN_BLOCK < S ? s0 + GN_BLOCK : S;
        double *acc = part + nk * C;
        for (int64_t c = 0; c < C; c++) acc[c] = 0;
        const double *sh = shift ? shift + n * C : NULL;
        float *buf = gn_row_buffer(x_bf16, C);
        for (int64_t s = s0; s < s1; s++) {
            const float *xs = gn_row(x, x_bf16, (n * S + s) * C, C, buf);
            if (!sq) {
#pragma omp simd
                for (int64_t c = 0; c < C; c++) acc[c] += (double)xs[c];
            } else {
#pragma omp simd
                for (int64_t c = 0; c < C; c++) { double d = (double)xs[c] - sh[c]; acc[c] += d * d; }
            }
        }
        free(buf);
    }
}

/* per (n, group): the sum over blocks (in order) and over the group's channels of part */
static void gn_group_totals(const double *part, double *out, int64_t N, int64_t nb, int64_t C, int64_t G) {
    const int64_t Cg = C / G;
    for (int64_t n = 0; n < N; n++)
        for (int64_t g = 0; g < G; g++) {
            double t = 0;
            for (int64_t k = 0; k < nb; k++)
                for (int64_t j = 0; j < Cg; j++) t += part[(n * nb + k) * C + g * Cg + j];
            out[n * G + g] = t;
        }
}

/* y = x * a[n, c] + b[n, c] (forward), or gx = gy * a + x * b + d (backward) over (N, S, C), in parallel */
static void gn_affine(const void *x, bool x_bf16, const float *gy, const float *a, const float *b, const float *d,
                      float *y, int64_t N, int64_t S, int64_t C) {
    const int64_t nb = gn_blocks(S);
#pragma omp parallel for schedule(static) if (N * S * C > 32768)
    for (int64_t nk = 0; nk < N * nb; nk++) {
        const int64_t n = nk / nb, s0 = (nk % nb) * GN_BLOCK, s1 = s0 + GN_BLOCK < S ? s0 + GN_BLOCK : S;
        const float *an = a + n * C, *bn = b + n * C, *dn = d ? d + n * C : NULL;
        float *buf = gn_row_buffer(x_bf16, C);
        for (int64_t s = s0; s < s1; s++) {
            const int64_t o = (n * S + s) * C;
            const float *xs = gn_row(x, x_bf16, o, C, buf);
            float *ys = y + o;
            if (!gy) {
#pragma omp simd
                for (int64_t c = 0; c < C; c++) ys[c] = xs[c] * an[c] + bn[c];
            } else {
                const float *gs = gy + o;
#pragma omp simd
                for (int64_t c = 0; c < C; c++) ys[c] = gs[c] * an[c] + xs[c] * bn[c] + dn[c];
            }
        }
        free(buf);
    }
}

void group_norm_forward_cpu(const void *x, bool x_bf16, const float *weight, const float *bias, float *y, float *stats,
                            int64_t N, int64_t S, int64_t C, int groups, float eps) {
    const int64_t G = groups, Cg = C / G, nb = gn_blocks(S);
    const double M = (double)S * (double)Cg;
    double *part = xmalloc((size_t)(N * nb * C) * sizeof(double));
    double *tot = xmalloc((size_t)(N * G) * sizeof(double)), *mean_c = xmalloc((size_t)(N * C) * sizeof(double));
    float *a = xmalloc((size_t)(N * C) * sizeof(float)), *b = xmalloc((size_t)(N * C) * sizeof(float));
    /* two passes: the mean first, then squared deviations, so large offsets do not cancel */
    gn_channel_sums(x, x_bf16, NULL, false, part, N, S, C);
    gn_group_totals(part, tot, N, nb, C, G);
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) mean_c[n * C + c] = tot[n * G + c / Cg] / M;
    gn_channel_sums(x, x_bf16, mean_c, true, part, N, S, C);
    gn_group_totals(part, tot, N, nb, C, G);
    for (int64_t ng = 0; ng < N * G; ng++) {
        const int64_t n = ng / G, g = ng % G;
        const double mean = mean_c[n * C + g * Cg], rstd = 1.0 / sqrt(tot[ng] / M + (double)eps);
        stats[2 * ng] = (float)mean;
        stats[2 * ng + 1] = (float)rstd;
        for (int64_t j = 0; j < Cg; j++) {   /* y = (x - mean) * rstd * w + b folded into one scale and shift */
            const int64_t c = g * Cg + j;
            const double sc = rstd * (weight ? weight[c] : 1.0);
            a[n * C + c] = (float)sc;
            b[n * C + c] = (float)((bias ? bias[c] : 0.0) - mean * sc);
        }
    }
    gn_affine(x, x_bf16, NULL, a, b, NULL, y, N, S, C);
    free(part), free(tot), free(mean_c), free(a), free(b);
}

/* dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) per group, gxhat = gy * weight;
 * per channel, sum gy and sum gy * xhat give dbias, dweight and both group means. */
void group_norm_backward_cpu(const void *x, bool x_bf16, const float *weight, const float *stats, const float *gy,
                             float *gx, float *gw, float *gb, int64_t N, int64_t S, int64_t C, int groups) {
    const int64_t G = groups, Cg = C / G, nb = gn_blocks(S);
    const double M = (double)S * (double)Cg;
    double *part = xmalloc((size_t)(N * nb * 2 * C) * sizeof(double));
    double *sg = xmalloc((size_t)(N * C) * sizeof(double)), *sgx = xmalloc((size_t)(N * C) * sizeof(double));
#pragma omp parallel for schedule(static) if (N * S * C > 32768)
    for (int64_t nk = 0; nk < N * nb; nk++) {
        const int64_t n = nk / nb, s0 = (nk % nb) * GN_BLOCK, s1 = s0 + GN_BLOCK < S ? s0 + GN_BLOCK : S;
        double *pg = part + nk * 2 * C, *pgx = pg + C;   /* sum gy * x, not gy * xhat: xhat is affine in x */
        for (int64_t c = 0; c < 2 * C; c++) pg[c] = 0;
        float *buf = gn_row_buffer(x_bf16, C);
        for (int64_t s = s0; s < s1; s++) {
            const float *xs = gn_row(x, x_bf16, (n * S + s) * C, C, buf), *gs = gy + (n * S + s) * C;
#pragma omp simd
            for (int64_t c = 0; c < C; c++) { pg[c] += (double)gs[c]; pgx[c] += (double)gs[c] * (double)xs[c]; }
        }
        free(buf);
    }
    for (int64_t n = 0; n < N; n++)
        for (int64_t c = 0; c < C; c++) {
            double a = 0, b = 0;
            for (int64_t k = 0; k < nb; k++) { a += part[(n * nb + k) * 2 * C + c]; b += part[(n * nb + k) * 2 * C + C + c]; }
            const double mean = stats[2 * (n * G + c / Cg)], rstd = stats[2 * (n * G + c / Cg) + 1];
            sg[n * C + c] = a;                        /* sum gy */
            sgx[n * C + c] = (b - mean * a) * rstd;   /* sum gy * xhat */
        }
    if (gw || gb)
        for (int64_t c = 0; c < C; c++) {
            double sw = 0, sb = 0;
            for (int64_t n = 0; n < N; n++) { sw += sgx[n * C + c]; sb += sg[n * C + c]; }
            if (gw) gw[c] = (float)sw;
            if (gb) gb[c] = (float)sb;
        }
    if (gx) {
        /* gx = gy * (rstd w) + x * (-rstd^2 m2) + rstd (mean rstd m2 - m1), m1 = mean(gxhat), m2 = mean(gxhat xhat) */
        float *A = xmalloc((size_t)(N * C) * sizeof(float)), *B = xmalloc((size_t)(N * C) * sizeof(float));
        float *D = xmalloc((size_t)(N * C) * sizeof(float));
        for (int64_t ng = 0; ng < N * G; ng++) {
            const int64_t n = ng / G, c0 = (ng % G) * Cg;
            double s1 = 0, s2 = 0;
            for (int64_t j = 0; j < Cg; j++) {
                const double w = weight ? weight[c0 + j] : 1.0;
                s1 += w * sg[n * C + c0 + j];
                s2 += w * sgx[n * C + c0 + j];
            }
            const double m1 = s1 / M, m2 = s2 / M, mean = stats[2 * ng], rstd = stats[2 * ng + 1];
            for (int64_t j = 0; j < Cg; j++) {
                const int64_t c = n * C + c0 + j;
                A[c] = (float)(rstd * (weight ? weight[c0 + j] : 1.0));
                B[c] = (float)(-rstd * rstd * m2);
                D[c] = (float)(rstd * (mean * rstd * m2 - m1));
            }
        }
        gn_affine(x, x_bf16, gy, A, B, D, gx, N, S, C);
        free(A), free(B), free(D);
    }
    free(part), free(sg), free(sgx);
}

typedef struct { int groups; } group_norm_ctx;

/* x as the kernels read it. The CPU kernels read a bf16 x (a conv's result under autocast) in place, a row at
   a time; CUDA's read float32, so there a bf16 x is widened into a copy that lives for one kernel call. Either
   way the node keeps x itself: half the bytes in bf16. bf16 -> float32 is exact: the statistics are those of
   the values x holds, accumulated in double as for float32. */
static tensor *x_for_kernel(tensor *x) {
    CHECK(x->dtype == DTYPE_F32 || x->dtype == DTYPE_BF16, "group_norm: x of dtype %s (float32 or bf16)",
          dtype_name(x->dtype));
    if (x->dtype == DTYPE_F32 || x->device == DEVICE_CPU) {
        tensor_retain(x);
        return x;
    }
    return tensor_cast(x, DTYPE_F32);
}

static void group_norm_backward(ag_node *n) {
    tensor *x_in = n->inputs[0], *w = n->inputs[1], *b = n->inputs[2], *stats = n->saved[0];
    tensor *x = x_for_kernel(x_in), *gy = grad_f32(n->out->grad);
    const group_norm_ctx *ctx = n->ctx;
    const int64_t N = x->shape[0], C = x->shape[x->ndim - 1], S = x->numel / (N * C);
    tensor *gx = ag_needs_grad(n, 0) ? tensor_new(x->ndim, x->shape, DTYPE_F32, x->device) : NULL;   /* float32 for a bf16 x too */
    tensor *gw = ag_needs_grad(n, 1) ? tensor_empty_like(w) : NULL;
    tensor *gb = ag_needs_grad(n, 2) ? tensor_empty_like(b) : NULL;
    switch (x->device) {
        case DEVICE_CPU: {
            group_norm_backward_cpu(x->data, x->dtype == DTYPE_BF16, w ? tensor_f32(w) : NULL, tensor_f32(stats), tensor_f32(gy),
                                    gx ? tensor_f32(gx) : NULL, gw ? tensor_f32(gw) : NULL,
                                    gb ? tensor_f32(gb) : NULL, N, S, C, ctx->groups);
            break;
        }
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            group_norm_backward_cuda(tensor_f32(x), w ? tensor_f32(w) : NULL, tensor_f32(stats), tensor_f32(gy),
                                     gx ? tensor_f32(gx) : NULL, gw ? tensor_f32(gw) : NULL, gb ? tensor_f32(gb) : NULL,
                                     N, S, C, ctx->groups);
            break;
#endif
        default: DEVICE_UNSUPPORTED("group_norm_backward", x->device);
    }
    tensor_release(x);
    tensor_release(gy);
    if (gx) ag_grad_add_owned(x_in, gx);
    if (gw) ag_grad_add_owned(w, gw);
    if (gb) ag_grad_add_owned(b, gb);
}

static void check_affine(const char *what, const tensor *p, const tensor *x, int64_t C) {
    if (!p) return;
    char ps[96], xs[96];
    tensor_shape_str(p, ps, sizeof ps);
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(p->ndim == 1 && p->shape[0] == C, "group_norm: %s must be (C) = (%lld) for x %s, got %s", what,
          (long long)C, xs, ps);
    CHECK_SAME_DEVICE("group_norm", x, p);
}

/* x float32 or bf16 (a conv's result under autocast): the result is float32 either way, as torch's autocast
   runs group_norm in float32; a bf16 x is what the node keeps, half the bytes */
tensor *op_group_norm(tensor *x_in, tensor *weight, tensor *bias, int groups, float eps) {
    tensor *x = x_for_kernel(x_in);
    char xs[96];
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(x->ndim >= 2, "group_norm: x must be (N, ..., C), got %s", xs);
    const int64_t N = x->shape[0], C = x->shape[x->ndim - 1];
    CHECK(groups >= 1 && C % groups == 0,
          "group_norm: channels C=%lld not divisible by groups=%d (x %s, channels-last)", (long long)C, groups, xs);
    CHECK(eps > 0.0f, "group_norm: eps must be positive, got %g", (double)eps);
    check_affine("weight", weight, x, C);
    check_affine("bias", bias, x, C);
    const int64_t S = N * C > 0 ? x->numel / (N * C) : 0;
    tensor *y = tensor_new(x->ndim, x->shape, DTYPE_F32, x->device);
    tensor *stats = tensor_new(SHAPE(N, groups, 2), DTYPE_F32, x->device);
    switch (x->device) {
        case DEVICE_CPU:
            group_norm_forward_cpu(x->data, x->dtype == DTYPE_BF16, weight ? tensor_f32(weight) : NULL, bias ? tensor_f32(bias) : NULL,
                                   tensor_f32(y), tensor_f32(stats), N, S, C, groups, eps);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            group_norm_forward_cuda(tensor_f32(x), weight ? tensor_f32(weight) : NULL, bias ? tensor_f32(bias) : NULL,
                                    tensor_f32(y), tensor_f32(stats), N, S, C, groups, eps);
            break;
#endif
        default: DEVICE_UNSUPPORTED("group_norm", x->device);
    }
    tensor_release(x);
    ag_node *n = ag_record("group_norm", group_norm_backward, y, 3, (tensor *[]){x_in, weight, bias});
    if (n) {
        ag_save(n, stats);
        group_norm_ctx *ctx = ag_ctx(n, sizeof *ctx);
        ctx->groups = groups;
    }
    tensor_release(stats);
    return tensor_autorelease(y);
}
