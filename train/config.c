/* config.c: INI parsing, overrides, typed getters, unknown-key detection (see config.h). */
#include "train/config.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"   // defines: vaec_set_error, FATAL

/* every key a config may set (interfaces.md); extend here when a feature adds one */
static const char *const known_keys[] = {
    "model.kind",
    "spatial.in_channels", "spatial.out_channels", "spatial.block_out_channels", "spatial.layers_per_block",
    "spatial.latent_channels", "spatial.norm_num_groups", "spatial.scaling_factor", "spatial.micro_batch_size",
    "spatial.checkpoint",
    "temporal.in_out_channels", "temporal.latent_embed_dim", "temporal.embed_dim", "temporal.filters",
    "temporal.num_res_blocks", "temporal.channel_multipliers", "temporal.temporal_downsample", "temporal.num_groups",
    "temporal.checkpoint",
    "pipeline.micro_frame_size", "pipeline.shift", "pipeline.scale", "pipeline.freeze_vae_2d", "pipeline.cal_loss",
    "pipeline.sample_posterior", "pipeline.checkpoint",
    "train.use_real_rec_loss", "train.use_z_rec_loss", "train.use_image_identity_loss", "train.perceptual_loss_weight",
    "train.kl_loss_weight", "train.mixed_strategy", "train.mixed_image_ratio", "train.lr", "train.betas", "train.eps",
    "train.weight_decay", "train.grad_clip", "train.batch_size", "train.num_frames", "train.image_size", "train.steps",
    "train.seed", "train.out_dir", "train.ckpt_every", "train.log_every", "train.device", "train.precision",
    "train.nan_policy", "train.keep_ckpts", "train.train_logvar", "train.rec_loss", "train.lr_schedule", "train.warmup_steps",
    "train.min_lr_ratio", "train.ema_decay", "train.optimizer", "train.eval_every", "train.lpips_path",
    "train.grad_accum_steps", "train.dist_timeout_s", "train.dist_bucket_mb", "train.frame_interval", "train.threads",
    "train.max_memory", "train.zero_stage", "train.dist_overlap",
    "train.generator_factor", "train.discriminator_factor", "train.discriminator_start", "train.generator_loss_type",
    "train.discriminator_loss_type", "train.lecam_loss_weight", "train.gradient_penalty_loss_weight",
    "discriminator.type", "discriminator.input_nc", "discriminator.ndf", "discriminator.n_layers", "discriminator.init",
    "discriminator.checkpoint",
    "data.path", "data.eval_path", "data.eval_clips", "data.num_workers", "data.on_bad_clip",
    NULL,
};

static int edit_distance(const char *a, const char *b) {
    int la = (int)strlen(a), lb = (int)strlen(b), d[64][64];
    if (la > 63 || lb > 63) return 99;
    for (int i = 0; i <= la; i++) d[i][0] = i;
    for (int j = 0; j <= lb; j++) d[0][j] = j;
    for (int i = 1; i <= la; i++)
        for (int j = 1; j <= lb; j++) {
            int s = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]), x = d[i - 1][j] + 1, y = d[i][j - 1] + 1;
            d[i][j] = s < x ? (s < y ? s : y) : (x < y ? x : y);
        }
    return d[la][lb];
}

/* 0 if section.key is known; else -1 with an error naming where it came from and a suggestion */
static int check_known(const char *where, const char *section, const char *key) {
    char full[256];
    snprintf(full, sizeof full, "%s.%s", section, key);
    const char *best = NULL;
    int bd = 99;
    for (int i = 0; known_keys[i]; i++) {
        if (!strcmp(known_keys[i], full)) return 0;
        int dist = edit_distance(known_keys[i], full);
        if (dist < bd) { bd = dist; best = known_keys[i]; }
    }
    if (best && bd <= 3)
        return vaec_set_error("%s: unknown config key '%s' (did you mean '%s'?)", where, full, best);
    return vaec_set_error("%s: unknown config key '%s' (see docs/configs.md for the keys)", where, full);
}

static char *trim(char *s) {
    while (isspace((unsigned char)*s)) s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1])) *--e = 0;
    return s;
}

static void put(config *c, const char *section, const char *key, const char *value, int line) {
    for (int i = 0; i < c->n; i++)   /* a later setting (or --set) overrides an earlier one */
        if (!strcmp(c->entries[i].section, section) && !strcmp(c->entries[i].key, key)) {
            free(c->entries[i].value);
            c->entries[i].value = strdup(value);
            c->entries[i].line = line;
            return;
        }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 32;
        c->entries = xrealloc(c->entries, (size_t)c->cap * sizeof *c->entries);
    }
    c->entries[c->n++] = (config_entry){strdup(section), strdup(key), strdup(value), line};
}

int config_load(config *c, const char *path) {
    memset(c, 0, sizeof *c);
    c->path = strdup(path);
    FILE *f = fopen(path, "r");
    if (!f) return vaec_set_error("cannot open config '%s': %s", path, strerror(errno));
    char line[1024], section[128] = "", where[600];
    int ln = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        ln++;
        snprintf(where, sizeof where, "config %s line %d", path, ln);
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char *s = trim(line);
        if (!*s) continue;
        if (*s == '[') {
            char *end = strchr(s, ']');
            if (!end) { rc = vaec_set_error("%s: section header without ']'", where); break; }
            *end = 0;
            snprintf(section, sizeof section, "%s", trim(s + 1));
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) { rc = vaec_set_error("%s: expected 'key = value', got '%s'", where, s); break; }
        *eq = 0;
        char *key = trim(s), *value = trim(eq + 1);
        if (!*section) { rc = vaec_set_error("%s: key '%s' before any [section]", where, key); break; }
        rc = check_known(where, section, key);
        if (rc == 0) put(c, section, key, value, ln);
    }
    fclose(f);
    return rc;
}

int config_set(config *c, const char *assignment) {
    const char *eq = strchr(assignment, '='), *dot = strchr(assignment, '.');
    if (!eq || !dot || dot > eq)
        return vaec_set_error("--set '%s': expected section.key=value (e.g. train.steps=100)", assignment);
    char section[128], key[128];
    snprintf(section, sizeof section, "%.*s", (int)(dot - assignment), assignment);
    snprintf(key, sizeof key, "%.*s", (int)(eq - dot - 1), dot + 1);
    char where[300];
    snprintf(where, sizeof where, "--set %s", assignment);
    if (check_known(where, section, key) != 0) return -1;
    put(c, section, key, eq + 1, 0);
    return 0;
}

void config_free(config *c) {
    for (int i = 0; i < c->n; i++) { free(c->entries[i].section); free(c->entries[i].key); free(c->entries[i].value); }
    free(c->entries);
    free(c->path);
    memset(c, 0, sizeof *c);
}

static const config_entry *find(const config *c, const char *section, const char *key) {
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->entries[i].section, section) && !strcmp(c->entries[i].key, key)) return &c->entries[i];
    return NULL;
}

/* -1 with the message naming the file, line, key and value (or the --set) at fault */
static int bad_value(const config *c, const config_entry *e, const char *what) {
    if (e->line)
        return vaec_set_error("config %s line %d: [%s] %s = '%s' is not %s", c->path, e->line, e->section, e->key,
                              e->value, what);
    return vaec_set_error("--set %s.%s=%s: the value is not %s", e->section, e->key, e->value, what);
}

const char *config_str(const config *c, const char *section, const char *key, const char *def) {
    const config_entry *e = find(c, section, key);
    return e ? e->value : def;
}

int config_get_int(const config *c, const char *section, const char *key, int def, int *out) {
    const config_entry *e = find(c, section, key);
    *out = def;
    if (!e) return 0;
    char *end;
    errno = 0;
    long v = strtol(e->value, &end, 10);
    if (end == e->value || *trim(end) || errno || v < -2147483647L || v > 2147483647L) return bad_value(c, e, "an integer");
    *out = (int)v;
    return 0;
}

int config_get_float(const config *c, const char *section, const char *key, double def, double *out) {
    const config_entry *e = find(c, section, key);
    *out = def;
    if (!e) return 0;
    char *end;
    double v = strtod(e->value, &end);
    if (end == e->value || *trim(end)) return bad_value(c, e, "a number");
    *out = v;
    return 0;
}

int config_get_bool(const config *c, const char *section, const char *key, bool def, bool *out) {
    const config_entry *e = find(c, section, key);
    *out = def;
    if (!e) return 0;
    const char *v = e->value;
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes") || !strcmp(v, "on")) return *out = true, 0;
    if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no") || !strcmp(v, "off")) return *out = false, 0;
    return bad_value(c, e, "a boolean (true/false)");
}

/* the numbers of a comma-separated list: the count, or -1 with the error */
static int parse_list(const config *c, const config_entry *e, double *out, int max) {
    int n = 0;
    const char *s = e->value;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s) return bad_value(c, e, "a comma-separated list of numbers");
        if (n == max) return bad_value(c, e, "a list of that length (too many entries)");
        out[n++] = v;
        s = end;
        while (isspace((unsigned char)*s)) s++;
        if (*s == ',') s++;
        else if (*s) return bad_value(c, e, "a comma-separated list of numbers");
    }
    return n;
}

int config_get_ints(const config *c, const char *section, const char *key, int *out, int max, const int *def, int ndef) {
    const config_entry *e = find(c, section, key);
    if (!e) { for (int i = 0; i < ndef; i++) out[i] = def[i]; return ndef; }
    double v[64];
    int n = parse_list(c, e, v, max < 64 ? max : 64);
    for (int i = 0; i < n; i++) {
        /* range first: converting a double outside int's range (or NaN) to int is undefined behaviour */
        if (!(v[i] >= -2147483647.0 && v[i] <= 2147483647.0) || v[i] != (double)(int)v[i])
            return bad_value(c, e, "a list of integers");
        out[i] = (int)v[i];
    }
    return n;
}

int config_get_floats(const config *c, const char *section, const char *key, float *out, int max, const float *def,
                      int ndef) {
    const config_entry *e = find(c, section, key);
    if (!e) { for (int i = 0; i < ndef; i++) out[i] = def[i]; return ndef; }
    double v[64];
    int n = parse_list(c, e, v, max < 64 ? max : 64);
    for (int i = 0; i < n; i++) out[i] = (float)v[i];
    return n;
}

/* ---- the getters the program uses: a malformed value stops it with the message above ---- */
int config_int(const config *c, const char *section, const char *key, int def) {
    int v;
    if (config_get_int(c, section, key, def, &v) != 0) FATAL("%s", vaec_last_error());
    return v;
}

double config_float(const config *c, const char *section, const char *key, double def) {
    double v;
    if (config_get_float(c, section, key, def, &v) != 0) FATAL("%s", vaec_last_error());
    return v;
}

bool config_bool(const config *c, const char *section, const char *key, bool def) {
    bool v;
    if (config_get_bool(c, section, key, def, &v) != 0) FATAL("%s", vaec_last_error());
    return v;
}

int config_ints(const config *c, const char *section, const char *key, int *out, int max, const int *def, int ndef) {
    int n = config_get_ints(c, section, key, out, max, def, ndef);
    if (n < 0) FATAL("%s", vaec_last_error());
    return n;
}

int config_floats(const config *c, const char *section, const char *key, float *out, int max, const float *def, int ndef) {
    int n = config_get_floats(c, section, key, out, max, def, ndef);
    if (n < 0) FATAL("%s", vaec_last_error());
    return n;
}
