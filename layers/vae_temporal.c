/* vae_temporal.c: CausalConv3d, ResBlock, encoder, decoder, pad and crop (see vae_temporal.h). */
#include "layers/vae_temporal.h"
#include <string.h>

#define VT_EPS 1e-5f   /* nn.GroupNorm's default, as upstream */

vae_temporal_config vae_temporal_config_default(void) {
    return (vae_temporal_config){.in_out_channels = 4, .latent_embed_dim = 4, .embed_dim = 4, .filters = 128,
                                 .num_res_blocks = 4, .num_groups = 32, .n_levels = 4,
                                 .channel_multipliers = {1, 2, 2, 4}, .temporal_downsample = {0, 1, 1}};
}

void causal_conv3d_init(causal_conv3d *c, param_list *pl, const char *prefix, int cin, int cout, int k, int stride_t,
                        bool bias, rng_state *rng) {
    char p[512];
    snprintf(p, sizeof p, "%s.conv", prefix);
    conv3d_args a = {{stride_t, 1, 1}, {(k - 1) + (1 - stride_t), 0, k / 2, k / 2, k / 2, k / 2}};
    conv3d_layer_init(&c->conv, pl, p, cin, cout, (int[]){k, k, k}, &a, bias, rng);
}

tensor *causal_conv3d_forward(const causal_conv3d *c, tensor *x) { return conv3d_layer_forward(&c->conv, x); }

void res_block3d_init(res_block3d *r, param_list *pl, const char *prefix, int cin, int cout, int groups, rng_state *rng) {
    char p[512];
#define SUB(name) (snprintf(p, sizeof p, "%s.%s", prefix, name), p)
    group_norm_layer_init(&r->norm1, pl, SUB("norm1"), cin, groups, VT_EPS);
    causal_conv3d_init(&r->conv1, pl, SUB("conv1"), cin, cout, 3, 1, false, rng);
    group_norm_layer_init(&r->norm2, pl, SUB("norm2"), cout, groups, VT_EPS);
    causal_conv3d_init(&r->conv2, pl, SUB("conv2"), cout, cout, 3, 1, false, rng);
    r->has_shortcut = cin != cout;
    if (r->has_shortcut) causal_conv3d_init(&r->conv3, pl, SUB("conv3"), cin, cout, 1, 1, false, rng);
#undef SUB
}

tensor *res_block3d_forward(const res_block3d *r, tensor *x) {
    tensor_scope_begin();
    tensor *h = causal_conv3d_forward(&r->conv1, op_silu(group_norm_layer_forward(&r->norm1, x)));
    h = causal_conv3d_forward(&r->conv2, op_silu(group_norm_layer_forward(&r->norm2, h)));
    return tensor_scope_end(op_add(h, r->has_shortcut ? causal_conv3d_forward(&r->conv3, x) : x));
}

static void check_config(const vae_temporal_config *c) {
    CHECK(c->n_levels >= 1 && c->n_levels <= VT_MAX_LEVELS, "temporal VAE: channel_multipliers has %d entries (1 to %d)",
          c->n_levels, VT_MAX_LEVELS);
    CHECK(c->num_res_blocks >= 1, "temporal VAE: num_res_blocks = %d (at least 1)", c->num_res_blocks);
    for (int i = 0; i < c->n_levels; i++)
        CHECK_HINT((c->filters * c->channel_multipliers[i]) % c->num_groups == 0,
                   "filters x every channel multiplier must be a multiple of num_groups",
                   "temporal VAE: %d channels at level %d cannot be split into %d groups",
                   c->filters * c->channel_multipliers[i], i, c->num_groups);
}

void vae_temporal_init(vae_temporal *m, const vae_temporal_config *cfg, uint64_t seed) {
    memset(m, 0, sizeof *m);
    check_config(cfg);
    m->cfg = *cfg;
    rng_state r = rng_seed(seed);
    param_list *pl = &m->params;
    const int n = cfg->n_levels, nr = cfg->num_res_blocks, g = cfg->num_groups, f0 = cfg->filters;
    const int top = f0 * cfg->channel_multipliers[n - 1];
    m->factor = 1;
    for (int i = 0; i + 1 < n; i++) if (cfg->temporal_downsample[i]) m->factor *= 2;
    m->enc_blocks = xcalloc((size_t)(n * nr), sizeof(res_block3d));
    m->dec_blocks = xcalloc((size_t)(n * nr), sizeof(res_block3d));
    m->enc_res = xcalloc((size_t)nr, sizeof(res_block3d));
    m->dec_res = xcalloc((size_t)nr, sizeof(res_block3d));
    char p[512];

    causal_conv3d_init(&m->enc_conv_in, pl, "encoder.conv_in", cfg->in_out_channels, f0, 3, 1, false, &r);
    int prev = f0;
    for (int i = 0; i < n; i++) {
        int f = f0 * cfg->channel_multipliers[i];
        for (int j = 0; j < nr; j++) {
            snprintf(p, sizeof p, "encoder.block_res_blocks.%d.%d", i, j);
            res_block3d_init(&m->enc_blocks[i * nr + j], pl, p, j == 0 ? prev : f, f, g, &r);
        }
        prev = f;
        if (i + 1 < n && cfg->temporal_downsample[i]) {
            snprintf(p, sizeof p, "encoder.conv_blocks.%d", i);
            causal_conv3d_init(&m->enc_down[i], pl, p, f, f, 3, 2, true, &r);
        }
    }
    for (int j = 0; j < nr; j++) {
        snprintf(p, sizeof p, "encoder.res_blocks.%d", j);
        res_block3d_init(&m->enc_res[j], pl, p, top, top, g, &r);
    }
    group_norm_layer_init(&m->enc_norm, pl, "encoder.norm1", top, g, VT_EPS);
    causal_conv3d_init(&m->enc_conv2, pl, "encoder.conv2", top, 2 * cfg->latent_embed_dim, 1, 1, true, &r);
    causal_conv3d_init(&m->quant_conv, pl, "quant_conv", 2 * cfg->latent_embed_dim, 2 * cfg->embed_dim, 1, 1, true, &r);
    causal_conv3d_init(&m->post_quant_conv, pl, "post_quant_conv", cfg->embed_dim, cfg->latent_embed_dim, 1, 1, true, &r);

    causal_conv3d_init(&m->dec_conv1, pl, "decoder.conv1", cfg->latent_embed_dim, top, 3, 1, true, &r);
    for (int j = 0; j < nr; j++) {
        snprintf(p, sizeof p, "decoder.res_blocks.%d", j);
        res_block3d_init(&m->dec_res[j], pl, p, top, top, g, &r);
    }
    prev = top;
    for (int i = n - 1; i >= 0; i--) {
        int f = f0 * cfg->channel_multipliers[i];
        for (int j = 0; j < nr; j++) {
            snprintf(p, sizeof p, "decoder.block_res_blocks.%d.%d", i, j);
            res_block3d_init(&m->dec_blocks[i * nr + j], pl, p, j == 0 ? prev : f, f, g, &r);
        }
        prev = f;
        if (i > 0 && cfg->temporal_downsample[i - 1]) {
            snprintf(p, sizeof p, "decoder.conv_blocks.%d", i - 1);
            causal_conv3d_init(&m->dec_up[i - 1], pl, p, f, 2 * f, 3, 1, true, &r);
        }
    }
    group_norm_layer_init(&m->dec_norm, pl, "decoder.norm1", prev, g, VT_EPS);
    causal_conv3d_init(&m->dec_conv_out, pl, "decoder.conv_out", prev, cfg->in_out_channels, 3, 1, true, &r);
}

void vae_temporal_free(vae_temporal *m) {
    params_free(&m->params);
    free(m->enc_blocks);
    free(m->dec_blocks);
    free(m->enc_res);
    free(m->dec_res);
}

int vae_temporal_time_pad(const vae_temporal *m, int64_t frames) { return (int)((m->factor - frames % m->factor) % m->factor); }
int64_t vae_temporal_latent_frames(const vae_temporal *m, int64_t frames) { return (frames + m->factor - 1) / m->factor; }

tensor *vae_temporal_encode(const vae_temporal *m, tensor *x) {
    const vae_temporal_config *c = &m->cfg;
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(x->ndim == 5 && x->shape[4] == c->in_out_channels, "temporal VAE encode: expects (B,T,H,W,%d), got %s",
          c->in_out_channels, s);
    tensor_scope_begin();
    int pad = vae_temporal_time_pad(m, x->shape[1]);
    tensor *h = pad ? op_pad(x, (int64_t[]){0, 0, pad, 0, 0, 0, 0, 0, 0, 0}, 0.0f) : x;
    h = causal_conv3d_forward(&m->enc_conv_in, h);
    const int n = c->n_levels, nr = c->num_res_blocks;
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < nr; j++) h = res_block3d_forward(&m->enc_blocks[i * nr + j], h);
        if (i + 1 < n && c->temporal_downsample[i]) h = causal_conv3d_forward(&m->enc_down[i], h);
    }
    for (int j = 0; j < nr; j++) h = res_block3d_forward(&m->enc_res[j], h);
    h = causal_conv3d_forward(&m->enc_conv2, op_silu(group_norm_layer_forward(&m->enc_norm, h)));
    return tensor_scope_end(causal_conv3d_forward(&m->quant_conv, h));
}

tensor *vae_temporal_decode(const vae_temporal *m, tensor *z, int64_t num_frames) {
    const vae_temporal_config *c = &m->cfg;
    char s[96];
    tensor_shape_str(z, s, sizeof s);
    CHECK(z->ndim == 5 && z->shape[4] == c->embed_dim, "temporal VAE decode: expects (B,T,H,W,%d), got %s", c->embed_dim, s);
    int pad = vae_temporal_time_pad(m, num_frames);
    CHECK(z->shape[1] * m->factor >= num_frames + pad && vae_temporal_latent_frames(m, num_frames) == z->shape[1],
          "temporal VAE decode: %lld latent frames cannot decode to %lld frames (expected %lld latent frames)",
          (long long)z->shape[1], (long long)num_frames, (long long)vae_temporal_latent_frames(m, num_frames));
    tensor_scope_begin();
    tensor *h = causal_conv3d_forward(&m->dec_conv1, causal_conv3d_forward(&m->post_quant_conv, z));
    const int n = c->n_levels, nr = c->num_res_blocks;
    for (int j = 0; j < nr; j++) h = res_block3d_forward(&m->dec_res[j], h);
    for (int i = n - 1; i >= 0; i--) {
        for (int j = 0; j < nr; j++) h = res_block3d_forward(&m->dec_blocks[i * nr + j], h);
        if (i > 0 && c->temporal_downsample[i - 1]) h = op_depth_to_time(causal_conv3d_forward(&m->dec_up[i - 1], h), 2);
    }
    h = causal_conv3d_forward(&m->dec_conv_out, op_silu(group_norm_layer_forward(&m->dec_norm, h)));
    if (pad) h = op_slice(h, 1, pad, h->shape[1]);
    return tensor_scope_end(h);
}

int vae_temporal_load(vae_temporal *m, const char *path, const char *file_prefix) {
    return params_load(&m->params, path, file_prefix, NULL);
}

int vae_temporal_save(const vae_temporal *m, const char *path, const char *file_prefix) {
    return params_save(&m->params, path, file_prefix, NULL);
}
