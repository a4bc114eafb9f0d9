/* model_config.c: [model] and [spatial] sections to model configs (see model_config.h). */
#include "train/model_config.h"
#include <string.h>
#include "core/safetensors.h"   // defines: st_open, st_find

model_kind model_kind_from(const config *c) {
    const char *k = config_str(c, "model", "kind", "pipeline");
    if (!strcmp(k, "spatial")) return MODEL_SPATIAL;
    if (!strcmp(k, "temporal")) return MODEL_TEMPORAL;
    if (!strcmp(k, "pipeline")) return MODEL_PIPELINE;
    FATAL("config %s: [model] kind = '%s' (expected spatial, temporal or pipeline)", c->path, k);
}

autoencoder_kl_config spatial_config_from(const config *c) {
    autoencoder_kl_config s = autoencoder_kl_config_sdxl();
    s.in_channels = config_int(c, "spatial", "in_channels", s.in_channels);
    s.out_channels = config_int(c, "spatial", "out_channels", s.out_channels);
    s.latent_channels = config_int(c, "spatial", "latent_channels", s.latent_channels);
    s.layers_per_block = config_int(c, "spatial", "layers_per_block", s.layers_per_block);
    s.norm_num_groups = config_int(c, "spatial", "norm_num_groups", s.norm_num_groups);
    s.scaling_factor = (float)config_float(c, "spatial", "scaling_factor", s.scaling_factor);
    int def[AEKL_MAX_BLOCKS];
    memcpy(def, s.block_out_channels, sizeof def);
    s.n_blocks = config_ints(c, "spatial", "block_out_channels", s.block_out_channels, AEKL_MAX_BLOCKS, def, s.n_blocks);
    CHECK(s.n_blocks >= 1, "config %s: [spatial] block_out_channels is empty", c->path);
    for (int i = 0; i < s.n_blocks; i++)
        CHECK_HINT(s.block_out_channels[i] > 0 && s.block_out_channels[i] % s.norm_num_groups == 0,
                   "every block_out_channels entry must be a multiple of norm_num_groups",
                   "config %s: [spatial] block_out_channels[%d] = %d with norm_num_groups = %d", c->path, i,
                   s.block_out_channels[i], s.norm_num_groups);
    CHECK(s.layers_per_block >= 1 && s.layers_per_block <= AEKL_MAX_LAYERS, "config %s: [spatial] layers_per_block = %d "
          "(1 to %d)", c->path, s.layers_per_block, AEKL_MAX_LAYERS);
    CHECK(s.latent_channels > 0 && s.in_channels > 0 && s.out_channels > 0, "config %s: [spatial] channel counts must be positive",
          c->path);
    CHECK(s.scaling_factor > 0, "config %s: [spatial] scaling_factor must be positive", c->path);
    return s;
}

int spatial_micro_batch_size_from(const config *c) { return config_int(c, "spatial", "micro_batch_size", 4); }

vae_temporal_config temporal_config_from(const config *c) {
    vae_temporal_config t = vae_temporal_config_default();
    t.in_out_channels = config_int(c, "temporal", "in_out_channels", t.in_out_channels);
    t.latent_embed_dim = config_int(c, "temporal", "latent_embed_dim", t.latent_embed_dim);
    t.embed_dim = config_int(c, "temporal", "embed_dim", t.embed_dim);
    t.filters = config_int(c, "temporal", "filters", t.filters);
    t.num_res_blocks = config_int(c, "temporal", "num_res_blocks", t.num_res_blocks);
    t.num_groups = config_int(c, "temporal", "num_groups", t.num_groups);
    int def[VT_MAX_LEVELS];
    memcpy(def, t.channel_multipliers, sizeof def);
    t.n_levels = config_ints(c, "temporal", "channel_multipliers", t.channel_multipliers, VT_MAX_LEVELS, def, t.n_levels);
    memcpy(def, t.temporal_downsample, sizeof def);
    int nd = config_ints(c, "temporal", "temporal_downsample", t.temporal_downsample, VT_MAX_LEVELS, def, 3);
    CHECK(nd == t.n_levels - 1, "config %s: [temporal] temporal_downsample has %d entries; channel_multipliers has %d, "
          "so it needs %d", c->path, nd, t.n_levels, t.n_levels - 1);
    for (int i = 0; i < nd; i++)
        CHECK(t.temporal_downsample[i] == 0 || t.temporal_downsample[i] == 1,
              "config %s: [temporal] temporal_downsample entries are 0 or 1, got %d", c->path, t.temporal_downsample[i]);
    CHECK(t.filters > 0 && t.num_res_blocks > 0 && t.num_groups > 0 && t.embed_dim > 0 && t.embed_dim <= 8,
          "config %s: [temporal] filters, num_res_blocks, num_groups must be positive and embed_dim 1..8", c->path);
    for (int i = 0; i < t.n_levels; i++)
        CHECK_HINT((t.filters * t.channel_multipliers[i]) % t.num_groups == 0,
                   "filters x every channel multiplier must be a multiple of num_groups",
                   "config %s: [temporal] level %d has %d channels, not divisible by num_groups = %d", c->path, i,
                   t.filters * t.channel_multipliers[i], t.num_groups);
    return t;
}

void model_build(vaec_model *m, const config *c, uint64_t seed) {
    memset(m, 0, sizeof *m);
    m->kind = model_kind_from(c);
    vae_pipeline *p = &m->p;
    if (m->kind != MODEL_TEMPORAL) {
        autoencoder_kl_config sc = spatial_config_from(c);
        autoencoder_kl_init(&p->spatial.vae, &sc, seed);
        p->spatial.micro_batch_size = spatial_micro_batch_size_from(c);
    }
    if (m->kind != MODEL_SPATIAL) {
        vae_temporal_config tc = temporal_config_from(c);
        vae_temporal_init(&p->temporal, &tc, seed + 1);
    }
    if (m->kind == MODEL_PIPELINE) {
        p->micro_frame_size = config_int(c, "pipeline", "micro_frame_size", 17);
        CHECK(p->micro_frame_size >= 0, "config %s: [pipeline] micro_frame_size must be >= 0 (0: no chunking)", c->path);
        const float shift[4] = {-0.10f, 0.34f, 0.27f, 0.98f}, scale[4] = {3.85f, 2.32f, 2.33f, 3.06f};
        int ne = p->temporal.cfg.embed_dim;
        int ns = config_floats(c, "pipeline", "shift", p->shift, 8, shift, 4);
        int nc = config_floats(c, "pipeline", "scale", p->scale, 8, scale, 4);
        CHECK(ns == ne && nc == ne, "config %s: [pipeline] shift and scale need %d entries (embed_dim), got %d and %d",
              c->path, ne, ns, nc);
        for (int i = 0; i < ne; i++) CHECK(p->scale[i] != 0, "config %s: [pipeline] scale[%d] is 0", c->path, i);
        p->freeze_vae_2d = config_bool(c, "pipeline", "freeze_vae_2d", true);
        p->cal_loss = config_bool(c, "pipeline", "cal_loss", true);
        p->sample_posterior = config_bool(c, "pipeline", "sample_posterior", true);
        vae_pipeline_setup(p);
    }
}

/* which of the two pipeline prefixes a file's keys carry: bit 0 spatial, bit 1 temporal; -1 unreadable */
static int pipeline_prefixes(const char *path) {
    st_file *f = st_open(path);
    if (!f) return -1;
    int bits = (st_find(f, "spatial_vae.module.encoder.conv_in.weight") ? 1 : 0) |
               (st_find(f, "temporal_vae.encoder.conv_in.conv.weight") ? 2 : 0);
    st_close(f);
    return bits;
}

int spatial_load_any(autoencoder_kl *vae, const char *path) {
    int bits = pipeline_prefixes(path);
    return bits < 0 ? -1 : autoencoder_kl_load(vae, path, bits & 1 ? "spatial_vae.module." : "");
}

int temporal_load_any(vae_temporal *vae, const char *path) {
    int bits = pipeline_prefixes(path);
    return bits < 0 ? -1 : vae_temporal_load(vae, path, bits & 2 ? "temporal_vae." : "");
}

int model_load(vaec_model *m, const char *ckpt) {
    if (m->kind == MODEL_SPATIAL) return spatial_load_any(&m->p.spatial.vae, ckpt);
    if (m->kind == MODEL_TEMPORAL) return temporal_load_any(&m->p.temporal, ckpt);
    int bits = pipeline_prefixes(ckpt);
    if (bits < 0) return -1;
    if (bits != 3)
        return vaec_set_error("'%s' is not an Open-Sora pipeline checkpoint: it lacks %s (a pipeline needs "
                              "spatial_vae.module.* and temporal_vae.* keys)", ckpt,
                              bits & 1 ? "temporal_vae.* keys" : "spatial_vae.module.* keys");
    return vae_pipeline_load(&m->p, ckpt);
}

void model_free(vaec_model *m) {
    if (m->kind != MODEL_TEMPORAL) autoencoder_kl_free(&m->p.spatial.vae);
    if (m->kind != MODEL_SPATIAL) vae_temporal_free(&m->p.temporal);
}
