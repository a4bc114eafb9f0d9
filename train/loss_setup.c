/* loss_setup.c: a vae_loss from a train_config (see loss_setup.h). */
#include "train/loss_setup.h"
#include <unistd.h>   // defines: access

void train_loss_init(vae_loss *l, const train_config *t) {
    vae_loss_init(l, t->rec_l2 ? VAE_REC_L2 : VAE_REC_L1, VAE_REDUCE_UPSTREAM, t->kl_loss_weight, t->train_logvar);
    if (t->perceptual_loss_weight <= 0) return;
    CHECK_HINT(access(t->lpips_path, R_OK) == 0, "write the weights with scripts/convert_lpips.py (docs/training.md), "
               "or set [train] perceptual_loss_weight = 0", "[train] lpips_path = '%s': no such readable file (the LPIPS "
               "weights that perceptual_loss_weight = %g needs)", t->lpips_path, t->perceptual_loss_weight);
    vae_loss_load_lpips(l, t->perceptual_loss_weight, t->lpips_path);
    if (t->dev != DEVICE_CPU) lpips_to_device(l->lpips, t->dev);   /* beside the reconstruction it compares */
}
