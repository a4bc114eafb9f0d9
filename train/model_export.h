/* model_export.h: a model written as the folder its home tool loads (`vaec ckpt export`).
 *
 *   diffusers  DIR/config.json + DIR/diffusion_pytorch_model.safetensors: the spatial VAE alone, loaded with
 *              AutoencoderKL.from_pretrained(DIR)
 *   opensora   DIR/config.json + DIR/model.safetensors (spatial_vae.module.*, temporal_vae.*, the scale and
 *              shift buffers): the pipeline, loaded with VideoAutoencoderPipeline.from_pretrained(DIR).
 *              vae_2d names the SDXL VAE by its hub id when the spatial VAE has SDXL's architecture (as the
 *              released folder does; the weights then come from model.safetensors); another architecture
 *              is written as a diffusers folder DIR/vae/, named by DIR's absolute path.
 * The folder is written under DIR.tmp.<pid> and renamed into place when complete; an existing DIR is
 * refused unless force, and then replaced only once the new one is whole. */
#ifndef VAEC_TRAIN_MODEL_EXPORT_H
#define VAEC_TRAIN_MODEL_EXPORT_H
#include <stdbool.h>
#include "core/json.h"              // defines: json_value
#include "train/model_config.h"     // defines: vaec_model

typedef enum { EXPORT_DIFFUSERS, EXPORT_OPENSORA } export_target;

#define OPENSORA_TRANSFORMERS_VERSION "4.36.2"   /* informational: transformers only logs it */

/* Open-Sora's VideoAutoencoderPipeline config.json for p. spatial_from: vae_2d.from_pretrained for a
   non-SDXL spatial VAE (NULL: null, with the architecture inline under vae_2d_config, which vaec reads and
   upstream ignores). torch_dtype names the stored weights' type. */
json_value *pipeline_config_json(const vae_pipeline *p, const char *spatial_from, dtype_t stored);
bool spatial_is_sdxl(const autoencoder_kl_config *c);

/* 0, or -1 with vaec_last_error() (nothing written, an existing DIR untouched) */
int model_export(const vaec_model *m, export_target target, const char *dir, dtype_t dtype, bool force);

#endif
