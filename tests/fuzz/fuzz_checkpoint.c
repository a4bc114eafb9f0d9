/* fuzz_checkpoint.c: the training-checkpoint loader (ckpt_load) on a folder holding a valid checkpoint of a
 * tiny two-model pipeline, in which one file is replaced by the input: the first byte picks which
 * (0 model, 1 optimizer, 2 state; modulo 3), the rest is that file. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "core/check.h"                // defines: vaec_last_error
#include "layers/params.h"             // defines: param_list, params_add
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_write_file, fuzz_rejected
#include "train/checkpoint.h"          // defines: ckpt_save, ckpt_load

static const char *const FILES[3] = {"model.safetensors", "optimizer.safetensors", "state.safetensors"};

typedef struct {
    param_list spatial, temporal;
    adamw *opt;
    tensor *logvar;
    ckpt_parts parts;
} tiny_run;

/* a pipeline's shape in miniature: a conv weight (permuted at load) under one prefix, a bias under another */
static void tiny_run_init(tiny_run *r) {
    memset(r, 0, sizeof *r);
    tensor *w = params_add(&r->spatial, "", "encoder.conv_in.weight", tensor_full(SHAPE(2, 1, 1, 3), 0.5f), PARAM_CONV);
    tensor *b = params_add(&r->temporal, "", "decoder.conv_out.bias", tensor_full(SHAPE(2), -0.25f), PARAM_PLAIN);
    r->opt = adamw_new((tensor *[]){w, b}, 2, (adamw_config){.lr = 1e-3f});
    r->opt->step = 7;
    r->logvar = tensor_full(SHAPE(1), 0.0f);
    r->parts = (ckpt_parts){.models = {&r->spatial, &r->temporal}, .prefixes = {"spatial_vae.module.", "temporal_vae."},
                            .n_models = 2, .opt = r->opt, .loss_logvar = r->logvar};
}

static void tiny_run_free(tiny_run *r) {
    adamw_free(r->opt);
    params_free(&r->spatial);
    params_free(&r->temporal);
    tensor_release(r->logvar);
}

static int save_tiny(const char *out_dir, int64_t step) {
    tiny_run r;
    tiny_run_init(&r);
    ckpt_state st = {.step = step, .rng = {.seed = 42, .offset = 1234}, .position = {3, 1, 4}, .n_position = 3};
    int rc = ckpt_save(out_dir, &r.parts, &st, 0);
    tiny_run_free(&r);
    return rc;
}

/* the three valid files, made once per process with vaec's own writer */
static uint8_t *valid[3];
static size_t valid_n[3];
static int load_valid(void) {
    if (valid[0]) return 0;
    const char *out = fuzz_tmp_path("ckpt_valid");
    mkdir(out, 0755);
    if (save_tiny(out, 5) != 0) return -1;
    for (int k = 0; k < 3; k++) {
        char p[1024];
        snprintf(p, sizeof p, "%s/ckpt-000000005/%s", out, FILES[k]);
        if (!(valid[k] = fuzz_read_file(p, &valid_n[k]))) return -1;
    }
    return 0;
}

int fuzz_checkpoint(const uint8_t *data, size_t n) {
    if (n < 1) return FUZZ_REJECTED;
    if (load_valid() != 0) {
        fprintf(stderr, "fuzz_checkpoint: cannot write the valid checkpoint: %s\n", vaec_last_error());
        abort();
    }
    const char *dir = fuzz_tmp_path("ckpt");
    mkdir(dir, 0755);
    int which = data[0] % 3;
    char path[3][1024];
    for (int k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/%s", dir, FILES[k]);
        int rc = k == which ? fuzz_write_file(path[k], data + 1, n - 1) : fuzz_write_file(path[k], valid[k], valid_n[k]);
        if (rc != 0) return fuzz_rejected(path[k]);
    }
    tiny_run r;
    tiny_run_init(&r);
    ckpt_state st;
    int rc = ckpt_load(dir, &r.parts, &st);
    tiny_run_free(&r);
    if (rc != 0) return fuzz_rejected(path[which]);
    return FUZZ_LOADED;
}

/* seeds: each of the three files of a checkpoint vaec wrote, behind its selector byte */
int fuzz_seeds_checkpoint(const char *dir) {
    if (load_valid() != 0) return -1;
    for (int k = 0; k < 3; k++) {
        uint8_t *b = malloc(valid_n[k] + 1);
        b[0] = (uint8_t)k;
        memcpy(b + 1, valid[k], valid_n[k]);
        char name[64];
        snprintf(name, sizeof name, "%d_%s", k, FILES[k]);
        int rc = fuzz_seed_file(dir, name, b, valid_n[k] + 1);
        free(b);
        if (rc != 0) return -1;
    }
    return 0;
}
