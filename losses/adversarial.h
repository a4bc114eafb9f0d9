/* adversarial.h: the GAN terms of Open-Sora v1.2.0's opensora/models/vae/losses.py (AdversarialLoss,
 * DiscriminatorLoss, LeCam), on discriminator logits of any shape.
 *
 * Generator (AdversarialLoss), from the logits of the reconstruction:
 *   hinge:           g = -mean(fake)
 *   non-saturating:  g = mean(softplus(-fake))              (sigmoid cross-entropy with label 1)
 *   (vanilla is refused, as upstream raises for it)
 *   adaptive weight  d_weight = clamp(||grad_L nll|| / (||grad_L g|| + 1e-4), 0, 1e4) * generator_factor,
 *                    L = the temporal decoder's conv_out weight, a constant (no gradient through it)
 *   term             d_weight * factor(step) * g, factor(step) = discriminator_factor from
 *                    discriminator_start on, 0 before (adopt_weight)
 * Discriminator (DiscriminatorLoss), on detached real and reconstructed frames:
 *   hinge:           0.5 (mean(relu(1 - real)) + mean(relu(1 + fake)))
 *   vanilla, non-saturating (the same function): 0.5 (mean(softplus(-real)) + mean(softplus(fake)))
 *   times factor(step)
 *   LeCam:           lecam_loss_weight (relu(mean(real) - ema_fake)^2 + relu(ema_real - mean(fake))^2),
 *                    ema_x = decay ema_x + (1 - decay) mean(x) (decay 0.999, from 0), updated with this step's
 *                    means before the term is taken (the LeCam paper's order)
 * softplus(x) = relu(x) + log(1 + exp(-|x|)), stable for any x; its gradient at exactly x = 0 is 0 from the
 * relu/abs kinks instead of 0.5 (a logit of exactly 0.0f).
 */
#ifndef VAEC_LOSSES_ADVERSARIAL_H
#define VAEC_LOSSES_ADVERSARIAL_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

typedef enum { GAN_LOSS_HINGE = 0, GAN_LOSS_NON_SATURATING, GAN_LOSS_VANILLA } gan_loss_type;

typedef struct {
    gan_loss_type generator_loss_type;       /* hinge | non-saturating */
    gan_loss_type discriminator_loss_type;   /* hinge | vanilla | non-saturating */
    float generator_factor, discriminator_factor;
    long discriminator_start;                /* the first step (0-based) with an adversarial term */
    float lecam_loss_weight;                 /* 0: off */
    float lecam_decay;                       /* 0.999 */
} adversarial_config;

typedef struct { float real, fake; } lecam_ema;

/* "hinge", "non-saturating", "vanilla" -> the type; -1 for anything else */
int gan_loss_type_parse(const char *s);
const char *gan_loss_type_name(gan_loss_type t);

/* adopt_weight: factor from step `start` on, 0 before */
float gan_factor_at(float factor, long start, long step);
/* the scalar generator loss of the reconstruction's logits (hinge or non-saturating) */
tensor *gan_generator_loss(gan_loss_type type, tensor *fake_logits);
/* clamp(||g_nll|| / (||g_gen|| + 1e-4), 0, 1e4) * generator_factor; the gradients may live on any device */
double gan_adaptive_weight(const tensor *g_nll, const tensor *g_gen, float generator_factor);
/* the scalar discriminator loss, unweighted */
tensor *gan_discriminator_loss(gan_loss_type type, tensor *real_logits, tensor *fake_logits);
/* relu(mean(real) - ema.fake)^2 + relu(ema.real - mean(fake))^2, unweighted */
tensor *gan_lecam_loss(tensor *real_logits, tensor *fake_logits, lecam_ema ema);
void lecam_ema_update(lecam_ema *e, double mean_real, double mean_fake, float decay);

#endif
