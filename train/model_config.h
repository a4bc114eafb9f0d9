/* model_config.h: model configs from a config file's [model], [spatial], ... sections, validated with
 * messages that name the key. */
#ifndef VAEC_TRAIN_MODEL_CONFIG_H
#define VAEC_TRAIN_MODEL_CONFIG_H
#include "layers/autoencoder_kl.h"   // defines: autoencoder_kl_config
#include "train/config.h"            // defines: config

typedef enum { MODEL_SPATIAL, MODEL_TEMPORAL, MODEL_PIPELINE } model_kind;

model_kind model_kind_from(const config *c);                        /* [model] kind */
autoencoder_kl_config spatial_config_from(const config *c);        /* [spatial], SDXL defaults */
int spatial_micro_batch_size_from(const config *c);

#endif
