/* params.h: the parameter registry every model fills as it is built.
 *
 * Layers register each parameter under its full PyTorch key ("encoder.down_blocks.0.resnets.1.conv1.weight")
 * with the layout it has in PyTorch, so checkpoint key names fall out of the model's structure and load
 * and save need no hand-written table. vaec stores conv weights channels-last (Cout, k..., Cin);
 * PARAM_CONV entries are permuted from/to PyTorch's (Cout, Cin, k...) at load and save, and nowhere else.
 *
 *   param_list pl = {0};
 *   conv2d_layer_init(&c, &pl, "encoder.conv_in", 3, 128, 3, 1, 1, true, &rng);
 *   if (params_load(&pl, "vae.safetensors", "", &opts) != 0) FATAL("%s", vaec_last_error());
 *   params_save(&pl, "out.safetensors", "", NULL);
 */
#ifndef VAEC_LAYERS_PARAMS_H
#define VAEC_LAYERS_PARAMS_H
#include <stdbool.h>
#include "core/rng.h"       // defines: rng_state
#include "core/safetensors.h"   // defines: st_writer
#include "core/tensor.h"    // defines: tensor

typedef enum { PARAM_PLAIN = 0, PARAM_CONV } param_layout;

typedef struct {
    char *name;             /* full key, without any checkpoint prefix */
    tensor *t;              /* vaec layout, owned */
    param_layout layout;
} param_entry;

typedef struct param_list {
    param_entry *items;
    int n, cap;
} param_list;

/* registers t (takes ownership) under prefix + "." + name (or name alone when prefix is empty) */
tensor *params_add(param_list *pl, const char *prefix, const char *name, tensor *t, param_layout layout);
param_entry *params_find(const param_list *pl, const char *name);
int64_t params_count(const param_list *pl);
void params_set_requires_grad(param_list *pl, bool on);
void params_free(param_list *pl);
void params_to_device(param_list *pl, device_t device);   /* every parameter moved in place (tensor_move_) */

/* Key renames tried when a key is missing, e.g. diffusers' older attention names. */
typedef struct { const char *now, *old; } param_alias;

typedef struct {
    const param_alias *aliases;   /* suffix renames, NULL-terminated list or NULL */
    bool allow_extra;             /* keys in the file that no parameter takes: ignore instead of error */
} params_load_opts;

/* Loads every parameter from `path`, whose keys carry `file_prefix` ("" or e.g. "spatial_vae.module.").
 * fp16/bf16/f64 convert to float32; a missing key, a shape mismatch (both shapes named) or, unless
 * allowed, an extra key under the prefix is an error: returns -1 with vaec_last_error(). A PyTorch
 * (Cout,Cin,1,1) conv weight loads into a (Cout,Cin) linear parameter (old diffusers attention). */
int params_load(param_list *pl, const char *path, const char *file_prefix, const params_load_opts *opts);
/* Writes every parameter in PyTorch layout under file_prefix + name; atomic (temp + rename). */
int params_save(const param_list *pl, const char *path, const char *file_prefix, const char *const *meta_kv);
/* adds every parameter to w in PyTorch layout under file_prefix + name, stored as dtype (F32, F16, BF16) */
void params_writer_add(st_writer *w, const param_list *pl, const char *file_prefix, dtype_t dtype);
/* several models in one file, each under its prefix (a pipeline: spatial_vae.module., temporal_vae.) */
int params_save_multi(const param_list *const *pls, const char *const *prefixes, int n_lists, const char *path,
                      const char *const *meta_kv);

/* PyTorch's default init for conv and linear layers: weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) */
void params_init_uniform(tensor *t, int64_t fan_in, rng_state *rng);

/* layout conversion of one tensor: PyTorch (Cout,Cin,k...) <-> vaec (Cout,k...,Cin); new tensors */
tensor *conv_weight_from_torch(const tensor *w);
tensor *conv_weight_to_torch(const tensor *w);

/* Fills every parameter from a formula of its key and its PyTorch-layout index (the same on the Python
 * side, tests/golden/golden_util.py: fill_deterministic): how full-size models are compared with
 * PyTorch without committing their weights. w[i] = a * u(key, i), u an integer hash uniform in [-1, 1)
 * (exact in both languages), a = 1/sqrt(fan_in) for weights of rank >= 2 (PyTorch's default init range),
 * 1 + 0.1 u for norm weights, 0.02 u for other 1-D tensors. Random-like weights keep deep models as
 * well conditioned as a freshly initialised one, so the comparison tests vaec, not the weights. */
void params_fill_deterministic(param_list *pl);
#endif
