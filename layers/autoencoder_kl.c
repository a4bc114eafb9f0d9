/* autoencoder_kl.c: diffusers AutoencoderKL blocks, encoder, decoder and checkpoint I/O. */
#include "layers/autoencoder_kl.h"
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json.h"   // defines: json_object, json_save

#define VAE_EPS 1e-6f

autoencoder_kl_config autoencoder_kl_config_sdxl(void) {
    return (autoencoder_kl_config){.in_channels = 3, .out_channels = 3, .latent_channels = 4, .layers_per_block = 2,
                                   .norm_num_groups = 32, .n_blocks = 4, .block_out_channels = {128, 256, 512, 512},
                                   .scaling_factor = 0.18215f};
}

static void mid_init(unet_mid_block2d *mb, param_list *pl, const char *prefix, int ch, int groups, rng_state *rng) {
    char p[512];
    snprintf(p, sizeof p, "%s.resnets.0", prefix);
    resnet_block2d_init(&mb->resnets[0], pl, p, ch, ch, groups, VAE_EPS, rng);
    snprintf(p, sizeof p, "%s.attentions.0", prefix);
    attention_block2d_init(&mb->attention, pl, p, ch, groups, VAE_EPS, rng);
    snprintf(p, sizeof p, "%s.resnets.1", prefix);
    resnet_block2d_init(&mb->resnets[1], pl, p, ch, ch, groups, VAE_EPS, rng);
}

static tensor *mid_forward(const unet_mid_block2d *mb, tensor *x) {
    tensor_scope_begin();
    tensor *h = resnet_block2d_forward(&mb->resnets[0], x);
    h = attention_block2d_forward(&mb->attention, h);
    return tensor_scope_end(resnet_block2d_forward(&mb->resnets[1], h));
}

/* a DownEncoderBlock2D (down = true) or UpDecoderBlock2D */
static void block_init(unet_block2d *b, param_list *pl, const char *prefix, int cin, int cout, int n_resnets,
                       bool sampler, bool down, int groups, rng_state *rng) {
    char p[512];
    CHECK(n_resnets <= AEKL_MAX_LAYERS + 1, "layers_per_block above %d", AEKL_MAX_LAYERS);
    b->n_resnets = n_resnets;
    for (int j = 0; j < n_resnets; j++) {
        snprintf(p, sizeof p, "%s.resnets.%d", prefix, j);
        resnet_block2d_init(&b->resnets[j], pl, p, j == 0 ? cin : cout, cout, groups, VAE_EPS, rng);
    }
    b->has_sampler = sampler;
    if (sampler) {
        snprintf(p, sizeof p, "%s.%s.0.conv", prefix, down ? "downsamplers" : "upsamplers");
        conv2d_layer_init(&b->sampler, pl, p, cout, cout, 3, down ? 2 : 1, down ? 0 : 1, true, rng);
        /* Downsample2D pads right and bottom by one (F.pad(x, (0,1,0,1))), then a stride-2 conv, pad 0 */
        if (down) b->sampler.args = (conv2d_args){{2, 2}, {0, 1, 0, 1}};
    }
}

static tensor *block_forward(const unet_block2d *b, tensor *x, bool down) {
    tensor_scope_begin();
    tensor *h = x;
    for (int j = 0; j < b->n_resnets; j++) h = resnet_block2d_forward(&b->resnets[j], h);
    if (b->has_sampler) {
        if (!down) h = op_upsample_nearest2x(h);   /* Upsample2D: nearest 2x, then conv 3x3 pad 1 */
        h = conv2d_layer_forward(&b->sampler, h);
    }
    return tensor_scope_end(h);
}

void autoencoder_kl_init(autoencoder_kl *m, const autoencoder_kl_config *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    CHECK(cfg->n_blocks >= 1 && cfg->n_blocks <= AEKL_MAX_BLOCKS, "block_out_channels: %d entries (1 to %d)",
          cfg->n_blocks, AEKL_MAX_BLOCKS);
    rng_state r = rng_seed(seed);
    param_list *pl = &m->params;
    const int *boc = cfg->block_out_channels, n = cfg->n_blocks, g = cfg->norm_num_groups, top = boc[n - 1];
    char p[512];
    conv2d_layer_init(&m->enc_conv_in, pl, "encoder.conv_in", cfg->in_channels, boc[0], 3, 1, 1, true, &r);
    for (int i = 0; i < n; i++) {
        snprintf(p, sizeof p, "encoder.down_blocks.%d", i);
        block_init(&m->down[i], pl, p, i ? boc[i - 1] : boc[0], boc[i], cfg->layers_per_block, i < n - 1, true, g, &r);
    }
    mid_init(&m->enc_mid, pl, "encoder.mid_block", top, g, &r);
    group_norm_layer_init(&m->enc_norm_out, pl, "encoder.conv_norm_out", top, g, VAE_EPS);
    conv2d_layer_init(&m->enc_conv_out, pl, "encoder.conv_out", top, 2 * cfg->latent_channels, 3, 1, 1, true, &r);
    conv2d_layer_init(&m->quant_conv, pl, "quant_conv", 2 * cfg->latent_channels, 2 * cfg->latent_channels, 1, 1, 0,
                      true, &r);
    conv2d_layer_init(&m->post_quant_conv, pl, "post_quant_conv", cfg->latent_channels, cfg->latent_channels, 1, 1, 0,
                      true, &r);
    conv2d_layer_init(&m->dec_conv_in, pl, "decoder.conv_in", cfg->latent_channels, top, 3, 1, 1, true, &r);
    mid_init(&m->dec_mid, pl, "decoder.mid_block", top, g, &r);
    for (int i = 0; i < n; i++) {   /* up blocks walk the channels in reverse */
        int cout = boc[n - 1 - i], cin = i ? boc[n - i] : top;
        snprintf(p, sizeof p, "decoder.up_blocks.%d", i);
        block_init(&m->up[i], pl, p, cin, cout, cfg->layers_per_block + 1, i < n - 1, false, g, &r);
    }
    group_norm_layer_init(&m->dec_norm_out, pl, "decoder.conv_norm_out", boc[0], g, VAE_EPS);
    conv2d_layer_init(&m->dec_conv_out, pl, "decoder.conv_out", boc[0], cfg->out_channels, 3, 1, 1, true, &r);
}

void autoencoder_kl_free(autoencoder_kl *m) { params_free(&m->params); }

tensor *autoencoder_kl_encode(const autoencoder_kl *m, tensor *x) {
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(x->ndim == 4 && x->shape[3] == m->cfg.in_channels, "spatial VAE encode: expects (N,H,W,%d), got %s",
          m->cfg.in_channels, s);
    tensor_scope_begin();
    tensor *h = conv2d_layer_forward(&m->enc_conv_in, x);
    for (int i = 0; i < m->cfg.n_blocks; i++) h = block_forward(&m->down[i], h, true);
    h = mid_forward(&m->enc_mid, h);
    h = conv2d_layer_forward(&m->enc_conv_out, op_silu(group_norm_layer_forward(&m->enc_norm_out, h)));
    return tensor_scope_end(conv2d_layer_forward(&m->quant_conv, h));
}

tensor *autoencoder_kl_decode(const autoencoder_kl *m, tensor *z) {
    char s[96];
    tensor_shape_str(z, s, sizeof s);
    CHECK(z->ndim == 4 && z->shape[3] == m->cfg.latent_channels, "spatial VAE decode: expects (N,h,w,%d), got %s",
          m->cfg.latent_channels, s);
    tensor_scope_begin();
    tensor *h = conv2d_layer_forward(&m->dec_conv_in, conv2d_layer_forward(&m->post_quant_conv, z));
    h = mid_forward(&m->dec_mid, h);
    for (int i = 0; i < m->cfg.n_blocks; i++) h = block_forward(&m->up[i], h, false);
    h = conv2d_layer_forward(&m->dec_conv_out, op_silu(group_norm_layer_forward(&m->dec_norm_out, h)));
    return tensor_scope_end(h);
}

int autoencoder_kl_load(autoencoder_kl *m, const char *path, const char *file_prefix) {
    params_load_opts o = {.aliases = attention_block2d_old_names, .allow_extra = false};
    return params_load(&m->params, path, file_prefix, &o);
}

int autoencoder_kl_save(const autoencoder_kl *m, const char *path, const char *file_prefix) {
    const char *meta[] = {"format", "pt", NULL};
    return params_save(&m->params, path, file_prefix, meta);
}

/* the fields diffusers 0.42 writes for an AutoencoderKL; those vaec has no counterpart for carry diffusers'
   defaults (sample_size, force_upcast, latents_mean/std, shift_factor), which do not change the model */
json_value *autoencoder_kl_config_json(const autoencoder_kl_config *c) {
    json_value *o = json_object(), *boc = json_array(), *down = json_array(), *up = json_array();
    for (int i = 0; i < c->n_blocks; i++) {
        json_push(boc, json_integer(c->block_out_channels[i]));
        json_push(down, json_str("DownEncoderBlock2D"));
        json_push(up, json_str("UpDecoderBlock2D"));
    }
    json_set(o, "_class_name", json_str("AutoencoderKL"));
    json_set(o, "_diffusers_version", json_str(AEKL_DIFFUSERS_VERSION));
    json_set(o, "act_fn", json_str("silu"));
    json_set(o, "block_out_channels", boc);
    json_set(o, "down_block_types", down);
    json_set(o, "force_upcast", json_boolean(true));
    json_set(o, "in_channels", json_integer(c->in_channels));
    json_set(o, "latent_channels", json_integer(c->latent_channels));
    json_set(o, "latents_mean", json_null());
    json_set(o, "latents_std", json_null());
    json_set(o, "layers_per_block", json_integer(c->layers_per_block));
    json_set(o, "mid_block_add_attention", json_boolean(true));
    json_set(o, "norm_num_groups", json_integer(c->norm_num_groups));
    json_set(o, "out_channels", json_integer(c->out_channels));
    json_set(o, "sample_size", json_integer(32));
    json_set(o, "scaling_factor", json_number(c->scaling_factor));
    json_set(o, "shift_factor", json_null());
    json_set(o, "up_block_types", up);
    json_set(o, "use_post_quant_conv", json_boolean(true));
    json_set(o, "use_quant_conv", json_boolean(true));
    return o;
}

int autoencoder_kl_save_pretrained(const autoencoder_kl *m, const char *dir) {
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return vaec_set_error("cannot create folder '%s': %s", dir, strerror(errno));
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_value *cfg = autoencoder_kl_config_json(&m->cfg);
    int rc = json_save(cfg, path);
    json_free(cfg);
    if (rc != 0) return rc;
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    return autoencoder_kl_save(m, path, "");
}
