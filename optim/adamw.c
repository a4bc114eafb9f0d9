/* adamw.c: AdamW (and Adam) update on the CPU (see adamw.h). */
#include "optim/adamw.h"
#include <math.h>
#ifdef VAEC_HAVE_CUDA
#include "optim/optim_cuda.h"   // defines: adamw_update_cuda
#endif

adamw *adamw_new(tensor **params, int n, adamw_config cfg) {
    if (cfg.lr == 0) cfg.lr = 1e-3f;
    if (cfg.beta1 == 0) cfg.beta1 = 0.9f;
    if (cfg.beta2 == 0) cfg.beta2 = 0.999f;
    if (cfg.eps == 0) cfg.eps = 1e-8f;
    adamw *o = xcalloc(1, sizeof *o);
    o->cfg = cfg;
    o->params = xcalloc((size_t)n, sizeof(tensor *));
    o->m = xcalloc((size_t)n, sizeof(tensor *));
    o->v = xcalloc((size_t)n, sizeof(tensor *));
    mem_tag prev = mem_set_tag(MEM_OPTIMIZER);
    for (int i = 0; i < n; i++) {
        if (!params[i]->requires_grad) continue;
        tensor_retain(params[i]);
        o->params[o->n] = params[i];
        o->m[o->n] = tensor_zeros_like(params[i]);
        o->v[o->n] = tensor_zeros_like(params[i]);
        o->n++;
    }
    mem_set_tag(prev);
    return o;
}

/* the update of n elements. Vectorised (omp simd, sqrt and divide 8 lanes at a time): the scalar loop's
 * sqrtf and division were 11% of a stage-1 step for the 309.7M-parameter temporal VAE. The lanes do the
 * same correctly rounded operations in the same order as a scalar loop. */
#define SPAN 16384
__attribute__((target_clones("avx2", "default")))
static void adamw_span(const adamw_config *cfg, float bc1, float bc2, float *restrict w, float *restrict m,
                       float *restrict v, const float *restrict g, double gs, int64_t n) {
    const adamw_config c = *cfg;
    /* Adam's L2 term or AdamW's decoupled decay, branch-free: the unused one is an exact + 0 */
    const float l2 = c.l2_coupled ? c.weight_decay : 0.0f, decay = c.l2_coupled ? 0.0f : c.lr * c.weight_decay;
#pragma omp simd
    for (int64_t k = 0; k < n; k++) {
        /* the clipping factor, rounded as clip_grad_norm rounds it (gs = 1: exactly g) */
        const float gk = (float)((double)g[k] * gs) + l2 * w[k];
        w[k] -= decay * w[k];
        m[k] = c.beta1 * m[k] + (1.0f - c.beta1) * gk;
        v[k] = c.beta2 * v[k] + (1.0f - c.beta2) * gk * gk;
        w[k] -= c.lr * (m[k] / bc1) / (sqrtf(v[k] / bc2) + c.eps);
    }
}

void adamw_step(adamw *o) { adamw_step_scaled(o, 1.0); }

void adamw_step_scaled(adamw *o, double grad_scale) {
    o->step++;
    const adamw_config c = o->cfg;
    const float bc1 = 1.0f - powf(c.beta1, (float)o->step), bc2 = 1.0f - powf(c.beta2, (float)o->step);
    for (int i = 0; i < o->n; i++) {
        tensor *p = o->params[i];
        if (!p->grad) continue;
        CHECK_SAME_DEVICE("adamw_step", p, p->grad);
        float *w = tensor_f32(p), *m = tensor_f32(o->m[i]), *v = tensor_f32(o->v[i]);
        const float *g = tensor_f32(p->grad);
        int64_t n = p->numel;
        if (p->device != DEVICE_CPU) {
#ifdef VAEC_HAVE_CUDA
            if (p->device == DEVICE_CUDA) {
                if (grad_scale != 1.0) grad_scale_cuda(tensor_f32(p->grad), n, grad_scale);
                adamw_update_cuda(w, m, v, g, n, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.l2_coupled, bc1, bc2);
                continue;
            }
#endif
            DEVICE_UNSUPPORTED("adamw_step", p->device);
        }
#pragma omp parallel for if (n > 65536) schedule(static)
        for (int64_t k = 0; k < n; k += SPAN)
            adamw_span(&c, bc1, bc2, w + k, m + k, v + k, g + k, grad_scale, n - k < SPAN ? n - k : SPAN);
    }
}

void adamw_free(adamw *o) {
    if (!o) return;
    for (int i = 0; i < o->n; i++) {
        tensor_release(o->params[i]);
        tensor_release(o->m[i]);
        tensor_release(o->v[i]);
    }
    free(o->params);
    free(o->m);
    free(o->v);
    free(o);
}

void adamw_update_values(const adamw_config *cfg, long step, float *w, float *m, float *v, const float *g, int64_t n,
                         device_t dev) {
    const adamw_config c = *cfg;
    const float bc1 = 1.0f - powf(c.beta1, (float)step), bc2 = 1.0f - powf(c.beta2, (float)step);
    if (dev != DEVICE_CPU) {
#ifdef VAEC_HAVE_CUDA
        if (dev == DEVICE_CUDA) {
            adamw_update_cuda(w, m, v, g, n, c.lr, c.beta1, c.beta2, c.eps, c.weight_decay, c.l2_coupled, bc1, bc2);
            return;
        }
#endif
        DEVICE_UNSUPPORTED("adamw_update_values", dev);
    }
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t k = 0; k < n; k += SPAN) adamw_span(&c, bc1, bc2, w + k, m + k, v + k, g + k, 1.0, n - k < SPAN ? n - k : SPAN);
}
