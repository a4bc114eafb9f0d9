/* vae_temporal.h: Open-Sora 1.2's temporal VAE (VAE_Temporal_SD): 3-D causal convolutions over the
 * spatial latents, 4x temporal compression (2^(number of temporal_downsample)), no spatial change.
 *
 *   CausalConv3d: zero pad time at the front by (k-1) + (1-stride_t), H and W by k/2, conv with stride
 *                 (stride_t,1,1); keys "<name>.conv.weight/.bias". One op_conv3d call: the pad is the
 *                 conv's own per-side padding, never a copy.
 *   ResBlock:     conv2(silu(norm2(conv1(silu(norm1(x)))))) + (conv3(x) if channels change else x);
 *                 3x3x3 convs without bias, 1x1x1 shortcut without bias; GroupNorm eps 1e-5 over
 *                 C/groups x T x H x W (all frames: not strictly causal, as upstream).
 *   Encoder:      conv_in; block_res_blocks[i] (num_res_blocks each); conv_blocks[i] = stride-2 causal conv
 *                 where temporal_downsample[i]; res_blocks; norm1; SiLU; conv2 -> 2*latent_embed_dim.
 *   Decoder:      conv1; res_blocks; for i = n-1..0: block_res_blocks[i]; if i > 0 and
 *                 temporal_downsample[i-1]: conv_blocks[i-1] (f -> 2f) then depth-to-time; norm1; SiLU; conv_out.
 *   encode(x):    pad (factor - T % factor) % factor zero frames at the front; encoder; quant_conv -> moments.
 *   decode(z, T): post_quant_conv; decoder; drop the first pad(T) frames.
 * Tensors are channels-last: x (B,T,H,W,in_out_channels), moments (B,T',H,W,2*embed_dim). */
#ifndef VAEC_LAYERS_VAE_TEMPORAL_H
#define VAEC_LAYERS_VAE_TEMPORAL_H
#include "layers/basic.h"   // defines: conv3d_layer, group_norm_layer, param_list

#define VT_MAX_LEVELS 8

typedef struct {
    int in_out_channels, latent_embed_dim, embed_dim, filters, num_res_blocks, num_groups;
    int n_levels, channel_multipliers[VT_MAX_LEVELS];
    int temporal_downsample[VT_MAX_LEVELS];   /* n_levels - 1 entries, 0 or 1 */
} vae_temporal_config;

vae_temporal_config vae_temporal_config_default(void);   /* the released 309.7M-parameter model */

typedef struct { conv3d_layer conv; } causal_conv3d;

typedef struct {
    group_norm_layer norm1, norm2;
    causal_conv3d conv1, conv2, conv3;
    bool has_shortcut;
} res_block3d;

typedef struct {
    vae_temporal_config cfg;
    int factor;                                   /* temporal compression: 2^(sum temporal_downsample) */
    causal_conv3d enc_conv_in, enc_conv2, quant_conv, post_quant_conv, dec_conv1, dec_conv_out;
    causal_conv3d enc_down[VT_MAX_LEVELS], dec_up[VT_MAX_LEVELS];
    res_block3d *enc_blocks, *enc_res, *dec_res, *dec_blocks;   /* level-major, num_res_blocks per level */
    group_norm_layer enc_norm, dec_norm;
    param_list params;
} vae_temporal;

void causal_conv3d_init(causal_conv3d *c, param_list *pl, const char *prefix, int cin, int cout, int k, int stride_t,
                        bool bias, rng_state *rng);
tensor *causal_conv3d_forward(const causal_conv3d *c, tensor *x);
void res_block3d_init(res_block3d *r, param_list *pl, const char *prefix, int cin, int cout, int groups, rng_state *rng);
tensor *res_block3d_forward(const res_block3d *r, tensor *x);

void vae_temporal_init(vae_temporal *m, const vae_temporal_config *cfg, uint64_t seed);
void vae_temporal_free(vae_temporal *m);
int vae_temporal_time_pad(const vae_temporal *m, int64_t frames);
int64_t vae_temporal_latent_frames(const vae_temporal *m, int64_t frames);   /* ceil(T / factor) */

tensor *vae_temporal_encode(const vae_temporal *m, tensor *x);                    /* -> moments */
tensor *vae_temporal_decode(const vae_temporal *m, tensor *z, int64_t num_frames);

/* Open-Sora key names: "" for a lone temporal VAE, "temporal_vae." inside a pipeline */
int vae_temporal_load(vae_temporal *m, const char *path, const char *file_prefix);
int vae_temporal_save(const vae_temporal *m, const char *path, const char *file_prefix);

#endif
