/* test_config.c: INI parsing, overrides, typed values, and errors that name file, line and key. */
#include <string.h>
#include <unistd.h>
#include "tests/harness/test.h"
#include "train/config.h"
#include "train/loss_setup.h"     // defines: train_loss_init
#include "train/train_config.h"   // defines: train_config_from

static void write_file(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

TEST(test_config_parses_values_comments_and_overrides) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_cfg_%d.ini", (int)getpid());
    write_file(path, "# a comment\n[model]\nkind = pipeline   # trailing comment\n\n[spatial]\nblock_out_channels = 128, 256,512\n"
                     "scaling_factor=0.13025\n[pipeline]\nfreeze_vae_2d = false\nshift = -0.10,0.34,0.27,0.98\n");
    config c;
    EXPECT(config_load(&c, path) == 0, "load: %s", vaec_last_error());
    EXPECT(!strcmp(config_str(&c, "model", "kind", ""), "pipeline"), "kind");
    int boc[8];
    EXPECT(config_ints(&c, "spatial", "block_out_channels", boc, 8, NULL, 0) == 3 && boc[2] == 512, "int list");
    EXPECT(config_float(&c, "spatial", "scaling_factor", 0) == 0.13025, "float");
    EXPECT(config_bool(&c, "pipeline", "freeze_vae_2d", true) == false, "bool");
    float shift[4];
    EXPECT(config_floats(&c, "pipeline", "shift", shift, 4, NULL, 0) == 4 && shift[0] == -0.10f, "float list");
    EXPECT(config_int(&c, "spatial", "layers_per_block", 2) == 2, "default for an absent key");
    EXPECT(config_set(&c, "spatial.layers_per_block=3") == 0 && config_int(&c, "spatial", "layers_per_block", 2) == 3, "--set");
    EXPECT(config_set(&c, "model.kind=spatial") == 0 && !strcmp(config_str(&c, "model", "kind", ""), "spatial"),
           "--set overrides the file");
    config_free(&c);
    unlink(path);
}

TEST(test_config_unknown_keys_are_errors_with_suggestions) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_cfg2_%d.ini", (int)getpid());
    write_file(path, "[spatial]\nnorm_num_group = 32\n");
    config c;
    EXPECT(config_load(&c, path) != 0 && strstr(vaec_last_error(), "line 2") &&
               strstr(vaec_last_error(), "did you mean 'spatial.norm_num_groups'"), "typo: %s", vaec_last_error());
    config_free(&c);
    write_file(path, "kind = spatial\n");
    EXPECT(config_load(&c, path) != 0 && strstr(vaec_last_error(), "before any [section]"), "no section: %s", vaec_last_error());
    config_free(&c);
    write_file(path, "[train]\nsteps 10\n");
    EXPECT(config_load(&c, path) != 0 && strstr(vaec_last_error(), "expected 'key = value'"), "no '=': %s", vaec_last_error());
    config_free(&c);
    EXPECT(config_load(&c, "/nonexistent.ini") != 0 && strstr(vaec_last_error(), "/nonexistent.ini"), "missing file");
    config_free(&c);
    write_file(path, "[train]\nsteps = 10\n");
    config_load(&c, path);
    EXPECT(config_set(&c, "train.stpes=5") != 0 && strstr(vaec_last_error(), "did you mean 'train.steps'"), "--set typo: %s",
           vaec_last_error());
    EXPECT(config_set(&c, "steps=5") != 0 && strstr(vaec_last_error(), "section.key=value"), "--set form");
    config_free(&c);
    unlink(path);
}

static void bad_int(void *ctx) {
    config c;
    config_load(&c, ctx);
    config_int(&c, "train", "steps", 1);
}

TEST(test_config_malformed_value_names_key_and_value) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_cfg3_%d.ini", (int)getpid());
    write_file(path, "[train]\nsteps = ten\n");
    EXPECT(test_expect_fatal(bad_int, path, "line 2: [train] steps = 'ten' is not an integer"), "bad int");
    unlink(path);
}

static void load_train_config(void *ctx) {
    config c;
    config_load(&c, ctx);
    train_config_from(&c);
}

/* [train] rec_loss picks the nll's reconstruction term: l1 (upstream, the default) or l2; anything else is named */
TEST(test_config_rec_loss_l1_l2_and_bad_value) {
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_cfg4_%d.ini", (int)getpid());
    const char *texts[3] = {"[train]\nsteps = 1\n", "[train]\nrec_loss = l1\n", "[train]\nrec_loss = l2\n"};
    for (int i = 0; i < 3; i++) {
        write_file(path, texts[i]);
        config c;
        config_load(&c, path);
        train_config t = train_config_from(&c);
        EXPECT(t.rec_l2 == (i == 2), "%s: rec_l2 = %d", texts[i], (int)t.rec_l2);
        vae_loss l;
        train_loss_init(&l, &t);
        EXPECT(l.rec == (i == 2 ? VAE_REC_L2 : VAE_REC_L1), "%s: the loss's reconstruction term is %d", texts[i], (int)l.rec);
        vae_loss_free(&l);
        config_free(&c);
    }
    write_file(path, "[train]\nrec_loss = mse\n");
    EXPECT(test_expect_fatal(load_train_config, path, "[train] rec_loss = 'mse' (l1 or l2)"), "bad rec_loss");
    unlink(path);
}
