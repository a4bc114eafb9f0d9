/* model_config.h: model configs from a config file's [model], [spatial], ... sections, validated with
 * messages that name the key. */
#ifndef VAEC_TRAIN_MODEL_CONFIG_H
#define VAEC_TRAIN_MODEL_CONFIG_H
#include "layers/autoencoder_kl.h"   // defines: autoencoder_kl_config
#include "layers/pipeline.h"         // defines: vae_pipeline
#include "train/config.h"            // defines: config

typedef enum { MODEL_SPATIAL, MODEL_TEMPORAL, MODEL_PIPELINE } model_kind;

model_kind model_kind_from(const config *c);                        /* [model] kind */
autoencoder_kl_config spatial_config_from(const config *c);        /* [spatial], SDXL defaults */
int spatial_micro_batch_size_from(const config *c);
vae_temporal_config temporal_config_from(const config *c);         /* [temporal], released defaults */

/* The model a config describes, built (random init) and ready to load: for MODEL_SPATIAL only
   .spatial is set up, for MODEL_TEMPORAL only .temporal, for MODEL_PIPELINE both plus [pipeline]. */
typedef struct {
    model_kind kind;
    vae_pipeline p;
} vaec_model;

void model_build(vaec_model *m, const config *c, uint64_t seed);
/* loads CKPT: a diffusers or Open-Sora file for spatial, Open-Sora (bare or temporal_vae.) for temporal,
   an Open-Sora pipeline file for pipeline; prefixes are detected from the keys. -1 with vaec_last_error() */
int model_load(vaec_model *m, const char *ckpt);
/* one model from a file that holds it bare or under its pipeline prefix (detected); -1 with vaec_last_error() */
int spatial_load_any(autoencoder_kl *vae, const char *path);
int temporal_load_any(vae_temporal *vae, const char *path);
void model_free(vaec_model *m);

#endif
