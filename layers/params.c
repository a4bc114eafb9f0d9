/* params.c: the parameter registry, checkpoint load and save (see params.h). */
#include "layers/params.h"
#include <math.h>
#include <string.h>
#include "core/ops/shape.h"       // defines: permute_channels_last
#include "core/safetensors.h"     // defines: st_open, st_writer

tensor *params_add(param_list *pl, const char *prefix, const char *name, tensor *t, param_layout layout) {
    char key[512];
    if (prefix && *prefix) snprintf(key, sizeof key, "%s.%s", prefix, name);
    else snprintf(key, sizeof key, "%s", name);
    CHECK(params_find(pl, key) == NULL, "parameter '%s' registered twice", key);
    if (pl->n == pl->cap) {
        pl->cap = pl->cap ? 2 * pl->cap : 64;
        pl->items = xrealloc(pl->items, (size_t)pl->cap * sizeof *pl->items);
    }
    pl->items[pl->n++] = (param_entry){strdup(key), t, layout};
    tensor_set_name(t, key);
    t->requires_grad = true;
    return t;
}

param_entry *params_find(const param_list *pl, const char *name) {
    for (int i = 0; i < pl->n; i++) if (!strcmp(pl->items[i].name, name)) return &pl->items[i];
    return NULL;
}

int64_t params_count(const param_list *pl) {
    int64_t n = 0;
    for (int i = 0; i < pl->n; i++) n += pl->items[i].t->numel;
    return n;
}

void params_set_requires_grad(param_list *pl, bool on) {
    for (int i = 0; i < pl->n; i++) pl->items[i].t->requires_grad = on;
}

void params_to_device(param_list *pl, device_t device) {
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    for (int i = 0; i < pl->n; i++) tensor_move_(pl->items[i].t, device);
    mem_set_tag(prev);
}

void params_free(param_list *pl) {
    for (int i = 0; i < pl->n; i++) { free(pl->items[i].name); tensor_release(pl->items[i].t); }
    free(pl->items);
    memset(pl, 0, sizeof *pl);
}

void params_init_uniform(tensor *t, int64_t fan_in, rng_state *rng) {
    float bound = 1.0f / sqrtf((float)(fan_in > 0 ? fan_in : 1));
    rng_fill_uniform(rng, tensor_f32(t), t->numel, -bound, bound);
}

tensor *conv_weight_from_torch(const tensor *w) { return permute_channels_last(w); }
tensor *conv_weight_to_torch(const tensor *w) { return permute_channels_first(w); }

/* the PyTorch shape of a vaec parameter */
static void torch_shape(const param_entry *e, int64_t *shape) {
    const tensor *t = e->t;
    memcpy(shape, t->shape, sizeof t->shape);
    if (e->layout == PARAM_CONV) {
        shape[1] = t->shape[t->ndim - 1];
        for (int d = 2; d < t->ndim; d++) shape[d] = t->shape[d - 1];
    }
}

static void shape_to_str(int nd, const int64_t *s, char *buf, size_t n) {
    size_t k = (size_t)snprintf(buf, n, "(");
    for (int d = 0; d < nd && k < n; d++) k += (size_t)snprintf(buf + k, n - k, d ? ",%lld" : "%lld", (long long)s[d]);
    if (k < n) snprintf(buf + k, n - k, ")");
}

/* the file key a parameter loads from: exact, or one of its aliases */
static const st_entry *find_key(const st_file *f, const char *file_prefix, const char *name, const param_alias *al,
                                char *used, size_t used_n) {
    snprintf(used, used_n, "%s%s", file_prefix, name);
    const st_entry *e = st_find(f, used);
    for (int i = 0; !e && al && al[i].now; i++) {
        size_t ln = strlen(name), ls = strlen(al[i].now);
        if (ln < ls || strcmp(name + ln - ls, al[i].now)) continue;
        snprintf(used, used_n, "%s%.*s%s", file_prefix, (int)(ln - ls), name, al[i].old);
        e = st_find(f, used);
    }
    return e;
}

int params_load(param_list *pl, const char *path, const char *file_prefix, const params_load_opts *opts) {
    st_file *f = st_open(path);
    if (!f) return -1;
    const char *pre = file_prefix ? file_prefix : "";
    const param_alias *al = opts ? opts->aliases : NULL;
    bool *used = xcalloc((size_t)f->n_entries, sizeof(bool));
    int rc = 0;
    for (int i = 0; i < pl->n && rc == 0; i++) {
        param_entry *p = &pl->items[i];
        char key[600];
        const st_entry *e = find_key(f, pre, p->name, al, key, sizeof key);
        if (!e) {
            rc = vaec_set_error("'%s' has no key '%s%s' (the model expects %d parameters; list the file's keys with "
                                "`vaec ckpt info %s`)", path, pre, p->name, pl->n, path);
            break;
        }
        used[e - f->entries] = true;
        int64_t want[TENSOR_MAX_DIMS];
        torch_shape(p, want);
        bool ok = e->ndim == p->t->ndim;
        for (int d = 0; ok && d < e->ndim; d++) ok = e->shape[d] == want[d];
        /* a (C,C,1,1) conv weight where a (C,C) linear weight is expected: old diffusers attention */
        bool conv_as_linear = !ok && p->t->ndim == 2 && e->ndim == 4 && e->shape[0] == want[0] &&
                              e->shape[1] == want[1] && e->shape[2] == 1 && e->shape[3] == 1;
        if (!ok && !conv_as_linear) {
            char a[128], b[128];
            shape_to_str(e->ndim, e->shape, a, sizeof a);
            shape_to_str(p->t->ndim, want, b, sizeof b);
            rc = vaec_set_error("'%s': key '%s' has shape %s, the model expects %s (check the model config)", path,
                                key, a, b);
            break;
        }
        tensor *raw;
        if ((rc = st_read(f, key, &raw)) != 0) break;   /* unreadable or fails its checksum: the message names both */
        if (p->layout == PARAM_CONV) {
            tensor *c = conv_weight_from_torch(raw);
            tensor_release(raw);
            raw = c;
        }
        tensor_copy_(p->t, raw);   /* same element count; the copy keeps the parameter's identity */
        tensor_release(raw);
    }
    if (rc == 0 && !(opts && opts->allow_extra)) {
        size_t lp = strlen(pre);
        for (int i = 0; i < f->n_entries; i++)
            if (!used[i] && !strncmp(f->entries[i].name, pre, lp)) {
                rc = vaec_set_error("'%s': key '%s' does not belong to this model (wrong model kind or config?)", path,
                                    f->entries[i].name);
                break;
            }
    }
    free(used);
    st_close(f);
    return rc;
}

void params_writer_add(st_writer *w, const param_list *pl, const char *file_prefix, dtype_t dtype) {
    for (int i = 0; i < pl->n; i++) {
        const param_entry *p = &pl->items[i];
        tensor *t = p->t->device == DEVICE_CPU ? p->t : tensor_to(p->t, DEVICE_CPU), *tmp = t != p->t ? t : NULL;
        if (t->dtype != DTYPE_F32) {   /* a frozen weight held in bf16 (train/precision.h): widened, exactly */
            t = tensor_to_dtype(t, DTYPE_F32);
            tensor_release(tmp);
            tmp = t;
        }
        if (p->layout == PARAM_CONV) {
            t = conv_weight_to_torch(t);
            tensor_release(tmp);
            tmp = t;
        }
        char key[600];
        snprintf(key, sizeof key, "%s%s", file_prefix ? file_prefix : "", p->name);
        st_writer_add(w, key, t, dtype);   /* the writer holds its own reference */
        tensor_release(tmp);
    }
}

int params_save_multi(const param_list *const *pls, const char *const *prefixes, int n_lists, const char *path,
                      const char *const *meta_kv) {
    st_writer *w = st_writer_new();
    for (int l = 0; l < n_lists; l++) params_writer_add(w, pls[l], prefixes ? prefixes[l] : NULL, DTYPE_F32);
    for (int i = 0; meta_kv && meta_kv[i] && meta_kv[i + 1]; i += 2) st_writer_meta(w, meta_kv[i], meta_kv[i + 1]);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

int params_save(const param_list *pl, const char *path, const char *file_prefix, const char *const *meta_kv) {
    return params_save_multi((const param_list *const[]){pl}, (const char *const[]){file_prefix}, 1, path, meta_kv);
}

/* FNV-1a of the key: the stream of one parameter */
static uint32_t key_seed(const char *key) {
    uint32_t h = 2166136261u;
    for (; *key; key++) h = (h ^ (unsigned char)*key) * 16777619u;
    return h;
}

/* element k of a parameter's stream: an integer hash, exact in C and in PyTorch's int64, uniform in [-1, 1) */
static double hash_uniform(uint32_t seed, int64_t k) {
    uint64_t h = (((uint64_t)k * 2654435761u) ^ seed) & 0xffffffffu;
    h = ((h ^ (h >> 16)) * 0x45d9f3bu) & 0xffffffffu;
    h = ((h ^ (h >> 16)) * 0x45d9f3bu) & 0xffffffffu;
    h ^= h >> 16;
    return (double)h / 2147483648.0 - 1.0;
}

void params_fill_deterministic(param_list *pl) {
    for (int i = 0; i < pl->n; i++) {
        param_entry *p = &pl->items[i];
        int64_t ts[TENSOR_MAX_DIMS];
        torch_shape(p, ts);
        tensor *t = tensor_empty(p->t->ndim, ts);
        int64_t fan_in = 1;
        for (int d = 1; d < t->ndim; d++) fan_in *= ts[d];
        double a = t->ndim >= 2 ? 1.0 / sqrt((double)fan_in) : 0.02, base = 0;
        if (t->ndim == 1 && strstr(p->name, "norm") && strstr(p->name, ".weight")) { a = 0.1; base = 1.0; }
        uint32_t seed = key_seed(p->name);
        float *d = tensor_f32(t);
        for (int64_t k = 0; k < t->numel; k++) d[k] = (float)(base + a * hash_uniform(seed, k));
        tensor *v = p->layout == PARAM_CONV ? conv_weight_from_torch(t) : t;
        tensor_copy_(p->t, v);
        if (v != t) tensor_release(v);
        tensor_release(t);
    }
}
