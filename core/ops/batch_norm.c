/* batch_norm.c: BatchNorm forward and backward, train and eval (see batch_norm.h). */
#include "core/ops/batch_norm.h"
#include <math.h>
#include <stdlib.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_save, ag_ctx, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/batch_norm_cuda.h"  // defines: batch_norm_forward_cuda, batch_norm_backward_cuda
#endif

/* the rows split into P parts fixed by the shape: each part sums its rows per channel, then the parts are
 * added in order, so the result is the same for any thread count */
static int64_t parts_of(int64_t M) {
    int64_t p = (M + 255) / 256;
    return p < 1 ? 1 : p > 64 ? 64 : p;
}

/* per channel: s0 = sum a, and when b is given s1 = sum a * b (b: a second array of the same shape);
 * a_shift subtracts a per-channel value from a first (the centred pass of the variance) */
static void channel_sums(const float *a, const double *a_shift, const float *b, const float *b_mean, const float *b_rstd,
                         int64_t M, int64_t C, double *s0, double *s1) {
    const int64_t P = parts_of(M), chunk = (M + P - 1) / P;
    double *acc = calloc((size_t)(2 * P * C), sizeof *acc);
    CHECK(acc, "batch_norm: out of host memory for %lld partial sums", (long long)(2 * P * C));
#pragma omp parallel for if (M * C > 32768) schedule(static)
    for (int64_t p = 0; p < P; p++) {
        double *r0 = acc + p * C, *r1 = acc + (P + p) * C;
        const int64_t lo = p * chunk, hi = lo + chunk < M ? lo + chunk : M;
        for (int64_t m = lo; m < hi; m++) {
            const float *ar = a + m * C;
            if (!b) {
                for (int64_t c = 0; c < C; c++) {
                    double v = (double)ar[c] - (a_shift ? a_shift[c] : 0.0);
                    r0[c] += a_shift ? v * v : v;
                }
            } else {   /* backward: sum gy and sum gy * xhat, xhat = (x - mean) * rstd */
                const float *br = b + m * C;
                for (int64_t c = 0; c < C; c++) {
                    const float xhat = (br[c] - b_mean[c]) * b_rstd[c];
                    r0[c] += (double)ar[c];
                    r1[c] += (double)ar[c] * (double)xhat;
                }
            }
        }
    }
    for (int64_t c = 0; c < C; c++) {
        double t0 = 0, t1 = 0;
        for (int64_t p = 0; p < P; p++) t0 += acc[p * C + c], t1 += acc[(P + p) * C + c];
        s0[c] = t0;
        if (s1) s1[c] = t1;
    }
    free(acc);
}

void batch_norm_forward_cpu(const float *x, const float *weight, const float *bias, float *y, float *stats,
                            float *running_mean, float *running_var, int64_t M, int64_t C, bool training,
                            float momentum, float eps) {
    double *mean = malloc((size_t)C * sizeof *mean), *ss = malloc((size_t)C * sizeof *ss);
    CHECK(mean && ss, "batch_norm: out of host memory");
    if (training) {
        channel_sums(x, NULL, NULL, NULL, NULL, M, C, mean, NULL);
        for (int64_t c = 0; c < C; c++) mean[c] /= (double)M;
        channel_sums(x, mean, NULL, NULL, NULL, M, C, ss, NULL);   /* centred: no cancellation */
        for (int64_t c = 0; c < C; c++) {
            const double var = ss[c] / (double)M;
            stats[2 * c] = (float)mean[c];
            stats[2 * c + 1] = (float)(1.0 / sqrt(var + (double)eps));
            if (running_mean) running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (float)mean[c];
            if (running_var)
                running_var[c] = (1.0f - momentum) * running_var[c] + momentum * (float)(ss[c] / (double)(M - 1));
        }
    } else {
        for (int64_t c = 0; c < C; c++) {
            stats[2 * c] = running_mean[c];
            stats[2 * c + 1] = (float)(1.0 / sqrt((double)running_var[c] + (double)eps));
        }
    }
    free(mean);
    free(ss);
#pragma omp parallel for if (M * C > 32768) schedule(static)
    for (int64_t m = 0; m < M; m++)
        for (int64_t c = 0; c < C; c++) {
            const float xhat = (x[m * C + c] - stats[2 * c]) * stats[2 * c + 1];
            y[m * C + c] = xhat * (weight ? weight[c] : 1.0f) + (bias ? bias[c] : 0.0f);
        }
}

void batch_norm_backward_cpu(const float *x, const float *weight, const float *stats, const float *gy, float *gx,
                             float *gw, float *gb, int64_t M, int64_t C, bool training) {
    double *sg = malloc((size_t)C * sizeof *sg), *sgx = malloc((size_t)C * sizeof *sgx);
    float *mean = calloc((size_t)C, sizeof *mean), *rstd = calloc((size_t)C, sizeof *rstd);
    CHECK(sg && sgx && mean && rstd, "batch_norm_backward: out of host memory");
    for (int64_t c = 0; c < C; c++) mean[c] = stats[2 * c], rstd[c] = stats[2 * c + 1];
    channel_sums(gy, NULL, x, mean, rstd, M, C, sg, sgx);
    for (int64_t c = 0; c < C; c++) {
        if (gw) gw[c] = (float)sgx[c];
        if (gb) gb[c] = (float)sg[c];
    }
    if (gx) {
        /* training: dx = w rstd (gy - mean(gy) - xhat mean(gy xhat)); eval: the statistics are constants */
#pragma omp parallel for if (M * C > 32768) schedule(static)
        for (int64_t m = 0; m < M; m++)
            for (int64_t c = 0; c < C; c++) {
                const float k = (weight ? weight[c] : 1.0f) * rstd[c];
                const int64_t i = m * C + c;
                if (!training) { gx[i] = k * gy[i]; continue; }
                const float xhat = (x[i] - mean[c]) * rstd[c];
                gx[i] = k * (gy[i] - (float)(sg[c] / (double)M) - xhat * (float)(sgx[c] / (double)M));
            }
    }
    free(sg);
    free(sgx);
    free(mean);
    free(rstd);
}

typedef struct { bool training; } batch_norm_ctx;

static void batch_norm_backward(ag_node *n) {
    tensor *x = n->inputs[0], *w = n->inputs[1], *b = n->inputs[2], *stats = n->saved[0], *gy = n->out->grad;
    const batch_norm_ctx *ctx = n->ctx;
    const int64_t C = x->shape[x->ndim - 1], M = C ? x->numel / C : 0;
    tensor *gx = ag_needs_grad(n, 0) ? tensor_empty_like(x) : NULL;
    tensor *gw = w && ag_needs_grad(n, 1) ? tensor_empty_like(w) : NULL;
    tensor *gb = b && ag_needs_grad(n, 2) ? tensor_empty_like(b) : NULL;
#define BN_BACKWARD_ARGS tensor_f32(x), w ? tensor_f32(w) : NULL, tensor_f32(stats), tensor_f32(gy), \
    gx ? tensor_f32(gx) : NULL, gw ? tensor_f32(gw) : NULL, gb ? tensor_f32(gb) : NULL, M, C, ctx->training
    switch (x->device) {
        case DEVICE_CPU: batch_norm_backward_cpu(BN_BACKWARD_ARGS); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: batch_norm_backward_cuda(BN_BACKWARD_ARGS); break;
#endif
        default: DEVICE_UNSUPPORTED("batch_norm_backward", x->device);
    }
#undef BN_BACKWARD_ARGS
    if (gx) ag_grad_add_owned(x, gx);
    if (gw) ag_grad_add_owned(w, gw);
    if (gb) ag_grad_add_owned(b, gb);
}

/* a per-channel tensor: (C) on x's device, or NULL when allowed */
static void check_channel_vector(const char *what, const tensor *p, const tensor *x, int64_t C) {
    if (!p) return;
    char ps[96], xs[96];
    tensor_shape_str(p, ps, sizeof ps);
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(p->ndim == 1 && p->shape[0] == C, "batch_norm: %s must be (C) = (%lld) for x %s (channels-last), got %s",
          what, (long long)C, xs, ps);
    CHECK_SAME_DEVICE("batch_norm", x, p);
}

tensor *op_batch_norm(tensor *x, tensor *weight, tensor *bias, tensor *running_mean, tensor *running_var,
                      bool training, float momentum, float eps) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    char xs[96];
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(x->ndim >= 2, "batch_norm: x must be (N, ..., C), got %s", xs);
    const int64_t C = x->shape[x->ndim - 1], M = C ? x->numel / C : 0;
    CHECK(eps > 0.0f && momentum >= 0.0f && momentum <= 1.0f, "batch_norm: eps = %g (> 0), momentum = %g (0 to 1)",
          (double)eps, (double)momentum);
    check_channel_vector("weight", weight, x, C);
    check_channel_vector("bias", bias, x, C);
    check_channel_vector("running_mean", running_mean, x, C);
    check_channel_vector("running_var", running_var, x, C);
    CHECK(!training || M > 1, "batch_norm: training needs more than one value per channel, got x %s", xs);
    CHECK(training || (running_mean && running_var), "batch_norm: eval mode needs running_mean and running_var (x %s)",
          xs);
    tensor *y = tensor_empty_like(x), *stats = tensor_new(SHAPE(C, 2), DTYPE_F32, x->device);
#define BN_FORWARD_ARGS tensor_f32(x), weight ? tensor_f32(weight) : NULL, bias ? tensor_f32(bias) : NULL, \
    tensor_f32(y), tensor_f32(stats), running_mean ? tensor_f32(running_mean) : NULL,                        \
    running_var ? tensor_f32(running_var) : NULL, M, C, training, momentum, eps
    switch (x->device) {
        case DEVICE_CPU: batch_norm_forward_cpu(BN_FORWARD_ARGS); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: batch_norm_forward_cuda(BN_FORWARD_ARGS); break;
#endif
        default: DEVICE_UNSUPPORTED("batch_norm", x->device);
    }
#undef BN_FORWARD_ARGS
    ag_node *n = ag_record("batch_norm", batch_norm_backward, y, 3, (tensor *[]){x, weight, bias});
    if (n) {
        ag_save(n, stats);
        batch_norm_ctx *ctx = ag_ctx(n, sizeof *ctx);
        ctx->training = training;
    }
    tensor_release(stats);
    return tensor_autorelease(y);
}
