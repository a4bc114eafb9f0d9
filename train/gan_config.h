/* gan_config.h: the [discriminator] section and the adversarial keys of [train], validated.
 *
 * [discriminator] mirrors upstream's `discriminator = dict(type="NLayerDiscriminator", input_nc=3, ndf=64,
 * n_layers=3, from_pretrained=None)`: `type` turns the discriminator on (absent: off, the shipped stage
 * configs); input_nc, ndf, n_layers; init = normal (n_layer_disc_weights_init) | pytorch; checkpoint = a
 * discriminator.safetensors with upstream's keys to start from (from_pretrained).
 * [train] carries the loss keys as train_vae.py reads them from its config, with its defaults:
 * generator_factor 0.5, discriminator_factor 1, discriminator_start -1, generator_loss_type hinge,
 * discriminator_loss_type hinge, lecam_loss_weight 0 (off), gradient_penalty_loss_weight 0 (a positive value
 * is refused: it needs double backward). Every bad value stops with the file, the key and the value. */
#ifndef VAEC_TRAIN_GAN_CONFIG_H
#define VAEC_TRAIN_GAN_CONFIG_H
#include <stdbool.h>
#include "layers/discriminator.h"   // defines: disc_config
#include "losses/adversarial.h"     // defines: adversarial_config
#include "train/config.h"           // defines: config

typedef struct {
    bool enabled;
    disc_config disc;
    adversarial_config loss;
    const char *checkpoint;   /* NULL or the pretrained discriminator's weights */
} gan_config;

/* image_size and grad_accum_steps of the run: the frames must be large enough for n_layers, and the
 * discriminator step runs on whole batches */
gan_config gan_config_from(const config *c, int image_size, int grad_accum_steps);

#endif
