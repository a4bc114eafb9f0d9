/* model_folder.h: checkpoints as folders, the way people exchange them, read without a hand-written config.
 *
 * Three kinds of folder:
 *   diffusers  config.json (_class_name AutoencoderKL) + diffusion_pytorch_model[.fp16|.bf16].safetensors:
 *              a spatial VAE (e.g. the `vae` folder of PixArt-alpha/pixart_sigma_sdxlvae_T5_diffusers)
 *   opensora   config.json (architectures [VideoAutoencoderPipeline]) + model.safetensors with
 *              spatial_vae.module.*, temporal_vae.*, scale, shift (hpcai-tech/OpenSora-VAE-v1.2)
 *   vaec       a training checkpoint ckpt-N/: model.safetensors (or ema.safetensors with `ema`),
 *              state.safetensors, and the Open-Sora config.json vaec writes beside them
 *
 * The folder's config.json becomes config entries ([model] kind, [spatial], [temporal], [pipeline] keys,
 * as a config file would hold them): model_folder_merge() adds them to a user's config, and every key both
 * give must agree (the error names the key and both values). Fields vaec does not know are listed once on
 * stderr as ignored.
 *
 *   model_folder f;
 *   if (model_folder_open(&f, "vae/", false) != 0) FATAL("%s", vaec_last_error());
 *   config c = {0};  c.path = strdup("--set");
 *   if (model_folder_merge(&f, &c, MF_ALL) != 0) FATAL("%s", vaec_last_error());
 *   model_build(&m, &c, 0);  model_load(&m, f.weights);
 */
#ifndef VAEC_TRAIN_MODEL_FOLDER_H
#define VAEC_TRAIN_MODEL_FOLDER_H
#include <stdbool.h>
#include <stdint.h>
#include "train/config.h"         // defines: config
#include "train/model_config.h"   // defines: vaec_model

typedef enum { FOLDER_DIFFUSERS, FOLDER_OPENSORA, FOLDER_VAEC } folder_kind;

/* which of the folder's sections model_folder_merge adds */
enum { MF_KIND = 1, MF_SPATIAL = 2, MF_TEMPORAL = 4, MF_PIPELINE = 8, MF_ALL = 15 };

/* the hub id of the SDXL VAE Open-Sora 1.2 uses (vae_2d.from_pretrained, subfolder "vae") */
#define SDXL_VAE_HUB_ID "PixArt-alpha/pixart_sigma_sdxlvae_T5_diffusers"

typedef struct {
    folder_kind kind;
    char dir[4096];
    char weights[4400];       /* the safetensors file the model loads from */
    char config_json[4400];   /* DIR/config.json */
    bool has_config;          /* false: a vaec checkpoint written before vaec wrote config.json */
    config model;             /* what config.json implies, as config entries (path: DIR/config.json) */
    char spatial_unknown[600];/* opensora: why the spatial architecture could not be found ("" if it was) */
    char ignored[2048];       /* config.json fields vaec does not use, comma separated */
    int64_t step;             /* vaec: the checkpoint's step */
    bool has_ema;             /* vaec: ema.safetensors present */
} model_folder;

bool path_is_dir(const char *path);
const char *folder_kind_name(folder_kind k);   /* "diffusers AutoencoderKL", "Open-Sora pipeline", ... */

/* reads DIR: its kind, weights file (ema: a vaec checkpoint's EMA weights) and config.json;
   prints the ignored fields once. -1 with vaec_last_error() naming the folder, file or field */
int model_folder_open(model_folder *f, const char *dir, bool ema);
void model_folder_free(model_folder *f);

/* adds the folder's entries of `sections` (MF_*) to c; a key c already has must hold the same value
   (numbers compared to 1e-6 relative), else -1 with an error naming the key and both values; the exception is
   [spatial] micro_batch_size, a memory setting the results do not depend on, where c's value wins. With MF_KIND,
   a config of kind spatial or temporal takes only that half of a pipeline folder. */
int model_folder_merge(const model_folder *f, config *c, int sections);

/* The model of a checkpoint argument, built and loaded: CKPT a folder (its config.json describes it; with
   config_path too, both must agree) or a safetensors file (config_path needed). sets: --set overrides,
   given values like the config's. ema: a vaec folder's EMA weights. 0, or -1 with vaec_last_error(). */
int model_open(vaec_model *m, config *cfg, const char *ckpt, const char *config_path, const char *const *sets,
               int n_sets, bool ema);
/* the weights file of a checkpoint argument (a file: itself; a folder: its model file) */
int checkpoint_weights(const char *ckpt, char *out, size_t n);
/* [pipeline|spatial|temporal] checkpoint folders' config.json merged into c (their sections only) */
int model_folder_merge_checkpoints(config *c);

/* an empty config whose errors are attributed to `path`, for a model described by a folder alone */
void config_init_empty(config *c, const char *path);

/* a config's model sections as INI text ([model] kind, [spatial], [temporal], [pipeline]), into buf */
void config_model_text(const config *c, char *buf, size_t n);

#endif
