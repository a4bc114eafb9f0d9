/* step_gan.h: the adversarial half of Open-Sora v1.2.0's train_vae.py step, when a discriminator is
 * configured ([discriminator] section; docs/training.md, "Training with a discriminator").
 *
 * Per step, in upstream's order:
 *   generator   inside train_forward_backward (train/step.h, through step_config.extra_term):
 *               fake = D(x_rec frames) (D in training mode: its BatchNorm running statistics move, D's
 *               weights take no gradient); g = generator loss; from discriminator_start on,
 *               d_weight = adaptive weight from ag_grad_of(nll) and ag_grad_of(g) at the temporal decoder's
 *               conv_out weight, and the term d_weight * discriminator_factor * g joins the loss;
 *               then the VAE's backward, clipping and AdamW step as before
 *   discriminator  gan_discriminator_step: D(real frames) and D(x_rec frames), both detached, each a forward
 *               of its own (two BatchNorm batches, as upstream); loss = factor(step) * D loss
 *               (+ lecam_loss_weight * LeCam when configured); backward, gradients averaged over ranks,
 *               clipped at [train] grad_clip, D's own AdamW step ([train] lr, betas, eps, weight_decay),
 *               skipped when not finite.
 */
#ifndef VAEC_TRAIN_STEP_GAN_H
#define VAEC_TRAIN_STEP_GAN_H
#include "layers/discriminator.h"   // defines: nlayer_discriminator
#include "losses/adversarial.h"     // defines: adversarial_config, lecam_ema
#include "optim/adamw.h"            // defines: adamw

typedef struct {
    nlayer_discriminator disc;
    adamw *opt;                  /* over disc.trainable */
    adversarial_config cfg;
    lecam_ema ema;
    tensor *last_layer;          /* get_temporal_last_layer(): the temporal decoder's conv_out weight */
    long step;                   /* the global step (0-based), set by the caller before each step */
    tensor *real, *fake;         /* this step's frames, detached, kept for the discriminator step */
    /* this step's values, for the log (0 where a term is off) */
    double adversarial_loss, generator_loss, d_weight, disc_loss, lecam_loss, logits_real, logits_fake, disc_grad_norm;
    bool disc_skipped;
} gan_trainer;

/* builds the discriminator (on `dev`) and its optimizer */
void gan_trainer_init(gan_trainer *g, const disc_config *dc, const adversarial_config *ac, adamw_config opt,
                      tensor *last_layer, device_t dev, uint64_t seed);
void gan_trainer_free(gan_trainer *g);
/* step_config.extra_term with ctx = the gan_trainer */
tensor *gan_generator_term(void *ctx, tensor *x, tensor *x_rec, tensor *nll);
/* the discriminator's update on the frames the generator term kept; lr for this step; grad_clip <= 0: none;
 * bucket_bytes: the gradient all-reduce bucket (data parallel) */
void gan_discriminator_step(gan_trainer *g, float lr, float grad_clip, size_t bucket_bytes);
/* its two halves: forward, loss and backward (gradients left in D's weights, the step's values filled);
 * then the all-reduce over ranks, clipping, AdamW (unless not finite) and zeroing the gradients */
void gan_discriminator_backward(gan_trainer *g);
void gan_discriminator_apply(gan_trainer *g, float lr, float grad_clip, size_t bucket_bytes);
/* appends the step's adversarial values to the progress line (part) and to a metrics.jsonl object (json):
 * adversarial_loss, d_weight, disc_loss, lecam_loss, lecam_ema_real, lecam_ema_fake, logits_real,
 * logits_fake, disc_grad_norm, disc_skipped */
void gan_log(const gan_trainer *g, char *part, size_t part_n, char *json, size_t json_n);

#endif
