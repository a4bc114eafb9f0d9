/* checkpoint_disc.h: the discriminator's part of a training checkpoint (train/checkpoint.h's extra files).
 *
 *   ckpt-N/discriminator.safetensors    the discriminator under upstream's keys (main.0.weight, ...,
 *                                       main.3.running_mean, main.3.num_batches_tracked): loads into
 *                                       Open-Sora's NLayerDiscriminator with load_state_dict
 *   ckpt-N/disc_optimizer.safetensors   its AdamW state ("exp_avg.<key>", "exp_avg_sq.<key>", metadata
 *                                       adamw_step) and the LeCam EMAs (metadata lecam_ema_real, lecam_ema_fake)
 * Both carry checksums and are written inside the checkpoint's temporary folder, like every other file.
 * A checkpoint without discriminator.safetensors (a run without one) loads with a warning and the
 * discriminator as it is (upstream's train_vae.py does the same); one whose keys or shapes differ from the
 * config's discriminator is an error naming the file and the key. */
#ifndef VAEC_TRAIN_CHECKPOINT_DISC_H
#define VAEC_TRAIN_CHECKPOINT_DISC_H
#include "train/checkpoint.h"   // defines: ckpt_extra
#include "train/step_gan.h"     // defines: gan_trainer

ckpt_extra ckpt_disc_extra(gan_trainer *g);
int ckpt_disc_save(void *gan, const char *dir);
int ckpt_disc_load(void *gan, const char *dir);

#endif
