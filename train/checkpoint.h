/* checkpoint.h: training checkpoints, written so that nothing already on disk is ever lost.
 *
 * OUT_DIR/ckpt-<step, 9 digits>/
 *   model.safetensors       the weights under Open-Sora's key names (a pipeline: spatial_vae.module.*,
 *                           temporal_vae.*; a lone model: bare names), loadable as released checkpoints are
 *   optimizer.safetensors   AdamW state: "exp_avg.<key>", "exp_avg_sq.<key>" for every trainable key
 *   ema.safetensors         only with an EMA: the whole model under the same names, trainable weights replaced
 *                           by their moving averages (load it like model.safetensors to use the EMA weights)
 *   config.json             the model's Open-Sora pipeline config (model_export.h), so encode/decode/export
 *                           need no --config
 *   state.safetensors       step, optimizer step, RNG (seed, offset), data position, loss logvar, as tensors
 *                           and metadata (readable with `vaec ckpt info`)
 *   discriminator.safetensors, disc_optimizer.safetensors   only with a discriminator (train/checkpoint_disc.h)
 * A checkpoint is written into ckpt-<step>.tmp and renamed when complete, so a crash, a full disk or a
 * SIGINT mid-write leaves the previous checkpoints untouched; only complete ones are found by resume. Every
 * file carries a checksum of each tensor and of its metadata, checked at load: a corrupted checkpoint is
 * reported (file and tensor named), and `--resume auto` falls back to the newest one that verifies.
 * After a successful write, all but the newest `keep` checkpoints are removed. */
#ifndef VAEC_TRAIN_CHECKPOINT_H
#define VAEC_TRAIN_CHECKPOINT_H
#include <stdint.h>
#include "core/rng.h"          // defines: rng_state
#include "layers/params.h"     // defines: param_list
#include "optim/adamw.h"       // defines: adamw
#include "optim/ema.h"         // defines: ema

#define CKPT_MAX_MODELS 2
#define CKPT_MAX_POSITION 8

typedef struct {
    param_list *models[CKPT_MAX_MODELS];         /* e.g. spatial and temporal of a pipeline */
    const char *prefixes[CKPT_MAX_MODELS];       /* their key prefixes in the file */
    int n_models;
    adamw *opt;
    tensor *loss_logvar;                          /* may be NULL */
    ema *ema;                                     /* may be NULL: no EMA */
    const struct json_value *config_json;         /* may be NULL: written as config.json (the model it holds) */
    const struct ckpt_extra *extra;               /* may be NULL: more files in the same folder (the discriminator) */
} ckpt_parts;

/* files a run adds to its checkpoints (train/checkpoint_disc.h): save writes them into the checkpoint's
 * temporary folder before it is renamed; load reads them after the rest; both 0 or -1 + vaec_last_error() */
typedef struct ckpt_extra {
    int (*save)(void *ctx, const char *dir);
    int (*load)(void *ctx, const char *dir);
    void *ctx;
} ckpt_extra;

typedef struct {
    int64_t step;
    rng_state rng;
    int64_t position[CKPT_MAX_POSITION];          /* the data loader's position (opaque here) */
    int n_position;
} ckpt_state;

/* a file, or a folder and everything in it; 0 or -1 (errno) */
int remove_tree(const char *path);

/* writes OUT_DIR/ckpt-<step>; returns 0, or -1 with vaec_last_error() (nothing replaced) */
int ckpt_save(const char *out_dir, const ckpt_parts *parts, const ckpt_state *st, int keep);
/* loads a checkpoint folder into the parts (the optimizer must track the same parameters) */
int ckpt_load(const char *dir, const ckpt_parts *parts, ckpt_state *st);
/* the newest complete checkpoint under out_dir into path (size n): 1 found, 0 none, -1 error */
int ckpt_find_latest(const char *out_dir, char *path, size_t n);
/* `--resume auto`: loads the newest complete checkpoint under out_dir that loads and verifies (checksums:
 * core/safetensors.h); each newer one that does not is named on stderr with the reason, and skipped.
 * 1 loaded (its folder in path), 0 no checkpoint at all, -1 none loads (the newest one's error). */
int ckpt_load_latest(const char *out_dir, const ckpt_parts *parts, ckpt_state *st, char *path, size_t n);

#endif
