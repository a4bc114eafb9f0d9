/* model_config.c: [model] and [spatial] sections to model configs (see model_config.h). */
#include "train/model_config.h"
#include <string.h>

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
