/* discriminator.h: NLayerDiscriminator, the PatchGAN discriminator of pix2pix / taming-transformers that
 * Open-Sora v1.2.0's scripts/train_vae.py trains beside the VAE (opensora/models/vae/discriminator.py).
 *
 *   main = [Conv2d(input_nc, ndf, 4, stride 2, pad 1, bias), LeakyReLU(0.2),
 *           for n in 1..n_layers-1: Conv2d(ndf*min(2^(n-1),8), ndf*min(2^n,8), 4, stride 2, pad 1, no bias),
 *                                   BatchNorm2d, LeakyReLU(0.2),
 *           Conv2d(ndf*min(2^(n_layers-1),8), ndf*min(2^n_layers,8), 4, stride 1, pad 1, no bias), BatchNorm2d,
 *           LeakyReLU(0.2),
 *           Conv2d(ndf*min(2^n_layers,8), 1, 4, stride 1, pad 1, bias)]
 * Keys are upstream's state_dict names: main.<index in the Sequential>.{weight,bias} and, for a BatchNorm,
 * main.<i>.{running_mean,running_var,num_batches_tracked} (num_batches_tracked stored as a float32 scalar:
 * exact to 2^24 forward passes; PyTorch's int64 loads from it with load_state_dict).
 *
 * Frames go in as images: a video (B,T,H,W,C) is (B*T,H,W,C) channels-last, which is train_vae.py's
 * "b c t h w -> (b t) c h w". Output: (N, h, w, 1) logits. In training mode every BatchNorm normalises with
 * the batch's statistics and moves its running ones (momentum 0.1, eps 1e-5, as PyTorch), counting the
 * pass in num_batches_tracked; in eval mode the running statistics normalise.
 *
 *   nlayer_discriminator d;
 *   disc_init(&d, &(disc_config){3, 64, 3, DISC_INIT_NORMAL}, &rng);
 *   tensor *logits = disc_forward(&d, frames);     // training mode unless d.training = false
 *   disc_free(&d);
 */
#ifndef VAEC_LAYERS_DISCRIMINATOR_H
#define VAEC_LAYERS_DISCRIMINATOR_H
#include "layers/basic.h"    // defines: conv2d_layer
#include "layers/params.h"   // defines: param_list

#define DISC_MAX_LAYERS 8

/* DISC_INIT_NORMAL: upstream's n_layer_disc_weights_init (conv weights N(0, 0.02), BatchNorm weights
 * N(1, 0.02) and biases 0; the two conv biases keep PyTorch's default); DISC_INIT_PYTORCH: PyTorch's
 * defaults (what v1.2.0's registry builds, since NLayerDiscriminator does not apply the former itself) */
typedef enum { DISC_INIT_NORMAL = 0, DISC_INIT_PYTORCH } disc_init_kind;

typedef struct {
    int input_nc, ndf, n_layers;
    disc_init_kind init;
} disc_config;

typedef struct {
    tensor *w, *b, *running_mean, *running_var, *num_batches_tracked;
    double batches;   /* num_batches_tracked's value, counted on the host */
} disc_batch_norm;

typedef struct {
    disc_config cfg;
    int n_convs;                               /* n_layers + 2 */
    conv2d_layer conv[DISC_MAX_LAYERS + 2];
    disc_batch_norm bn[DISC_MAX_LAYERS + 2];   /* after conv 1 .. n_layers */
    param_list params;                         /* weights and buffers, under upstream's keys */
    tensor *trainable[4 * (DISC_MAX_LAYERS + 2)];   /* what the optimizer updates: conv and BatchNorm weights */
    int n_trainable;
    bool training;                             /* default true: batch statistics, running ones move */
} nlayer_discriminator;

void disc_init(nlayer_discriminator *d, const disc_config *c, rng_state *rng);
void disc_free(nlayer_discriminator *d);
void disc_to_device(nlayer_discriminator *d, device_t device);
/* frames (N,H,W,input_nc) or a video (B,T,H,W,input_nc) -> logits (N or B*T, h, w, 1) */
tensor *disc_forward(nlayer_discriminator *d, tensor *x);
/* values in the trainable weights (conv and BatchNorm weights and biases) */
int64_t disc_trainable_count(const nlayer_discriminator *d);
/* the trainable weights take gradients (on) or not (off: the generator's pass through D) */
void disc_set_requires_grad(nlayer_discriminator *d, bool on);
/* after a load: the host counters from the num_batches_tracked tensors */
void disc_sync_counters(nlayer_discriminator *d);
/* loads weights and buffers from a safetensors file with upstream's keys under prefix ("" or e.g.
 * "discriminator."); -1 with vaec_last_error() naming the file and the key or shape at fault */
int disc_load(nlayer_discriminator *d, const char *path, const char *prefix);
/* the spatial size of the logits for H x W frames (0 or less: frames too small) */
void disc_output_size(const disc_config *c, int64_t H, int64_t W, int64_t *h, int64_t *w);

#endif
