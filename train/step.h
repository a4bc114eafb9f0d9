/* step.h: one training step of Open-Sora's VAE recipe (reference-model.md section 5), on the pipeline's
 * cal_loss path:
 *   z, posterior, x_z = encode(x);  x_z_rec = temporal decode(z, T of x_z)
 *   use_real_rec_loss:        x_rec = spatial decode(x_z_rec); loss += weighted_nll(x, x_rec) + weighted_kl
 *                             (weighted_nll with the loss's perceptual term, when it has one)
 *   use_z_rec_loss:           loss += weighted_nll(x_z, x_z_rec)
 *   use_image_identity_loss:  when T == 1, loss += weighted_nll(x_z, z)
 * Pixels are decoded only when a pixel loss needs them. Then backward, global-norm clipping, and the
 * AdamW update, unless the loss or the gradient norm is NaN/Inf: that step is skipped (gradients dropped,
 * weights untouched) and reported in the result. */
#ifndef VAEC_TRAIN_STEP_H
#define VAEC_TRAIN_STEP_H
#include "layers/pipeline.h"   // defines: vae_pipeline
#include "losses/vae_loss.h"   // defines: vae_loss
#include "optim/adamw.h"       // defines: adamw

typedef struct {
    bool use_real_rec_loss, use_z_rec_loss, use_image_identity_loss;
    float grad_clip;             /* <= 0: no clipping */
    /* optional: one more term from the pixel reconstruction, added before backward (the GAN generator term,
     * train/step_gan.h); when set, pixels are decoded and nll = weighted_nll(x, x_rec) is computed (and
     * passed) whether or not use_real_rec_loss adds it to the loss. NULL return: no term this step. */
    tensor *(*extra_term)(void *ctx, tensor *x, tensor *x_rec, tensor *nll);
    void *extra_ctx;
    bool bf16;                   /* [train] precision = bf16: forward and backward under autocast (core/autocast.h) */
} step_config;

typedef struct {
    double loss, nll, kl, z_nll, identity, grad_norm;   /* the terms that were computed; others 0 */
    bool skipped;                                        /* NaN/Inf loss or gradient: no update */
} step_result;

/* forward + backward only: leaves the gradients in the parameters (for --dump-grads) */
step_result train_forward_backward(const vae_pipeline *p, const vae_loss *l, const step_config *c, tensor *x,
                                   rng_state *rng);
/* after the gradients are final (summed over micro-steps, averaged over ranks): clip, update unless the
 * loss in r or the gradient norm is not finite, zero the gradients; fills r->grad_norm and r->skipped */
void train_apply(adamw *opt, const step_config *c, step_result *r);
/* the whole step: forward, backward, clip, update (or skip), zero the gradients */
step_result train_step(const vae_pipeline *p, const vae_loss *l, adamw *opt, const step_config *c, tensor *x,
                       rng_state *rng);

#endif
