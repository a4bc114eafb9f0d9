/* model_export.c: diffusers and Open-Sora folders from a vaec model (see model_export.h). */
#include "train/model_export.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/safetensors.h"     // defines: st_writer
#include "train/checkpoint.h"     // defines: remove_tree
#include "train/model_folder.h"   // defines: SDXL_VAE_HUB_ID, path_is_dir

#define OPENSORA_SCALING 0.18215f   /* Open-Sora's VideoAutoencoderKL scales latents by this, whatever the config */

bool spatial_is_sdxl(const autoencoder_kl_config *c) {
    autoencoder_kl_config s = autoencoder_kl_config_sdxl();
    if (c->n_blocks != s.n_blocks) return false;
    for (int i = 0; i < s.n_blocks; i++) if (c->block_out_channels[i] != s.block_out_channels[i]) return false;
    return c->in_channels == s.in_channels && c->out_channels == s.out_channels && c->latent_channels == s.latent_channels &&
           c->layers_per_block == s.layers_per_block && c->norm_num_groups == s.norm_num_groups;
}

static bool temporal_is_sd(const vae_temporal_config *t) {
    vae_temporal_config d = vae_temporal_config_default();
    if (t->n_levels != d.n_levels) return false;
    for (int i = 0; i < d.n_levels; i++) if (t->channel_multipliers[i] != d.channel_multipliers[i]) return false;
    for (int i = 0; i + 1 < d.n_levels; i++) if (t->temporal_downsample[i] != d.temporal_downsample[i]) return false;
    return t->in_out_channels == d.in_out_channels && t->latent_embed_dim == d.latent_embed_dim &&
           t->embed_dim == d.embed_dim && t->filters == d.filters && t->num_res_blocks == d.num_res_blocks &&
           t->num_groups == d.num_groups;
}

static json_value *int_array(const int *v, int n) {
    json_value *a = json_array();
    for (int i = 0; i < n; i++) json_push(a, json_integer(v[i]));
    return a;
}

static json_value *float_array(const float *v, int n) {
    json_value *a = json_array();
    for (int i = 0; i < n; i++) json_push(a, json_number(v[i]));
    return a;
}

static const char *torch_dtype_name(dtype_t d) {
    return d == DTYPE_F16 ? "float16" : d == DTYPE_BF16 ? "bfloat16" : "float32";
}

json_value *pipeline_config_json(const vae_pipeline *p, const char *spatial_from, dtype_t stored) {
    const autoencoder_kl_config *sc = &p->spatial.vae.cfg;
    const vae_temporal_config *tc = &p->temporal.cfg;
    bool sdxl = spatial_is_sdxl(sc);
    json_value *o = json_object(), *v2 = json_object(), *vt = json_object(), *arch = json_array();
    json_push(arch, json_str("VideoAutoencoderPipeline"));
    json_set(o, "architectures", arch);
    /* what inference with the folder wants (the released folder's values); training switches stay in vaec configs */
    json_set(o, "cal_loss", json_boolean(false));
    json_set(o, "freeze_vae_2d", json_boolean(false));
    json_set(o, "from_pretrained", json_null());
    json_set(o, "micro_frame_size", p->micro_frame_size > 0 ? json_integer(p->micro_frame_size) : json_null());
    json_set(o, "model_type", json_str("VideoAutoencoderPipeline"));
    json_set(o, "scale", float_array(p->scale, tc->embed_dim));
    json_set(o, "shift", float_array(p->shift, tc->embed_dim));
    json_set(o, "torch_dtype", json_str(torch_dtype_name(stored)));
    json_set(o, "transformers_version", json_str(OPENSORA_TRANSFORMERS_VERSION));
    json_set(v2, "type", json_str("VideoAutoencoderKL"));
    json_set(v2, "from_pretrained", sdxl ? json_str(SDXL_VAE_HUB_ID) : spatial_from ? json_str(spatial_from) : json_null());
    json_set(v2, "subfolder", json_str("vae"));
    json_set(v2, "micro_batch_size", p->spatial.micro_batch_size > 0 ? json_integer(p->spatial.micro_batch_size) : json_null());
    json_set(v2, "local_files_only", json_boolean(false));
    json_set(o, "vae_2d", v2);
    if (!sdxl || fabsf(sc->scaling_factor - OPENSORA_SCALING) > 1e-6f)   /* what upstream cannot express: for vaec */
        json_set(o, "vae_2d_config", autoencoder_kl_config_json(sc));
    if (temporal_is_sd(tc)) {
        json_set(vt, "type", json_str("VAE_Temporal_SD"));
        json_set(vt, "from_pretrained", json_null());
    } else {
        json_value *td = json_array();
        for (int i = 0; i + 1 < tc->n_levels; i++) json_push(td, json_boolean(tc->temporal_downsample[i]));
        json_set(vt, "type", json_str("VAE_Temporal"));
        json_set(vt, "in_out_channels", json_integer(tc->in_out_channels));
        json_set(vt, "latent_embed_dim", json_integer(tc->latent_embed_dim));
        json_set(vt, "embed_dim", json_integer(tc->embed_dim));
        json_set(vt, "filters", json_integer(tc->filters));
        json_set(vt, "num_res_blocks", json_integer(tc->num_res_blocks));
        json_set(vt, "channel_multipliers", int_array(tc->channel_multipliers, tc->n_levels));
        json_set(vt, "temporal_downsample", td);
        json_set(vt, "num_groups", json_integer(tc->num_groups));
        json_set(vt, "activation_fn", json_str("swish"));
    }
    json_set(o, "vae_temporal", vt);
    return o;
}

/* scale or shift as upstream registers it: (1, C, 1, 1, 1) */
static void add_buffer(st_writer *w, const char *name, const float *v, int c, dtype_t dtype) {
    tensor *t = tensor_from_data(SHAPE(1, c, 1, 1, 1), v);
    st_writer_add(w, name, t, dtype);
    tensor_release(t);
}

static int save_weights(st_writer *w, const char *path) {
    st_writer_meta(w, "format", "pt");   /* as safetensors.torch.save_file writes it */
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

static int write_diffusers(const autoencoder_kl *vae, const char *dir, dtype_t dtype) {
    char path[4400];
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) return vaec_set_error("cannot create '%s': %s", dir, strerror(errno));
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_value *cfg = autoencoder_kl_config_json(&vae->cfg);
    int rc = json_save(cfg, path);
    json_free(cfg);
    if (rc != 0) return rc;
    st_writer *w = st_writer_new();
    params_writer_add(w, &vae->params, "", dtype);
    snprintf(path, sizeof path, "%s/diffusion_pytorch_model.safetensors", dir);
    return save_weights(w, path);
}

static int write_opensora(const vae_pipeline *p, const char *tmp, const char *final_abs, dtype_t dtype) {
    const autoencoder_kl_config *sc = &p->spatial.vae.cfg;
    if (fabsf(sc->scaling_factor - OPENSORA_SCALING) > 1e-6f)
        return vaec_set_error("--to opensora: [spatial] scaling_factor is %g, but Open-Sora's VideoAutoencoderKL scales "
                              "latents by 0.18215 whatever its config says: the exported pipeline would not compute what "
                              "vaec computes (export the spatial VAE with --to diffusers instead)", sc->scaling_factor);
    bool sdxl = spatial_is_sdxl(sc);
    char path[4400], vae_dir[4400];
    if (!sdxl) {   /* upstream builds the spatial VAE from a diffusers folder: this one, DIR/vae */
        snprintf(vae_dir, sizeof vae_dir, "%s/vae", tmp);
        if (write_diffusers(&p->spatial.vae, vae_dir, dtype) != 0) return -1;
        snprintf(vae_dir, sizeof vae_dir, "%s", final_abs);
    }
    json_value *cfg = pipeline_config_json(p, sdxl ? NULL : vae_dir, dtype);
    snprintf(path, sizeof path, "%s/config.json", tmp);
    int rc = json_save(cfg, path);
    json_free(cfg);
    if (rc != 0) return rc;
    st_writer *w = st_writer_new();
    params_writer_add(w, &p->spatial.vae.params, "spatial_vae.module.", dtype);
    params_writer_add(w, &p->temporal.params, "temporal_vae.", dtype);
    add_buffer(w, "scale", p->scale, p->temporal.cfg.embed_dim, dtype);
    add_buffer(w, "shift", p->shift, p->temporal.cfg.embed_dim, dtype);
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    return save_weights(w, path);
}

/* DIR made absolute without requiring it to exist: its parent resolved, its own name appended */
static int absolute_path(const char *dir, char *out, size_t n) {
    char parent[4096], resolved[PATH_MAX];
    snprintf(parent, sizeof parent, "%s", dir);
    size_t l = strlen(parent);
    while (l > 1 && parent[l - 1] == '/') parent[--l] = 0;
    char *slash = strrchr(parent, '/');
    const char *name = slash ? slash + 1 : parent;
    if (slash == parent) snprintf(resolved, sizeof resolved, "/");
    else if (!realpath(slash ? (*slash = 0, parent) : ".", resolved))
        return vaec_set_error("the folder above '%s' does not exist: %s", dir, strerror(errno));
    int k = snprintf(out, n, "%s%s%s", resolved, strcmp(resolved, "/") ? "/" : "", slash ? name : dir);
    if (k < 0 || (size_t)k >= n) return vaec_set_error("'%s': path too long", dir);
    return 0;
}

int model_export(const vaec_model *m, export_target target, const char *dir, dtype_t dtype, bool force) {
    if (target == EXPORT_DIFFUSERS && m->kind == MODEL_TEMPORAL)
        return vaec_set_error("--to diffusers writes the spatial VAE, and this checkpoint holds a temporal VAE alone");
    if (target == EXPORT_OPENSORA && m->kind != MODEL_PIPELINE)
        return vaec_set_error("--to opensora writes a whole pipeline, and this checkpoint holds a %s VAE alone (use "
                              "--to diffusers for a spatial VAE)", m->kind == MODEL_SPATIAL ? "spatial" : "temporal");
    struct stat sb;
    bool exists = stat(dir, &sb) == 0;
    if (exists && !force)
        return vaec_set_error("'%s' already exists: pass --force to replace it (it is replaced only once the new folder "
                              "is complete)", dir);
    if (exists && !S_ISDIR(sb.st_mode)) return vaec_set_error("'%s' exists and is not a folder: not replaced", dir);
    char abs[4200], tmp[4300], old[4300];
    if (absolute_path(dir, abs, sizeof abs) != 0) return -1;
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", abs, (int)getpid());
    snprintf(old, sizeof old, "%s.old.%d", abs, (int)getpid());
    remove_tree(tmp);
    if (mkdir(tmp, 0755) != 0) return vaec_set_error("cannot create '%s': %s", tmp, strerror(errno));
    int rc = target == EXPORT_DIFFUSERS ? write_diffusers(&m->p.spatial.vae, tmp, dtype) : write_opensora(&m->p, tmp, abs, dtype);
    if (rc != 0) {
        char msg[1500];
        snprintf(msg, sizeof msg, "%s", vaec_last_error());
        remove_tree(tmp);
        return vaec_set_error("export to '%s' failed, nothing written: %s", dir, msg);
    }
    if (exists && rename(abs, old) != 0) {
        int err = errno;
        remove_tree(tmp);
        return vaec_set_error("cannot move the existing '%s' aside: %s (it is untouched)", dir, strerror(err));
    }
    if (rename(tmp, abs) != 0) {
        int err = errno;
        if (exists) rename(old, abs);
        remove_tree(tmp);
        return vaec_set_error("cannot move the export into '%s': %s", dir, strerror(err));
    }
    if (exists) remove_tree(old);
    return 0;
}
