/* group_norm.c: GroupNorm forward and backward on channels-last tensors (see group_norm.h). */
#include "core/ops/group_norm.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#ifdef VAEC_HAVE_CUDA
#include "core/ops/group_norm_cuda.h"   // defines: group_norm_forward_cuda, group_norm_backward_cuda
#endif

/* Each (n, group) is one task: it reads the group's Cg channels at every one of the S positions. */
void group_norm_forward_cpu(const float *x, const float *weight, const float *bias, float *y, float *stats,
                            int64_t N, int64_t S, int64_t C, int groups, float eps) {
    const int64_t G = groups, Cg = C / G;
    const double M = (double)S * (double)Cg;
#pragma omp parallel for schedule(static) if (N * S * C > 32768)
    for (int64_t ng = 0; ng < N * G; ng++) {
        const int64_t n = ng / G, c0 = (ng % G) * Cg;
        const float *xb = x + n * S * C + c0;
        /* two passes: the mean first, then squared deviations, so large offsets do not cancel */
        double sum = 0;
        for (int64_t s = 0; s < S; s++)
            for (int64_t j = 0; j < Cg; j++) sum += xb[s * C + j];
        const double mean = sum / M;
        double ss = 0;
        for (int64_t s = 0; s < S; s++)
            for (int64_t j = 0; j < Cg; j++) { double d = xb[s * C + j] - mean; ss += d * d; }
        const float meanf = (float)mean, rstd = (float)(1.0 / sqrt(ss / M + (double)eps));
        stats[2 * ng] = meanf;
        stats[2 * ng + 1] = rstd;
        float *yb = y + n * S * C + c0;
        for (int64_t s = 0; s < S; s++)
            for (int64_t j = 0; j < Cg; j++) {
                float v = (xb[s * C + j] - meanf) * rstd;
                if (weight) v *= weight[c0 + j];
                if (bias) v += bias[c0 + j];
                yb[s * C + j] = v;
            }
    }
}

/* dx = rstd * (gxhat - mean(gxhat) - xhat * mean(gxhat * xhat)) per group, gxhat = gy * weight.
   dweight/dbias: each (n, group) task writes its own slice of work, summed over n in a fixed order. */
void group_norm_backward_cpu(const float *x, const float *weight, const float *stats, const float *gy,
                             float *gx, float *gw, float *gb, double *work, int64_t N, int64_t S, int64_t C,
                             int groups) {
    const int64_t G = groups, Cg = C / G;
    const double M = (double)S * (double)Cg;
    double *pw = work, *pb = work + N * C;   /* (N, C) partials */
#pragma omp parallel for schedule(static) if (N * S * C > 32768)
    for (int64_t ng = 0; ng < N * G; ng++) {
        const int64_t n = ng / G, c0 = (ng % G) * Cg;
        const float mean = stats[2 * ng], rstd = stats[2 * ng + 1];
        const float *xb = x + n * S * C + c0, *gyb = gy + n * S * C + c0;
        double *pwn = pw + n * C + c0, *pbn = pb + n * C + c0;
        for (int64_t j = 0; j < Cg; j++) pwn[j] = pbn[j] = 0;
        double s1 = 0, s2 = 0;   /* sum gxhat, sum gxhat * xhat */
        for (int64_t s = 0; s < S; s++)
            for (int64_t j = 0; j < Cg; j++) {
                const float xh = (xb[s * C + j] - mean) * rstd, g = gyb[s * C + j];
                const float gxh = weight ? g * weight[c0 + j] : g;
                s1 += gxh;
                s2 += (double)gxh * xh;
                pwn[j] += (double)g * xh;
                pbn[j] += g;
            }
        if (!gx) continue;
        const float m1 = (float)(s1 / M), m2 = (float)(s2 / M);
        float *gxb = gx + n * S * C + c0;
        for (int64_t s = 0; s < S; s++)
            for (int64_t j = 0; j < Cg; j++) {
                const float xh = (xb[s * C + j] - mean) * rstd, g = gyb[s * C + j];
                const float gxh = weight ? g * weight[c0 + j] : g;
                gxb[s * C + j] = rstd * (gxh - m1 - xh * m2);
            }
    }
    if (!gw && !gb) return;
    for (int64_t c = 0; c < C; c++) {
        double sw = 0, sb = 0;
        for (int64_t n = 0; n < N; n++) { sw += pw[n * C + c]; sb += pb[n * C + c]; }
        if (gw) gw[c] = (float)sw;
        if (gb) gb[c] = (float)sb;
    }
}

typedef struct { int groups; } group_norm_ctx;

static void group_norm_backward(ag_node *n) {
    tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->inputs[2], *stats = n->saved[0];
    tensor *gy = n->out->grad;
    const group_norm_ctx *ctx = n->ctx;
    const int64_t N = x->shape[0], C = x->shape[x->ndim - 1], S = x->numel / (N * C);
    tensor *gx = ag_needs_grad(n, 0) ? tensor_empty_like(x) : NULL;
    tensor *gw = ag_needs_grad(n, 1) ? tensor_empty_like(w) : NULL;
    tensor *gb = ag_needs_grad(n, 2) ? tensor_empty_like(b) : NULL;
    switch (x->device) {
        case DEVICE_CPU: {
            double *work = xmalloc((size_t)(2 * N * C) * sizeof(double));
            group_norm_backward_cpu(tensor_f32(x), w ? tensor_f32(w) : NULL, tensor_f32(stats), tensor_f32(gy),
                                    gx ? tensor_f32(gx) : NULL, gw ? tensor_f32(gw) : NULL,
                                    gb ? tensor_f32(gb) : NULL, work, N, S, C, ctx->groups);
            free(work);
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
    if (gx) ag_grad_add_owned(x, gx);
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

tensor *op_group_norm(tensor *x, tensor *weight, tensor *bias, int groups, float eps) {
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
    tensor *y = tensor_empty_like(x);
    tensor *stats = tensor_new(SHAPE(N, groups, 2), DTYPE_F32, x->device);
    switch (x->device) {
        case DEVICE_CPU:
            group_norm_forward_cpu(tensor_f32(x), weight ? tensor_f32(weight) : NULL, bias ? tensor_f32(bias) : NULL,
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
    ag_node *n = ag_record("group_norm", group_norm_backward, y, 3, (tensor *[]){x, weight, bias});
    if (n) {
        ag_save(n, stats);
        group_norm_ctx *ctx = ag_ctx(n, sizeof *ctx);
        ctx->groups = groups;
    }
    tensor_release(stats);
    return tensor_autorelease(y);
}
