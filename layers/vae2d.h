/* vae2d.h: the spatial VAE applied to video, as Open-Sora's VideoAutoencoderKL does it.
 *
 * encode: x (B,T,H,W,3) -> frames (B*T,H,W,3) -> micro batches of micro_batch_size frames -> moments ->
 *         posterior sample (or mean) * scaling_factor -> (B,T,H/8,W/8,4)
 * decode: z / scaling_factor -> micro batches -> decoder -> (B,T,H,W,3)
 * Micro batches are slices of one autograd graph, so in training gradients flow through every chunk
 * (upstream's wrapper could not train with micro batches). Channels-last: the (B*T) frame view is free.
 * tile_sample_size > 0 turns on diffusers-style spatial tiling (inference only, layers/vae2d_tiling.h). */
#ifndef VAEC_LAYERS_VAE2D_H
#define VAEC_LAYERS_VAE2D_H
#include "layers/autoencoder_kl.h"   // defines: autoencoder_kl
#include "layers/posterior.h"        // defines: diag_gaussian

typedef struct {
    autoencoder_kl vae;
    int micro_batch_size;    /* frames per chunk; <= 0 means all at once */
    int tile_sample_size;    /* > 0: frames larger than this are encoded/decoded in tiles (vae2d_tiling.h) */
} vae2d;

/* sample: true draws from the posterior with rng (Open-Sora's default), false uses its mean */
tensor *vae2d_encode(const vae2d *v, tensor *x, bool sample, rng_state *rng);
tensor *vae2d_decode(const vae2d *v, tensor *z);

#endif
