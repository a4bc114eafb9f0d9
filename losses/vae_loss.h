/* vae_loss.h: the loss terms of Open-Sora's VAE training (reference-model.md section 5).
 *
 *   rec   = |x - x_hat| (L1) or (x - x_hat)^2 (L2), elementwise
 *   nll   = rec / exp(logvar) + logvar               logvar: a learnable scalar, initialised to 0
 *   weighted_nll = sum(nll) / (B * T)                 upstream reduction: SUM over C,H,W, MEAN over frames
 *                  (or mean(nll) with VAE_REDUCE_MEAN)
 *   weighted_kl  = kl_weight * sum(posterior.kl()) / B
 * Inputs are channels-last video (B,T,H,W,C) or images (N,H,W,C) (then T = 1). The perceptual (LPIPS)
 * term is not part of this file. Every result is a 0-dim tensor in the autograd graph. */
#ifndef VAEC_LOSSES_VAE_LOSS_H
#define VAEC_LOSSES_VAE_LOSS_H
#include "layers/posterior.h"   // defines: diag_gaussian

typedef enum { VAE_REC_L1 = 0, VAE_REC_L2 } vae_rec_kind;
typedef enum { VAE_REDUCE_UPSTREAM = 0, VAE_REDUCE_MEAN } vae_reduction;

typedef struct {
    vae_rec_kind rec;
    vae_reduction reduction;
    float kl_weight;     /* 1e-6 upstream */
    tensor *logvar;      /* (1) learnable scalar; requires_grad only when it is trained (upstream: never) */
} vae_loss;

void vae_loss_init(vae_loss *l, vae_rec_kind rec, vae_reduction reduction, float kl_weight, bool train_logvar);
void vae_loss_free(vae_loss *l);

tensor *vae_loss_nll(const vae_loss *l, tensor *x, tensor *x_hat);      /* weighted_nll */
tensor *vae_loss_kl(const vae_loss *l, const diag_gaussian *posterior);  /* weighted_kl */

#endif
