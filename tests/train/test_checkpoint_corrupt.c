/* test_checkpoint_corrupt.c: a checkpoint with one corrupted byte anywhere in its model, optimizer or state file
 * is refused at load with the file (and, for tensor bytes, the tensor) named, whichever byte it is; the files
 * carry their checksums as plain metadata (loadable elsewhere); `--resume auto`'s lookup falls back to the
 * newest checkpoint that verifies. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/safetensors.h"          // defines: st_open, st_meta
#include "layers/params.h"             // defines: params_add
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_read_file, fuzz_write_file
#include "tests/harness/test.h"        // defines: TEST, EXPECT
#include "train/checkpoint.h"          // defines: ckpt_save, ckpt_load, ckpt_load_latest

/* a pipeline in miniature: a conv weight and a bias in two models, AdamW state, the loss logvar, an EMA */
typedef struct {
    param_list spatial, temporal;
    adamw *opt;
    ema *avg;
    tensor *logvar;
    ckpt_parts parts;
} mini;

static void mini_init(mini *r, float v) {
    memset(r, 0, sizeof *r);
    tensor *w = params_add(&r->spatial, "", "encoder.conv_in.weight", tensor_full(SHAPE(4, 3, 3, 3), v), PARAM_CONV);
    tensor *b = params_add(&r->temporal, "", "decoder.conv_out.bias", tensor_full(SHAPE(4), -v), PARAM_PLAIN);
    for (int64_t i = 0; i < w->numel; i++) tensor_f32(w)[i] += 0.001f * (float)i;
    r->opt = adamw_new((tensor *[]){w, b}, 2, (adamw_config){.lr = 1e-3f});
    for (int i = 0; i < 2; i++) {
        for (int64_t k = 0; k < r->opt->m[i]->numel; k++) tensor_f32(r->opt->m[i])[k] = v * (float)(k + 1);
        for (int64_t k = 0; k < r->opt->v[i]->numel; k++) tensor_f32(r->opt->v[i])[k] = v * v * (float)(k + 2);
    }
    r->opt->step = (long)(v * 10);
    r->avg = ema_new((tensor *[]){w, b}, 2, 0.9f);
    r->logvar = tensor_full(SHAPE(1), v / 4);
    r->parts = (ckpt_parts){.models = {&r->spatial, &r->temporal}, .prefixes = {"spatial_vae.module.", "temporal_vae."},
                            .n_models = 2, .opt = r->opt, .loss_logvar = r->logvar, .ema = r->avg};
}

static void mini_free(mini *r) {
    ema_free(r->avg);
    adamw_free(r->opt);
    params_free(&r->spatial);
    params_free(&r->temporal);
    tensor_release(r->logvar);
}

static bool same_tensor(const tensor *a, const tensor *b) {
    return a->numel == b->numel && !memcmp(a->data, b->data, (size_t)a->numel * 4);
}

/* every value a load restores, compared bit for bit */
static bool mini_equal(const mini *a, const mini *b, const ckpt_state *sa, const ckpt_state *sb) {
    bool eq = same_tensor(a->spatial.items[0].t, b->spatial.items[0].t) &&
              same_tensor(a->temporal.items[0].t, b->temporal.items[0].t) && same_tensor(a->logvar, b->logvar) &&
              a->opt->step == b->opt->step && sa->step == sb->step && sa->rng.seed == sb->rng.seed &&
              sa->rng.offset == sb->rng.offset && sa->n_position == sb->n_position;
    for (int i = 0; i < 2 && eq; i++)
        eq = same_tensor(a->opt->m[i], b->opt->m[i]) && same_tensor(a->opt->v[i], b->opt->v[i]) &&
             same_tensor(a->avg->shadow[i], b->avg->shadow[i]);
    for (int i = 0; i < sa->n_position && eq; i++) eq = sa->position[i] == sb->position[i];
    return eq;
}

static void save_mini(const char *out_dir, float v, int64_t step) {
    mini r;
    mini_init(&r, v);
    ema_update(r.avg);   /* shadows differ from the weights */
    ckpt_state st = {.step = step, .rng = {.seed = 42, .offset = 1000 + (uint64_t)step}, .position = {1, 2, 3},
                     .n_position = 3};
    EXPECT(ckpt_save(out_dir, &r.parts, &st, 0) == 0, "save: %s", vaec_last_error());
    mini_free(&r);
}

/* the header's padding: the spaces after the JSON that align the data to 8 bytes (a byte there is not data) */
static void padding_of(const uint8_t *b, size_t n, size_t *from, size_t *to) {
    uint64_t h = 0;
    for (int i = 7; i >= 0; i--) h = (h << 8) | b[i];
    *to = 8 + (size_t)h;
    *from = *to;
    while (*from > 8 && b[*from - 1] == ' ') (*from)--;
    (void)n;
}

static const char *const FILES[4] = {"model", "optimizer", "state", "ema"};

TEST(test_checkpoint_any_corrupted_byte_is_refused_naming_the_file) {
    char out[256], dir[320], path[400];
    snprintf(out, sizeof out, "/tmp/vaec_corrupt_%d", (int)getpid());
    mkdir(out, 0755);
    save_mini(out, 0.5f, 7);
    snprintf(dir, sizeof dir, "%s/ckpt-000000007", out);
    mini ref;
    mini_init(&ref, 0.0f);
    ckpt_state ref_st = {0};
    EXPECT(ckpt_load(dir, &ref.parts, &ref_st) == 0, "the intact checkpoint loads: %s", vaec_last_error());
    int flips = 0, refused = 0, harmless = 0, unnamed = 0, tensor_named = 0, data_flips = 0;
    for (int k = 0; k < 4; k++) {
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, FILES[k]);
        size_t n;
        uint8_t *orig = fuzz_read_file(path, &n), *b = malloc(n);
        size_t pad0, pad1;
        padding_of(orig, n, &pad0, &pad1);
        for (size_t at = 0; at < n; at++)
            for (int mask = 0; mask < 2; mask++) {   /* a byte with its low bit flipped, and one with all flipped */
                memcpy(b, orig, n);
                b[at] ^= mask ? 0xff : 0x01;
                fuzz_write_file(path, b, n);
                mini r;
                mini_init(&r, 0.0f);
                ckpt_state st = {0};
                int rc = ckpt_load(dir, &r.parts, &st);
                flips++;
                if (rc != 0) {
                    refused++;
                    if (!strstr(vaec_last_error(), path) && unnamed++ < 3)
                        EXPECT(0, "%s byte %zu: the error does not name the file: %s", FILES[k], at, vaec_last_error());
                    if (at >= pad1) {   /* a tensor's bytes: the tensor is named too */
                        data_flips++;
                        tensor_named += strstr(vaec_last_error(), "fails its checksum") && strstr(vaec_last_error(), "tensor '");
                    }
                } else {
                    /* loading anyway is right only for a padding byte, and only with every value intact */
                    bool ok = at >= pad0 && at < pad1 && mini_equal(&r, &ref, &st, &ref_st);
                    harmless += ok;
                    EXPECT(ok, "%s byte %zu (^%s): a corrupted checkpoint loaded", FILES[k], at, mask ? "0xff" : "0x01");
                }
                mini_free(&r);
            }
        fuzz_write_file(path, orig, n);
        free(orig);
        free(b);
    }
    EXPECT(data_flips > 0 && tensor_named == data_flips, "%d of %d corrupted tensor bytes named the tensor", tensor_named,
           data_flips);
    printf("  corrupted bytes: %d tried over 4 files, %d refused (%d in tensor data, each naming its tensor), %d in the "
           "header's padding loaded with every value intact\n", flips, refused, data_flips, harmless);
    mini_free(&ref);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", out);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_checkpoint_checksums_are_plain_metadata) {
    char out[256], path[400];
    snprintf(out, sizeof out, "/tmp/vaec_crcmeta_%d", (int)getpid());
    mkdir(out, 0755);
    save_mini(out, 0.25f, 3);
    snprintf(path, sizeof path, "%s/ckpt-000000003/model.safetensors", out);
    st_file *f = st_open(path);
    EXPECT(f != NULL, "open: %s", vaec_last_error());
    if (f) {
        /* string -> string pairs, as the safetensors format requires of metadata: PyTorch loads the file as before */
        const char *c = st_meta(f, "checksum.spatial_vae.module.encoder.conv_in.weight");
        EXPECT(c && !strncmp(c, "crc32c:", 7) && strlen(c) == 15, "checksum of the conv weight: %s", c ? c : "(none)");
        EXPECT(st_meta(f, "checksum.__metadata__") != NULL, "no checksum of the metadata");
        EXPECT(st_verify(f) == 0, "an intact file verifies: %s", vaec_last_error());
        st_close(f);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", out);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_checkpoint_resume_auto_falls_back_to_the_newest_that_verifies) {
    char out[256], path[400], loaded[512];
    snprintf(out, sizeof out, "/tmp/vaec_fallback_%d", (int)getpid());
    mkdir(out, 0755);
    save_mini(out, 0.125f, 10);
    save_mini(out, 0.375f, 20);
    save_mini(out, 0.625f, 30);
    /* the newest two corrupted: one byte of the optimizer's data, one of the state's metadata */
    const char *which[2][2] = {{"ckpt-000000030", "optimizer"}, {"ckpt-000000020", "state"}};
    for (int k = 0; k < 2; k++) {
        snprintf(path, sizeof path, "%s/%s/%s.safetensors", out, which[k][0], which[k][1]);
        size_t n;
        uint8_t *b = fuzz_read_file(path, &n);
        b[k == 0 ? n - 3 : 40] ^= 0x10;
        fuzz_write_file(path, b, n);
        free(b);
    }
    mini r;
    mini_init(&r, 0.0f);
    ckpt_state st = {0};
    EXPECT(ckpt_load_latest(out, &r.parts, &st, loaded, sizeof loaded) == 1, "resume auto: %s", vaec_last_error());
    EXPECT(strstr(loaded, "ckpt-000000010") && st.step == 10, "resumed from %s (step %lld), expected ckpt-000000010",
           loaded, (long long)st.step);
    mini want;
    mini_init(&want, 0.125f);
    ema_update(want.avg);
    ckpt_state want_st = {.step = 10, .rng = {.seed = 42, .offset = 1010}, .position = {1, 2, 3}, .n_position = 3};
    EXPECT(mini_equal(&r, &want, &st, &want_st), "the fallback checkpoint's values are not restored exactly");
    mini_free(&want);
    /* the oldest corrupted too: nothing loads, and the error says so */
    snprintf(path, sizeof path, "%s/ckpt-000000010/model.safetensors", out);
    size_t n;
    uint8_t *b = fuzz_read_file(path, &n);
    b[n - 1] ^= 0x01;
    fuzz_write_file(path, b, n);
    free(b);
    EXPECT(ckpt_load_latest(out, &r.parts, &st, loaded, sizeof loaded) == -1 && strstr(vaec_last_error(), "no checkpoint") &&
           strstr(vaec_last_error(), "ckpt-000000030"), "all corrupted: %s", vaec_last_error());
    mini_free(&r);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", out);
    EXPECT(system(cmd) == 0, "cleanup");
}
