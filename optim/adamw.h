/* adamw.h: Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW; with
 * l2_coupled, plain Adam with L2 weight decay added to the gradient, as torch.optim.Adam.
 *
 * State (m, v) is allocated only for parameters that require grad, under the optimizer memory tag, so
 * a frozen sub-model costs no optimizer memory.
 *   p -= lr * wd * p;  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
 *   p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 *
 *   adamw *opt = adamw_new(params, n, (adamw_config){.lr = 1e-4f});
 *   ... ag_backward(loss); adamw_step(opt); ag_zero_grad(params, n);
 */
#ifndef VAEC_ADAMW_H
#define VAEC_ADAMW_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    float lr, beta1, beta2, eps, weight_decay;
    bool l2_coupled;       /* Adam: g += weight_decay * p, no decoupled decay */
} adamw_config;

typedef struct {
    adamw_config cfg;
    int n;                 /* parameters that require grad */
    tensor **params;       /* retained */
    tensor **m, **v;
    long step;
} adamw;

adamw *adamw_new(tensor **params, int n, adamw_config cfg);   /* zero fields get torch's defaults */
void adamw_step(adamw *opt);                                  /* parameters without a grad are skipped */
/* adamw_step on every gradient times grad_scale, rounded to float32 as clip_grad_norm scales them: clipping
 * (clip_grad_coef) folded into the update. On the CPU the gradients are not written (a pass over them saved);
 * on CUDA they are scaled in place first, as clip_grad_norm does. */
void adamw_step_scaled(adamw *opt, double grad_scale);
void adamw_free(adamw *opt);
/* one update of n values at step `step` (the count after this update), on the CPU or the GPU: the same
 * operations, rounded the same way, as adamw_step; for optimizers that own slices of parameters (ZeRO,
 * train/zero.h) */
void adamw_update_values(const adamw_config *cfg, long step, float *w, float *m, float *v, const float *g, int64_t n,
                         device_t dev);

#endif
