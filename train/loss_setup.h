/* loss_setup.h: the training loss a train_config asks for: L1 (or, with [train] rec_loss = l2, squared)
 * reconstruction with upstream's reduction,
 * the KL weight, the logvar switch and, when [train] perceptual_loss_weight > 0, the LPIPS network read
 * from [train] lpips_path (a missing or unreadable file stops with a message naming the key), moved to the
 * training device. The logvar stays on the host: the trainer moves it with the model. */
#ifndef VAEC_TRAIN_LOSS_SETUP_H
#define VAEC_TRAIN_LOSS_SETUP_H
#include "losses/vae_loss.h"        // defines: vae_loss
#include "train/train_config.h"     // defines: train_config

void train_loss_init(vae_loss *l, const train_config *t);   /* free with vae_loss_free */

#endif
