/* autoencoder_kl.h: diffusers' AutoencoderKL (the SDXL image VAE Open-Sora applies to every frame).
 *
 * Built from its config (block_out_channels, layers_per_block, latent_channels, norm_num_groups, in/out
 * channels); parameters registered under diffusers' key names, so a diffusers
 * diffusion_pytorch_model.safetensors loads with autoencoder_kl_load() and vaec's save loads back with
 * AutoencoderKL.from_pretrained. Images are channels-last (N,H,W,C).
 *
 *   Encoder: conv_in; down_blocks[i] = layers_per_block ResnetBlock2D (+ Downsample2D except the last);
 *            mid_block (resnet, attention, resnet); conv_norm_out; SiLU; conv_out -> 2*latent channels.
 *   quant_conv (1x1): moments (N,h,w,2*latent) = mean | logvar along channels.
 *   post_quant_conv (1x1); Decoder: conv_in; mid_block; up_blocks[i] = layers_per_block+1 resnets
 *            (+ Upsample2D except the last); conv_norm_out; SiLU; conv_out.
 * GroupNorm eps is 1e-6 throughout, as in diffusers' VAE. */
#ifndef VAEC_LAYERS_AUTOENCODER_KL_H
#define VAEC_LAYERS_AUTOENCODER_KL_H
#include "core/json.h"                  // defines: json_value
#include "layers/attention_block2d.h"   // defines: attention_block2d
#include "layers/resnet_block2d.h"      // defines: resnet_block2d

#define AEKL_MAX_BLOCKS 8
#define AEKL_MAX_LAYERS 8

typedef struct {
    int in_channels, out_channels, latent_channels, layers_per_block, norm_num_groups;
    int n_blocks, block_out_channels[AEKL_MAX_BLOCKS];
    float scaling_factor;        /* used by the video wrapper (vae2d.h), not by encode/decode */
} autoencoder_kl_config;

autoencoder_kl_config autoencoder_kl_config_sdxl(void);   /* the SDXL config of reference-model.md section 2 */

typedef struct {
    resnet_block2d resnets[2];
    attention_block2d attention;
} unet_mid_block2d;

typedef struct {
    resnet_block2d resnets[AEKL_MAX_LAYERS + 1];
    int n_resnets;
    conv2d_layer sampler;        /* Downsample2D / Upsample2D conv */
    bool has_sampler;
} unet_block2d;

typedef struct {
    autoencoder_kl_config cfg;
    conv2d_layer enc_conv_in, enc_conv_out, quant_conv, post_quant_conv, dec_conv_in, dec_conv_out;
    unet_block2d down[AEKL_MAX_BLOCKS], up[AEKL_MAX_BLOCKS];
    unet_mid_block2d enc_mid, dec_mid;
    group_norm_layer enc_norm_out, dec_norm_out;
    param_list params;
} autoencoder_kl;

void autoencoder_kl_init(autoencoder_kl *m, const autoencoder_kl_config *cfg, uint64_t seed);
void autoencoder_kl_free(autoencoder_kl *m);

tensor *autoencoder_kl_encode(const autoencoder_kl *m, tensor *x);   /* (N,H,W,in) -> moments (N,H/f,W/f,2*latent) */
tensor *autoencoder_kl_decode(const autoencoder_kl *m, tensor *z);   /* (N,h,w,latent) -> (N,h*f,w*f,out) */

/* diffusers checkpoint I/O; file_prefix "" for diffusers files, "spatial_vae.module." inside Open-Sora's */
int autoencoder_kl_load(autoencoder_kl *m, const char *path, const char *file_prefix);
int autoencoder_kl_save(const autoencoder_kl *m, const char *path, const char *file_prefix);
/* a diffusers model folder: DIR/config.json + DIR/diffusion_pytorch_model.safetensors, which
   AutoencoderKL.from_pretrained(DIR) loads; both files written atomically */
int autoencoder_kl_save_pretrained(const autoencoder_kl *m, const char *dir);
/* config.json as diffusers writes it for this config (every field, AutoencoderKL.from_pretrained reads it) */
#define AEKL_DIFFUSERS_VERSION "0.42.1"   /* the diffusers release whose config.json fields these are */
json_value *autoencoder_kl_config_json(const autoencoder_kl_config *c);

#endif
