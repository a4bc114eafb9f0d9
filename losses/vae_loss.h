/* vae_loss.h: the loss terms of Open-Sora's VAE training (reference-model.md section 5).
 *
 *   rec   = |x - x_hat| (L1) or (x - x_hat)^2 (L2), elementwise
 *           [+ perceptual_weight * LPIPS(x, x_hat) per frame, broadcast over C,H,W: pixels only]
 *   nll   = rec / exp(logvar) + logvar               logvar: a learnable scalar, initialised to 0
 *   weighted_nll = sum(nll) / (B * T)                 upstream reduction: SUM over C,H,W, MEAN over frames
 *                  (or mean(nll) with VAE_REDUCE_MEAN)
 *   weighted_kl  = kl_weight * sum(posterior.kl()) / B
 * Inputs are channels-last video (B,T,H,W,C) or images (N,H,W,C) (then T = 1). Every result is a 0-dim
 * tensor in the autograd graph. The perceptual term (upstream's stage 3: weight 0.1) belongs to the
 * real-pixel reconstruction loss only (vae_loss_nll_pixels); the latent losses never have it
 * (upstream's no_perceptual). Its network is frozen; gradients flow through it to x_hat. */
#ifndef VAEC_LOSSES_VAE_LOSS_H
#define VAEC_LOSSES_VAE_LOSS_H
#include "layers/lpips.h"       // defines: lpips_net
#include "layers/posterior.h"   // defines: diag_gaussian

typedef enum { VAE_REC_L1 = 0, VAE_REC_L2 } vae_rec_kind;
typedef enum { VAE_REDUCE_UPSTREAM = 0, VAE_REDUCE_MEAN } vae_reduction;

typedef struct {
    vae_rec_kind rec;
    vae_reduction reduction;
    float kl_weight;     /* 1e-6 upstream */
    tensor *logvar;      /* (1) learnable scalar; requires_grad only when it is trained (upstream: never) */
    float perceptual_weight;   /* 0 (no perceptual term) unless vae_loss_set_lpips / vae_loss_load_lpips */
    lpips_net *lpips;          /* owned; NULL without a perceptual term */
} vae_loss;

void vae_loss_init(vae_loss *l, vae_rec_kind rec, vae_reduction reduction, float kl_weight, bool train_logvar);
void vae_loss_free(vae_loss *l);

/* perceptual term: weight * LPIPS; set takes over net (lpips_init'ed and loaded), load builds it from a
   safetensors file (scripts/convert_lpips.py) and stops with a message naming the file on failure */
void vae_loss_set_lpips(vae_loss *l, float weight, lpips_net *net);
void vae_loss_load_lpips(vae_loss *l, float weight, const char *path);

tensor *vae_loss_nll(const vae_loss *l, tensor *x, tensor *x_hat);         /* weighted_nll, no perceptual term */
tensor *vae_loss_nll_pixels(const vae_loss *l, tensor *x, tensor *x_hat);  /* weighted_nll with it, if set */
tensor *vae_loss_kl(const vae_loss *l, const diag_gaussian *posterior);  /* weighted_kl */

#endif
