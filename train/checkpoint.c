/* checkpoint.c: atomic training checkpoints, retention and resume lookup (see checkpoint.h). */
#include "train/checkpoint.h"
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/json.h"          // defines: json_save
#include "core/safetensors.h"   // defines: st_writer, st_open

int remove_tree(const char *path) {
    DIR *d = opendir(path);
    if (!d) return unlink(path);
    struct dirent *e;
    char p[4096];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", path, e->d_name);
        remove_tree(p);
    }
    closedir(d);
    return rmdir(path);
}

static int mkdirs(const char *path) {
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') {
            *s = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            *s = '/';
        }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* the optimizer's keys: the model key of every tracked parameter, found by identity */
static const char *key_of(const ckpt_parts *parts, const tensor *t, const char **prefix) {
    for (int m = 0; m < parts->n_models; m++)
        for (int i = 0; i < parts->models[m]->n; i++)
            if (parts->models[m]->items[i].t == t) {
                *prefix = parts->prefixes[m] ? parts->prefixes[m] : "";
                return parts->models[m]->items[i].name;
            }
    return NULL;
}

static int save_optimizer(const char *path, const ckpt_parts *parts) {
    st_writer *w = st_writer_new();
    char key[700], buf[32];
    for (int i = 0; i < parts->opt->n; i++) {
        const char *prefix, *name = key_of(parts, parts->opt->params[i], &prefix);
        CHECK(name != NULL, "checkpoint: the optimizer tracks a tensor that belongs to no model");
        snprintf(key, sizeof key, "exp_avg.%s%s", prefix, name);
        st_writer_add(w, key, parts->opt->m[i], DTYPE_F32);
        snprintf(key, sizeof key, "exp_avg_sq.%s%s", prefix, name);
        st_writer_add(w, key, parts->opt->v[i], DTYPE_F32);
    }
    snprintf(buf, sizeof buf, "%ld", parts->opt->step);
    st_writer_meta(w, "adamw_step", buf);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

/* step, RNG and data position as decimal text in the metadata: exact for 64-bit values */
static int save_state(const char *path, const ckpt_state *st, const ckpt_parts *parts) {
    st_writer *w = st_writer_new();
    char buf[64];
    snprintf(buf, sizeof buf, "%lld", (long long)st->step);
    st_writer_meta(w, "step", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->rng.seed);
    st_writer_meta(w, "rng_seed", buf);
    snprintf(buf, sizeof buf, "%llu", (unsigned long long)st->rng.offset);
    st_writer_meta(w, "rng_offset", buf);
    char pos[CKPT_MAX_POSITION * 24] = "";
    for (int i = 0; i < st->n_position; i++) {
        size_t k = strlen(pos);
        snprintf(pos + k, sizeof pos - k, "%s%lld", i ? "," : "", (long long)st->position[i]);
    }
    st_writer_meta(w, "data_position", pos);
    if (parts->loss_logvar) st_writer_add(w, "loss.logvar", parts->loss_logvar, DTYPE_F32);
    tensor *marker = tensor_full(SHAPE(1), (float)st->step);   /* a file with at least one tensor */
    st_writer_add(w, "step", marker, DTYPE_F32);
    tensor_release(marker);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

static int ckpt_step_of(const char *name, long long *step) {
    char tail;
    return sscanf(name, "ckpt-%lld%c", step, &tail) == 1;
}

static void prune(const char *out_dir, int keep) {
    if (keep <= 0) return;
    DIR *d = opendir(out_dir);
    if (!d) return;
    long long steps[4096];
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < 4096) {
        long long s;
        if (ckpt_step_of(e->d_name, &s)) steps[n++] = s;
    }
    closedir(d);
    for (int i = 0; i < n; i++) {   /* remove every checkpoint with `keep` newer ones */
        int newer = 0;
        for (int j = 0; j < n; j++) newer += steps[j] > steps[i];
        if (newer >= keep) {
            char p[4096];
            snprintf(p, sizeof p, "%s/ckpt-%09lld", out_dir, steps[i]);
            remove_tree(p);
        }
    }
}

int ckpt_save(const char *out_dir, const ckpt_parts *parts, const ckpt_state *st, int keep) {
    char final[4096], tmp[4200], path[4400];
    snprintf(final, sizeof final, "%s/ckpt-%09lld", out_dir, (long long)st->step);
    snprintf(tmp, sizeof tmp, "%s.tmp", final);
    remove_tree(tmp);   /* a leftover of an interrupted write */
    if (mkdirs(tmp) != 0) return vaec_set_error("cannot create checkpoint folder '%s': %s", tmp, strerror(errno));
    int rc;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    rc = params_save_multi((const param_list *const *)parts->models, parts->prefixes, parts->n_models, path, NULL);
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/optimizer.safetensors", tmp);
        rc = save_optimizer(path, parts);
    }
    if (rc == 0 && parts->ema) {   /* the EMA weights through the model's own writer: same keys, same layouts */
        snprintf(path, sizeof path, "%s/ema.safetensors", tmp);
        ema_swap(parts->ema);
        rc = params_save_multi((const param_list *const *)parts->models, parts->prefixes, parts->n_models, path, NULL);
        ema_swap(parts->ema);
    }
    if (rc == 0 && parts->config_json) {
        snprintf(path, sizeof path, "%s/config.json", tmp);
        rc = json_save(parts->config_json, path);
    }
    if (rc == 0) {
        snprintf(path, sizeof path, "%s/state.safetensors", tmp);
        rc = save_state(path, st, parts);
    }
    if (rc == 0 && parts->extra) rc = parts->extra->save(parts->extra->ctx, tmp);
    if (rc != 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", vaec_last_error());
        remove_tree(tmp);
        return vaec_set_error("checkpoint at step %lld not written (earlier checkpoints are intact): %s",
                              (long long)st->step, msg);
    }
    remove_tree(final);   /* the same step written again (a resumed run): replace it whole */
    if (rename(tmp, final) != 0) {
        int err = errno;
        remove_tree(tmp);
        return vaec_set_error("cannot move checkpoint into '%s': %s", final, strerror(err));
    }
    prune(out_dir, keep);
    return 0;
}

static const char *meta_or_fail(const st_file *f, const char *key, const char *path) {
    const char *v = st_meta(f, key);
    if (!v) vaec_set_error("'%s' has no '%s' entry: not a vaec training checkpoint", path, key);
    return v;
}

/* every model of the parts from one weights file, each under its prefix */
static int load_models(const ckpt_parts *parts, const char *path) {
    for (int m = 0; m < parts->n_models; m++)
        if (params_load(parts->models[m], path, parts->prefixes[m] ? parts->prefixes[m] : "",
                        &(params_load_opts){.allow_extra = parts->n_models > 1}) != 0)
            return -1;
    return 0;
}

int ckpt_load(const char *dir, const ckpt_parts *parts, ckpt_state *st) {
    char path[4400];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (load_models(parts, path) != 0) return -1;
    if (parts->ema) {
        snprintf(path, sizeof path, "%s/ema.safetensors", dir);
        struct stat sb;
        if (stat(path, &sb) != 0) {   /* a checkpoint of a run without EMA: start the average here */
            fprintf(stderr, "vaec: warning: %s/ has no ema.safetensors: the EMA starts from the loaded weights\n", dir);
            for (int i = 0; i < parts->ema->n; i++) tensor_copy_(parts->ema->shadow[i], parts->ema->params[i]);
        } else {
            ema_swap(parts->ema);   /* shadows keep the weights while the EMA file loads into the parameters */
            int rc = load_models(parts, path);
            ema_swap(parts->ema);
            if (rc != 0) return -1;
        }
    }
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    st_file *f = st_open(path);
    if (!f) return -1;
    const char *s = meta_or_fail(f, "adamw_step", path);
    if (!s) { st_close(f); return -1; }
    parts->opt->step = atol(s);
    char key[700];
    for (int i = 0; i < parts->opt->n; i++) {
        const char *prefix, *name = key_of(parts, parts->opt->params[i], &prefix);
        for (int which = 0; which < 2; which++) {
            snprintf(key, sizeof key, "%s.%s%s", which ? "exp_avg_sq" : "exp_avg", prefix, name);
            tensor *t;
            if (st_read(f, key, &t) != 0) {   /* fails its checksum: the message names the file and the tensor */
                st_close(f);
                return -1;
            }
            tensor *dst = which ? parts->opt->v[i] : parts->opt->m[i];
            if (!t || t->numel != dst->numel) {
                tensor_release(t);
                st_close(f);
                return vaec_set_error("'%s': optimizer state '%s' is missing or has the wrong size (was the checkpoint "
                                      "written with another config or another freeze_vae_2d?)", path, key);
            }
            tensor_copy_(dst, t);
            tensor_release(t);
        }
    }
    st_close(f);
    snprintf(path, sizeof path, "%s/state.safetensors", dir);
    f = st_open(path);
    if (!f) return -1;
    if (st_verify(f) != 0) {   /* every tensor, the step marker too: a small file */
        st_close(f);
        return -1;
    }
    const char *step = meta_or_fail(f, "step", path), *seed = step ? meta_or_fail(f, "rng_seed", path) : NULL;
    const char *off = seed ? meta_or_fail(f, "rng_offset", path) : NULL, *pos = off ? meta_or_fail(f, "data_position", path) : NULL;
    if (!pos) { st_close(f); return -1; }
    st->step = atoll(step);
    st->rng.seed = strtoull(seed, NULL, 10);
    st->rng.offset = strtoull(off, NULL, 10);
    st->n_position = 0;
    for (const char *p = pos; *p && st->n_position < CKPT_MAX_POSITION;) {
        char *end;
        st->position[st->n_position++] = strtoll(p, &end, 10);
        p = *end == ',' ? end + 1 : end;
        if (end == p && *p) break;
    }
    if (parts->loss_logvar) {
        tensor *lv = st_load(f, "loss.logvar");   /* verified above */
        if (lv && lv->numel != parts->loss_logvar->numel) {   /* tensor_copy_ would stop the program */
            long long got = (long long)lv->numel;
            tensor_release(lv);
            st_close(f);
            return vaec_set_error("'%s': 'loss.logvar' has %lld elements, the run's has %lld: corrupt checkpoint?", path,
                                  got, (long long)parts->loss_logvar->numel);
        }
        if (lv) { tensor_copy_(parts->loss_logvar, lv); tensor_release(lv); }
    }
    st_close(f);
    if (parts->extra && parts->extra->load(parts->extra->ctx, dir) != 0) return -1;
    return 0;
}

int ckpt_find_latest(const char *out_dir, char *path, size_t n) {
    DIR *d = opendir(out_dir);
    if (!d) return errno == ENOENT ? 0 : vaec_set_error("cannot read '%s': %s", out_dir, strerror(errno));
    long long best = -1, s;
    struct dirent *e;
    while ((e = readdir(d)))
        if (ckpt_step_of(e->d_name, &s) && s > best) best = s;   /* "ckpt-N.tmp" does not parse: incomplete */
    closedir(d);
    if (best < 0) return 0;
    snprintf(path, n, "%s/ckpt-%09lld", out_dir, best);
    return 1;
}

/* every checkpoint step under out_dir, newest first; the count (at most max) */
static int list_steps(const char *out_dir, long long *steps, int max) {
    DIR *d = opendir(out_dir);
    if (!d) return 0;
    int n = 0;
    long long s;
    struct dirent *e;
    while ((e = readdir(d)) && n < max)
        if (ckpt_step_of(e->d_name, &s)) steps[n++] = s;
    closedir(d);
    for (int i = 1; i < n; i++)   /* insertion sort, descending: a few checkpoints */
        for (int j = i; j > 0 && steps[j] > steps[j - 1]; j--) {
            long long t = steps[j];
            steps[j] = steps[j - 1], steps[j - 1] = t;
        }
    return n;
}

int ckpt_load_latest(const char *out_dir, const ckpt_parts *parts, ckpt_state *st, char *path, size_t n) {
    long long steps[4096];
    int count = list_steps(out_dir, steps, 4096);
    char first_error[1024] = "";
    for (int i = 0; i < count; i++) {
        snprintf(path, n, "%s/ckpt-%09lld", out_dir, steps[i]);
        if (ckpt_load(path, parts, st) == 0) {
            if (i) printf("resume auto: %d newer checkpoint%s did not load; continuing from %s\n", i, i > 1 ? "s" : "", path);
            return 1;
        }
        if (!i) snprintf(first_error, sizeof first_error, "%s", vaec_last_error());
        fprintf(stderr, "vaec: warning: resume auto: %s does not load, %s: %s\n", path,
                i + 1 < count ? "falling back to the next older checkpoint" : "and it is the oldest", vaec_last_error());
    }
    if (!count) return 0;
    return vaec_set_error("no checkpoint in %s loads (%d tried); the newest: %s", out_dir, count, first_error);
}
