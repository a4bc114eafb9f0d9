/* model_folder.c: diffusers / Open-Sora / vaec checkpoint folders and their config.json (see model_folder.h). */
#include "train/model_folder.h"
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/check.h"         // defines: vaec_set_error
#include "core/json.h"          // defines: json_value, json_parse_file, json_get
#include "core/safetensors.h"   // defines: st_open, st_meta
#include "train/model_config.h"  // defines: model_build, model_load

bool path_is_dir(const char *path) {
    struct stat sb;
    return path && stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static bool file_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

const char *folder_kind_name(folder_kind k) {
    return k == FOLDER_DIFFUSERS ? "diffusers AutoencoderKL folder"
         : k == FOLDER_OPENSORA  ? "Open-Sora VideoAutoencoderPipeline folder"
                                 : "vaec training checkpoint";
}

void config_init_empty(config *c, const char *path) {
    memset(c, 0, sizeof *c);
    c->path = strdup(path);
}

/* a folder may be opened twice in one run (its config, then its weights): its notes are printed once */
static bool first_time(const char *path) {
    static char seen[8][4500];
    static int n;
    for (int i = 0; i < n; i++) if (!strcmp(seen[i], path)) return false;
    if (n < 8) snprintf(seen[n++], sizeof seen[0], "%s", path);
    return true;
}

/* ---- config.json -> config entries ---- */
typedef struct {
    const char *file;   /* config.json, for messages */
    model_folder *f;
} conv;

static void note_ignored(conv *cv, const char *prefix, const char *key) {
    size_t k = strlen(cv->f->ignored);
    snprintf(cv->f->ignored + k, sizeof cv->f->ignored - k, "%s%s%s", k ? ", " : "", prefix, key);
}

/* every field of obj that is not in known[] is noted as ignored */
static void note_unknown(conv *cv, const json_value *obj, const char *prefix, const char *const *known) {
    for (int i = 0; i < obj->n; i++) {
        bool found = false;
        for (int j = 0; known[j] && !found; j++) found = !strcmp(known[j], obj->keys[i]);
        if (!found) note_ignored(cv, prefix, obj->keys[i]);
    }
}

static int set_entry(conv *cv, const char *section_key, const char *value) {
    char a[5000];
    snprintf(a, sizeof a, "%s=%s", section_key, value);
    return config_set(&cv->f->model, a);
}

static bool is_integral(const json_value *v) {
    return v && v->type == JSON_NUMBER && isfinite(v->num) && v->num == floor(v->num) && fabs(v->num) < 2e9;
}

/* field `name` of obj as an integer into section.key; absent: the default (def_present false: needed) */
static int take_int(conv *cv, const json_value *obj, const char *where, const char *name, const char *section_key,
                    bool has_default, int def) {
    const json_value *v = json_get(obj, name);
    char buf[32];
    if (!v) {
        if (!has_default)
            return vaec_set_error("'%s': needed field '%s%s' is missing (it sets [%.*s] %s)", cv->file, where, name,
                                  (int)(strchr(section_key, '.') - section_key), section_key, strchr(section_key, '.') + 1);
        snprintf(buf, sizeof buf, "%d", def);
    } else {
        if (!is_integral(v)) return vaec_set_error("'%s': field '%s%s' must be an integer", cv->file, where, name);
        snprintf(buf, sizeof buf, "%d", (int)v->num);
    }
    return set_entry(cv, section_key, buf);
}

/* a list of integers (or of booleans, as 0/1) into "a,b,c"; -1 if v is not such a list */
static int int_list(const json_value *v, char *buf, size_t n, int *count) {
    if (!v || v->type != JSON_ARRAY) return -1;
    buf[0] = 0;
    for (int i = 0; i < v->n; i++) {
        const json_value *e = v->items[i];
        int x;
        if (e->type == JSON_BOOL) x = e->b;
        else if (is_integral(e)) x = (int)e->num;
        else return -1;
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s%d", i ? "," : "", x);
    }
    if (count) *count = v->n;
    return 0;
}

/* a number, or a list of numbers, into "a,b,c" (shift, scale) */
static int float_list(const json_value *v, char *buf, size_t n) {
    buf[0] = 0;
    if (v && v->type == JSON_NUMBER) { json_format_float(v->num, buf, n); return 0; }
    if (!v || v->type != JSON_ARRAY || v->n == 0) return -1;
    for (int i = 0; i < v->n; i++) {
        if (v->items[i]->type != JSON_NUMBER) return -1;
        char num[40];
        json_format_float(v->items[i]->num, num, sizeof num);
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s%s", i ? "," : "", num);
    }
    return 0;
}

static const char *str_or(const json_value *v, const char *def) { return v && v->type == JSON_STRING ? v->str : def; }

/* a diffusers AutoencoderKL config -> [spatial]; `where` prefixes field names in messages ("" or "vae_2d_config.") */
static int diffusers_to_spatial(conv *cv, const json_value *o, const char *where, bool take_scaling) {
    static const char *const known[] = {"_class_name", "_diffusers_version", "_name_or_path", "act_fn",
        "block_out_channels", "down_block_types", "up_block_types", "force_upcast", "in_channels", "out_channels",
        "latent_channels", "latents_mean", "latents_std", "layers_per_block", "mid_block_add_attention",
        "norm_num_groups", "sample_size", "scaling_factor", "shift_factor", "use_post_quant_conv", "use_quant_conv", NULL};
    note_unknown(cv, o, where, known);
    char buf[600];
    int nb = 0;
    const json_value *boc = json_get(o, "block_out_channels");
    if (!boc) return vaec_set_error("'%s': needed field '%sblock_out_channels' is missing (it sets [spatial] "
                                    "block_out_channels)", cv->file, where);
    if (int_list(boc, buf, sizeof buf, &nb) != 0 || nb == 0)
        return vaec_set_error("'%s': field '%sblock_out_channels' must be a non-empty list of integers", cv->file, where);
    if (set_entry(cv, "spatial.block_out_channels", buf)) return -1;
    const char *act = str_or(json_get(o, "act_fn"), "silu");
    if (strcmp(act, "silu") && strcmp(act, "swish"))
        return vaec_set_error("'%s': field '%sact_fn' is '%s'; vaec's AutoencoderKL has SiLU only", cv->file, where, act);
    const char *types[2] = {"down_block_types", "up_block_types"}, *want[2] = {"DownEncoderBlock2D", "UpDecoderBlock2D"};
    for (int t = 0; t < 2; t++) {
        const json_value *bt = json_get(o, types[t]);
        if (!bt) continue;
        if (bt->type != JSON_ARRAY || bt->n != nb)
            return vaec_set_error("'%s': field '%s%s' must list %d block types, one per block_out_channels entry",
                                  cv->file, where, types[t], nb);
        for (int i = 0; i < bt->n; i++)
            if (strcmp(str_or(bt->items[i], ""), want[t]))
                return vaec_set_error("'%s': field '%s%s'[%d] is '%s'; vaec builds %s blocks only", cv->file, where,
                                      types[t], i, str_or(bt->items[i], "(not a string)"), want[t]);
    }
    const char *must_true[3] = {"use_quant_conv", "use_post_quant_conv", "mid_block_add_attention"};
    for (int i = 0; i < 3; i++) {
        const json_value *b = json_get(o, must_true[i]);
        if (b && !(b->type == JSON_BOOL && b->b))
            return vaec_set_error("'%s': field '%s%s' is not true; vaec's AutoencoderKL always has it", cv->file, where,
                                  must_true[i]);
    }
    if (take_int(cv, o, where, "layers_per_block", "spatial.layers_per_block", false, 0) ||
        take_int(cv, o, where, "latent_channels", "spatial.latent_channels", false, 0) ||
        take_int(cv, o, where, "norm_num_groups", "spatial.norm_num_groups", false, 0) ||
        take_int(cv, o, where, "in_channels", "spatial.in_channels", true, 3) ||
        take_int(cv, o, where, "out_channels", "spatial.out_channels", true, 3))
        return -1;
    if (take_scaling) {
        const json_value *sf = json_get(o, "scaling_factor");
        if (sf && sf->type != JSON_NUMBER)
            return vaec_set_error("'%s': field '%sscaling_factor' must be a number", cv->file, where);
        json_format_float(sf ? sf->num : 0.18215, buf, sizeof buf);   /* diffusers' default */
        if (set_entry(cv, "spatial.scaling_factor", buf)) return -1;
    }
    return 0;
}

/* the diffusers config.json of a folder (with an optional subfolder) into [spatial] */
static int diffusers_file_to_spatial(conv *cv, const char *path, bool take_scaling) {
    json_value *o = json_parse_file(path);
    if (!o) return -1;
    conv sub = {path, cv->f};
    int rc = diffusers_to_spatial(&sub, o, "", take_scaling);
    json_free(o);
    return rc;
}

/* Open-Sora's vae_temporal dict: type VAE_Temporal_SD (the released model, fixed arguments) or VAE_Temporal
   (every constructor argument, upstream's defaults for absent ones) */
static int temporal_to_config(conv *cv, const json_value *t) {
    static const char *const known[] = {"type", "from_pretrained", "in_out_channels", "latent_embed_dim", "embed_dim",
        "filters", "num_res_blocks", "channel_multipliers", "temporal_downsample", "num_groups", "activation_fn", NULL};
    note_unknown(cv, t, "vae_temporal.", known);
    const char *type = str_or(json_get(t, "type"), NULL);
    if (!type) return vaec_set_error("'%s': needed field 'vae_temporal.type' is missing (VAE_Temporal_SD or VAE_Temporal)", cv->file);
    bool sd = !strcmp(type, "VAE_Temporal_SD");
    if (!sd && strcmp(type, "VAE_Temporal"))
        return vaec_set_error("'%s': field 'vae_temporal.type' is '%s'; vaec builds VAE_Temporal_SD and VAE_Temporal",
                              cv->file, type);
    const json_value *fp = json_get(t, "from_pretrained");
    char key[4500];
    snprintf(key, sizeof key, "%s#vae_temporal.from_pretrained", cv->file);
    if (fp && fp->type != JSON_NULL && first_time(key))
        fprintf(stderr, "vaec: note: %s: vae_temporal.from_pretrained is set; the temporal weights come from the "
                "folder's model.safetensors, as they do upstream once the pipeline loads it\n", cv->file);
    const char *act = str_or(json_get(t, "activation_fn"), "swish");
    if (strcmp(act, "swish") && strcmp(act, "silu"))
        return vaec_set_error("'%s': field 'vae_temporal.activation_fn' is '%s'; vaec's temporal VAE has SiLU (swish) only",
                              cv->file, act);
    const char *ints[6] = {"in_out_channels", "latent_embed_dim", "embed_dim", "filters", "num_res_blocks", "num_groups"};
    const int defs[6] = {4, 4, 4, 128, 4, 32};
    for (int i = 0; i < 6; i++) {
        char sk[64];
        snprintf(sk, sizeof sk, "temporal.%s", ints[i]);
        if (sd && i < 5 && json_get(t, ints[i]))   /* upstream passes these itself: a second value is a TypeError */
            return vaec_set_error("'%s': field 'vae_temporal.%s' cannot be given to VAE_Temporal_SD (it fixes it); use "
                                  "type VAE_Temporal", cv->file, ints[i]);
        if (take_int(cv, t, "vae_temporal.", ints[i], sk, true, defs[i])) return -1;
    }
    const char *lists[2] = {"channel_multipliers", "temporal_downsample"};
    /* VAE_Temporal's own default downsampling is (True, True, False); VAE_Temporal_SD passes (False, True, True) */
    const char *list_defs[2] = {"1,2,2,4", sd ? "0,1,1" : "1,1,0"};
    for (int i = 0; i < 2; i++) {
        char buf[256], sk[64];
        const json_value *v = json_get(t, lists[i]);
        snprintf(sk, sizeof sk, "temporal.%s", lists[i]);
        if (v && sd)
            return vaec_set_error("'%s': field 'vae_temporal.%s' cannot be given to VAE_Temporal_SD (it fixes it); use "
                                  "type VAE_Temporal", cv->file, lists[i]);
        if (v && int_list(v, buf, sizeof buf, NULL) != 0)
            return vaec_set_error("'%s': field 'vae_temporal.%s' must be a list of integers or booleans", cv->file, lists[i]);
        if (set_entry(cv, sk, v ? buf : list_defs[i])) return -1;
    }
    return 0;
}

/* the spatial architecture of an Open-Sora folder: vae_2d_config (written by vaec; its scaling_factor is the
   one vaec trained with, 0.18215 in anything exported for Open-Sora), a local
   from_pretrained folder, DIR/<subfolder>, or the SDXL hub id; Open-Sora scales latents by 0.18215 always */
static int vae_2d_to_config(conv *cv, const json_value *root, const json_value *v2) {
    static const char *const known[] = {"type", "from_pretrained", "subfolder", "micro_batch_size", "local_files_only",
                                        "cache_dir", NULL};
    note_unknown(cv, v2, "vae_2d.", known);
    const char *type = str_or(json_get(v2, "type"), NULL);
    if (!type || strcmp(type, "VideoAutoencoderKL"))
        return vaec_set_error("'%s': field 'vae_2d.type' is %s%s%s; vaec builds VideoAutoencoderKL", cv->file,
                              type ? "'" : "", type ? type : "missing", type ? "'" : "");
    const json_value *mb = json_get(v2, "micro_batch_size");
    char buf[4600];
    if (mb && mb->type != JSON_NULL && !is_integral(mb))
        return vaec_set_error("'%s': field 'vae_2d.micro_batch_size' must be an integer or null", cv->file);
    snprintf(buf, sizeof buf, "%d", mb && mb->type != JSON_NULL ? (int)mb->num : 0);   /* null: all frames at once */
    if (set_entry(cv, "spatial.micro_batch_size", buf)) return -1;
    if (set_entry(cv, "spatial.scaling_factor", "0.18215")) return -1;
    const json_value *inline_cfg = json_get(root, "vae_2d_config");
    if (inline_cfg && inline_cfg->type == JSON_OBJECT) return diffusers_to_spatial(cv, inline_cfg, "vae_2d_config.", true);
    const char *fp = str_or(json_get(v2, "from_pretrained"), ""), *sub = str_or(json_get(v2, "subfolder"), "");
    const char *bases[2] = {fp, cv->f->dir};
    for (int i = 0; i < 2; i++) {   /* the folder named, then the subfolder beside config.json (a moved folder) */
        if (!*bases[i]) continue;
        snprintf(buf, sizeof buf, "%s%s%s/config.json", bases[i], *sub ? "/" : "", sub);
        if (file_exists(buf) && (i == 0 || *sub)) return diffusers_file_to_spatial(cv, buf, false);
    }
    if (!strcmp(fp, SDXL_VAE_HUB_ID) || !strcmp(fp, "stabilityai/sdxl-vae")) {
        const char *sdxl[][2] = {{"spatial.block_out_channels", "128,256,512,512"}, {"spatial.layers_per_block", "2"},
                                 {"spatial.latent_channels", "4"}, {"spatial.norm_num_groups", "32"},
                                 {"spatial.in_channels", "3"}, {"spatial.out_channels", "3"}};
        for (int i = 0; i < 6; i++) if (set_entry(cv, sdxl[i][0], sdxl[i][1])) return -1;
        return 0;
    }
    snprintf(cv->f->spatial_unknown, sizeof cv->f->spatial_unknown,
             "'%.200s': vae_2d.from_pretrained = '%.200s' is neither a local diffusers folder nor %s, so the spatial VAE's "
             "architecture is unknown", cv->file, fp, SDXL_VAE_HUB_ID);
    return 0;
}

static int opensora_to_config(conv *cv, const json_value *o) {
    static const char *const known[] = {"architectures", "model_type", "torch_dtype", "transformers_version",
        "_name_or_path", "vae_2d", "vae_temporal", "from_pretrained", "freeze_vae_2d", "cal_loss", "micro_frame_size",
        "shift", "scale", "vae_2d_config", NULL};
    note_unknown(cv, o, "", known);
    if (set_entry(cv, "model.kind", "pipeline")) return -1;
    const json_value *v2 = json_get(o, "vae_2d"), *vt = json_get(o, "vae_temporal");
    if (!v2 || v2->type != JSON_OBJECT)
        return vaec_set_error("'%s': needed field 'vae_2d' is missing or not an object", cv->file);
    if (!vt || vt->type != JSON_OBJECT)
        return vaec_set_error("'%s': needed field 'vae_temporal' is missing or not an object", cv->file);
    if (vae_2d_to_config(cv, o, v2) || temporal_to_config(cv, vt)) return -1;
    const json_value *mfs = json_get(o, "micro_frame_size");
    char buf[600];
    if (mfs && mfs->type != JSON_NULL && !is_integral(mfs))
        return vaec_set_error("'%s': field 'micro_frame_size' must be an integer or null", cv->file);
    snprintf(buf, sizeof buf, "%d", mfs && mfs->type != JSON_NULL ? (int)mfs->num : 0);   /* None: no chunking */
    if (set_entry(cv, "pipeline.micro_frame_size", buf)) return -1;
    int embed = config_int(&cv->f->model, "temporal", "embed_dim", 4);
    const char *names[2] = {"shift", "scale"};
    const double defs[2] = {0.0, 1.0};   /* VideoAutoencoderPipelineConfig's defaults */
    for (int i = 0; i < 2; i++) {
        const json_value *v = json_get(o, names[i]);
        if (v && float_list(v, buf, sizeof buf) != 0)
            return vaec_set_error("'%s': field '%s' must be a number or a list of numbers", cv->file, names[i]);
        if (!v || v->type == JSON_NUMBER) {   /* a scalar applies to every channel */
            char one[40], all[400] = "";
            if (v) snprintf(one, sizeof one, "%.39s", buf);
            else json_format_float(defs[i], one, sizeof one);
            for (int c = 0; c < embed; c++) { size_t k = strlen(all); snprintf(all + k, sizeof all - k, "%s%s", c ? "," : "", one); }
            snprintf(buf, sizeof buf, "%s", all);
        }
        char sk[32];
        snprintf(sk, sizeof sk, "pipeline.%s", names[i]);
        if (set_entry(cv, sk, buf)) return -1;
    }
    return 0;
}

static bool array_has(const json_value *a, const char *s) {
    if (!a || a->type != JSON_ARRAY) return false;
    for (int i = 0; i < a->n; i++) if (!strcmp(str_or(a->items[i], ""), s)) return true;
    return false;
}

static int read_config_json(model_folder *f) {
    json_value *o = json_parse_file(f->config_json);
    if (!o) return -1;
    conv cv = {f->config_json, f};
    int rc;
    if (o->type != JSON_OBJECT) rc = vaec_set_error("'%s' is not a JSON object", f->config_json);
    else if (!strcmp(str_or(json_get(o, "_class_name"), ""), "AutoencoderKL")) {
        if (f->kind == FOLDER_VAEC) rc = vaec_set_error("'%s': a vaec checkpoint holds a pipeline, not an AutoencoderKL", f->config_json);
        else {
            f->kind = FOLDER_DIFFUSERS;
            rc = set_entry(&cv, "model.kind", "spatial");
            if (rc == 0) rc = diffusers_to_spatial(&cv, o, "", true);
        }
    } else if (array_has(json_get(o, "architectures"), "VideoAutoencoderPipeline") ||
               !strcmp(str_or(json_get(o, "model_type"), ""), "VideoAutoencoderPipeline")) {
        if (f->kind != FOLDER_VAEC) f->kind = FOLDER_OPENSORA;
        rc = opensora_to_config(&cv, o);
    } else {
        const char *cls = str_or(json_get(o, "_class_name"), NULL);
        rc = vaec_set_error("'%s' describes %s%s%s: vaec reads an AutoencoderKL (\"_class_name\": \"AutoencoderKL\") or "
                            "an Open-Sora VideoAutoencoderPipeline (\"architectures\": [\"VideoAutoencoderPipeline\"])",
                            f->config_json, cls ? "a " : "neither", cls ? cls : "", cls ? "" : " (no _class_name or architectures)");
    }
    json_free(o);
    return rc;
}

/* upstream registers config.json's shift and scale as buffers in model.safetensors: both must say the same
   (to the precision of the stored type), or the folder was edited by hand */
static int check_buffers(const model_folder *f) {
    st_file *w = st_open(f->weights);
    if (!w) return -1;
    const char *names[2] = {"shift", "scale"};
    int rc = 0;
    for (int i = 0; i < 2 && rc == 0; i++) {
        const st_entry *e = st_find(w, names[i]);
        const char *cfg = config_str(&f->model, "pipeline", names[i], NULL);
        if (!e || !cfg) continue;
        double tol = !strcmp(e->dtype, "F32") || !strcmp(e->dtype, "F64") ? 1e-6 : !strcmp(e->dtype, "F16") ? 1e-3 : 8e-3;
        tensor *t = st_load(w, names[i]);
        const char *p = cfg;
        for (int64_t k = 0; k < t->numel && rc == 0; k++) {
            char *end;
            double want = strtod(p, &end), got = tensor_f32(t)[k];
            p = *end == ',' ? end + 1 : end;
            if (fabs(got - want) > tol * fmax(1.0, fabs(want)))
                rc = vaec_set_error("'%s': buffer '%s'[%lld] is %g, but %s gives %s = %s: the two disagree", f->weights,
                                    names[i], (long long)k, got, f->config_json, names[i], cfg);
        }
        tensor_release(t);
    }
    st_close(w);
    return rc;
}

int model_folder_open(model_folder *f, const char *dir, bool ema) {
    memset(f, 0, sizeof *f);
    snprintf(f->dir, sizeof f->dir, "%s", dir);
    size_t l = strlen(f->dir);
    while (l > 1 && f->dir[l - 1] == '/') f->dir[--l] = 0;
    snprintf(f->config_json, sizeof f->config_json, "%s/config.json", f->dir);
    config_init_empty(&f->model, f->config_json);
    char p[4400];
    snprintf(p, sizeof p, "%s/state.safetensors", f->dir);
    bool vaec = file_exists(p);
    if (vaec) {
        f->kind = FOLDER_VAEC;
        st_file *s = st_open(p);
        if (!s) return -1;
        const char *step = st_meta(s, "step");
        f->step = step ? atoll(step) : -1;
        st_close(s);
        snprintf(p, sizeof p, "%s/ema.safetensors", f->dir);
        f->has_ema = file_exists(p);
        if (ema && !f->has_ema)
            return vaec_set_error("'%s' has no ema.safetensors: that run kept no EMA ([train] ema_decay = 0)", f->dir);
        snprintf(f->weights, sizeof f->weights, "%s/%s.safetensors", f->dir, ema ? "ema" : "model");
    } else if (ema) {
        return vaec_set_error("--ema: '%s' is not a vaec training checkpoint (no state.safetensors); only those hold EMA "
                              "weights", f->dir);
    }
    f->has_config = file_exists(f->config_json);
    if (!f->has_config) {
        if (vaec) return 0;   /* written before vaec wrote config.json: the caller needs --config */
        snprintf(p, sizeof p, "%s/vae/config.json", f->dir);
        if (file_exists(p))
            return vaec_set_error("'%s' has no config.json, but '%s/vae' has one: pass the 'vae' subfolder (a diffusers "
                                  "pipeline keeps its VAE there)", f->dir, f->dir);
        return vaec_set_error("'%s' has no config.json: vaec reads diffusers AutoencoderKL folders, Open-Sora pipeline "
                              "folders and its own ckpt-N folders", f->dir);
    }
    if (read_config_json(f) != 0) return -1;
    if (f->ignored[0] && first_time(f->config_json))
        fprintf(stderr, "vaec: note: %s: fields vaec does not use, ignored: %s\n", f->config_json, f->ignored);
    if (f->kind == FOLDER_DIFFUSERS) {
        const char *names[3] = {"diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.fp16.safetensors",
                                "diffusion_pytorch_model.bf16.safetensors"};
        for (int i = 0; i < 3 && !f->weights[0]; i++) {
            snprintf(p, sizeof p, "%s/%s", f->dir, names[i]);
            if (file_exists(p)) snprintf(f->weights, sizeof f->weights, "%s", p);
        }
        if (!f->weights[0])
            return vaec_set_error("'%s' has a diffusers config.json but no diffusion_pytorch_model.safetensors (nor its "
                                  ".fp16/.bf16 variants); .bin weights are not read: convert them to safetensors", f->dir);
    } else if (f->kind == FOLDER_OPENSORA) {
        snprintf(f->weights, sizeof f->weights, "%s/model.safetensors", f->dir);
        if (!file_exists(f->weights))
            return vaec_set_error("'%s' has an Open-Sora config.json but no model.safetensors", f->dir);
    }
    return f->kind == FOLDER_DIFFUSERS ? 0 : check_buffers(f);
}

void model_folder_free(model_folder *f) { config_free(&f->model); }

/* ---- merging into a user's config ---- */
static bool is_true(const char *v) { return !strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on"); }

/* equal as numbers (lists, 1e-6 relative), as booleans, or as text */
static bool same_value(const char *a, const char *b) {
    double x[64], y[64];
    int nx = 0, ny = 0;
    const char *s[2] = {a, b};
    double *out[2] = {x, y};
    int *n[2] = {&nx, &ny};
    bool numeric = true;
    for (int k = 0; k < 2 && numeric; k++) {
        const char *p = s[k];
        while (*p && numeric) {
            char *e;
            double v = strtod(p, &e);
            if (e == p || *n[k] == 64) { numeric = false; break; }
            out[k][(*n[k])++] = v;
            while (isspace((unsigned char)*e)) e++;
            if (*e == ',') e++;
            else if (*e) numeric = false;
            p = e;
        }
    }
    if (numeric && nx > 0) {
        if (nx != ny) return false;
        for (int i = 0; i < nx; i++)
            if (fabs(x[i] - y[i]) > 1e-6 * fmax(fabs(x[i]), fabs(y[i]))) return false;
        return true;
    }
    bool ba = is_true(a) || !strcmp(a, "false") || !strcmp(a, "0"), bb = is_true(b) || !strcmp(b, "false") || !strcmp(b, "0");
    if (ba && bb) return is_true(a) == is_true(b);
    return !strcmp(a, b);
}

int model_folder_merge(const model_folder *f, config *c, int sections) {
    if (!f->has_config)
        return vaec_set_error("'%s' has no config.json (a checkpoint of an older vaec): pass --config with its model",
                              f->dir);
    const char *kind = config_str(c, "model", "kind", NULL);
    if ((sections & MF_KIND) && kind && f->kind != FOLDER_DIFFUSERS && strcmp(kind, "pipeline")) {
        /* one half of a pipeline folder, as a pipeline file's half loads today */
        sections = !strcmp(kind, "spatial") ? MF_SPATIAL : !strcmp(kind, "temporal") ? MF_TEMPORAL : sections;
    }
    if ((sections & MF_SPATIAL) && f->spatial_unknown[0] && !config_str(c, "spatial", "block_out_channels", NULL))
        return vaec_set_error("%s: pass --config with a [spatial] section", f->spatial_unknown);
    for (int i = 0; i < f->model.n; i++) {
        const config_entry *e = &f->model.entries[i];
        int bit = !strcmp(e->section, "model") ? MF_KIND : !strcmp(e->section, "spatial") ? MF_SPATIAL
                : !strcmp(e->section, "temporal") ? MF_TEMPORAL : MF_PIPELINE;
        if (!(sections & bit)) continue;
        /* inside a pipeline the spatial latents are scaled by Open-Sora's 0.18215, not by the diffusers config's factor */
        if (f->kind == FOLDER_DIFFUSERS && kind && !strcmp(kind, "pipeline") && !strcmp(e->key, "scaling_factor")) continue;
        const char *mine = config_str(c, e->section, e->key, NULL);
        /* frames per spatial VAE call: a memory setting, results do not depend on it: the config's wins */
        if (mine && !strcmp(e->section, "spatial") && !strcmp(e->key, "micro_batch_size")) continue;
        if (mine && !same_value(mine, e->value))
            return vaec_set_error("[%s] %s: %s says %s, but %s says %s (the folder's config.json describes the weights: "
                                  "drop the key from the config, or use a checkpoint of that model)", e->section, e->key,
                                  f->config_json, e->value, c->path, mine);
        if (!mine) {
            char a[1200];
            snprintf(a, sizeof a, "%s.%s=%s", e->section, e->key, e->value);
            if (config_set(c, a) != 0) return -1;
        }
    }
    return 0;
}

void config_model_text(const config *c, char *buf, size_t n) {
    const char *sections[4] = {"model", "spatial", "temporal", "pipeline"};
    size_t k = 0;
    buf[0] = 0;
    for (int s = 0; s < 4; s++) {
        bool header = false;
        for (int i = 0; i < c->n && k < n; i++) {
            if (strcmp(c->entries[i].section, sections[s])) continue;
            if (!header) { k += (size_t)snprintf(buf + k, n - k, "[%s]\n", sections[s]); header = true; }
            if (k < n) k += (size_t)snprintf(buf + k, n - k, "%s = %s\n", c->entries[i].key, c->entries[i].value);
        }
    }
}

/* ---- a model from a checkpoint argument ---- */
int model_open(vaec_model *m, config *cfg, const char *ckpt, const char *config_path, const char *const *sets,
               int n_sets, bool ema) {
    bool folder = path_is_dir(ckpt);
    if (!folder && ema)
        return vaec_set_error("--ema: '%s' is a file; --ema picks the EMA weights of a vaec checkpoint folder (ckpt-N/)", ckpt);
    if (!folder && !config_path)
        return vaec_set_error("'%s' is a safetensors file, which does not say which model it holds: pass --config (or "
                              "give a folder with a config.json)", ckpt);
    if (config_path) {
        if (config_load(cfg, config_path) != 0) return -1;
    } else config_init_empty(cfg, "--set");
    for (int i = 0; i < n_sets; i++) if (config_set(cfg, sets[i]) != 0) return -1;
    const char *weights = ckpt;
    model_folder f;
    if (folder) {
        if (model_folder_open(&f, ckpt, ema) != 0) { model_folder_free(&f); return -1; }
        if (f.kind == FOLDER_VAEC && !f.has_config && config_path) {
            /* an older vaec checkpoint: the config describes it */
        } else if (model_folder_merge(&f, cfg, MF_ALL) != 0) { model_folder_free(&f); return -1; }
        if (!config_path) {   /* the model's values came from config.json: later range checks name it */
            free(cfg->path);
            cfg->path = strdup(f.config_json);
        }
        weights = f.weights;
    }
    model_build(m, cfg, 0);
    int rc = model_load(m, weights);
    if (folder) model_folder_free(&f);
    return rc;
}

int checkpoint_weights(const char *ckpt, char *out, size_t n) {
    if (!path_is_dir(ckpt)) { snprintf(out, n, "%s", ckpt); return 0; }
    model_folder f;
    int rc = model_folder_open(&f, ckpt, false);
    if (rc == 0) snprintf(out, n, "%s", f.weights);
    model_folder_free(&f);
    return rc;
}

int model_folder_merge_checkpoints(config *c) {
    const char *keys[3][2] = {{"pipeline", "checkpoint"}, {"spatial", "checkpoint"}, {"temporal", "checkpoint"}};
    const int sections[3] = {MF_SPATIAL | MF_TEMPORAL | MF_PIPELINE, MF_SPATIAL, MF_TEMPORAL};
    for (int i = 0; i < 3; i++) {
        const char *path = config_str(c, keys[i][0], keys[i][1], NULL);
        if (!path || !path_is_dir(path)) continue;
        model_folder f;
        int rc = model_folder_open(&f, path, false);
        if (rc == 0 && (f.has_config || f.kind != FOLDER_VAEC)) rc = model_folder_merge(&f, c, sections[i]);
        model_folder_free(&f);
        if (rc != 0) {
            char msg[2000];
            snprintf(msg, sizeof msg, "%s", vaec_last_error());
            return vaec_set_error("[%s] checkpoint = %s: %s", keys[i][0], path, msg);
        }
    }
    return 0;
}
