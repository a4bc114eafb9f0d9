/* test_cli_train_gan.c: `vaec train` with a discriminator as users run it: a resumed run continues the
 * uninterrupted one bit for bit (VAE, discriminator, both optimizers, LeCam EMAs, metrics), metrics.jsonl
 * carries the adversarial terms, discriminator.safetensors loads into PyTorch's NLayerDiscriminator with
 * strict keys, the shipped GAN configs validate, and bad settings stop with a message naming the key or file. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/harness/test.h"
#include "tests/harness/train_resume.h"   // defines: test_train_full_and_resumed
#include "train/gan_config.h"      // defines: gan_config_from
#include "train/train_config.h"    // defines: train_config_from

static double field(const char *line, const char *name) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\": ", name);
    const char *s = strstr(line, key);
    return s ? atof(s + strlen(key)) : -12345.0;
}

/* the tiny pipeline of tests/data/train_tiny.ini with a small discriminator, starting at step 2 (0-based),
 * LeCam on, a non-saturating generator loss */
#define GAN_SETS "--set discriminator.type=NLayerDiscriminator --set discriminator.ndf=4 --set discriminator.n_layers=2 " \
    "--set train.discriminator_start=2 --set train.lecam_loss_weight=0.1 --set train.generator_loss_type=non-saturating"

TEST(test_cli_train_gan_resume_continues_exactly) {
    char dir[128], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_gan_%d", (int)getpid());
    const char *src = test_source_dir();
    test_train_full_and_resumed(dir, GAN_SETS, "discriminator: NLayerDiscriminator", out, sizeof out);
    char p1[256], a[1024];
    snprintf(p1, sizeof p1, "%s/full/metrics.jsonl", dir);
    char *full = test_read_text(p1);
    /* the adversarial term: none before discriminator_start (steps 1-2), then weighted; the LeCam EMAs move */
    const char *l2 = test_metrics_line(full, 2, a, sizeof a);
    EXPECT(field(l2, "adversarial_loss") == 0 && field(l2, "d_weight") == 0, "step 2 (before the start): %s", l2);
    const char *l6 = test_metrics_line(full, 6, a, sizeof a);
    EXPECT(field(l6, "adversarial_loss") != 0 && field(l6, "d_weight") > 0 && field(l6, "disc_loss") > 0 &&
               field(l6, "lecam_ema_real") != 0 && field(l6, "lecam_ema_fake") != 0 && strstr(l6, "\"disc_skipped\": false"),
           "step 6 lacks the adversarial fields: %s", l6);
    free(full);
    test_train_same_checkpoint_files(dir, 6, (const char *const[]){"model", "optimizer", "discriminator", "disc_optimizer"}, 4);
    /* upstream's keys: PyTorch's NLayerDiscriminator loads the file strictly */
    snprintf(p1, sizeof p1, "%s/full/ckpt-000000006/discriminator.safetensors 4 2", dir);
    int rc = test_run_python("check_disc_load.py", p1, out, sizeof out);
    if (rc == 77 * 256 || rc == 77) printf("    (PyTorch check skipped: VAEC_PYTHON has no torch)\n");
    else EXPECT(rc == 0, "discriminator.safetensors does not load into PyTorch's NLayerDiscriminator:\n%s", out);
    /* a damaged discriminator file: --resume auto names it and falls back to the next older checkpoint */
    snprintf(p1, sizeof p1, "%s/part/ckpt-000000006/discriminator.safetensors", dir);
    FILE *f = fopen(p1, "r+b");
    EXPECT(f && fseek(f, -6, SEEK_END) == 0, "cannot open %s", p1);
    if (f) {
        int c = fgetc(f);
        fseek(f, -6, SEEK_END);
        fputc(c ^ 0x5a, f);
        fclose(f);
    }
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/part --steps 7 "
             "--resume auto " GAN_SETS, VAEC_BIN_DIR, src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "discriminator.safetensors") &&
               strstr(out, "checksum") && strstr(out, "resumed from") && strstr(out, "ckpt-000000004"),
           "a corrupted discriminator.safetensors must be named and skipped:\n%s", out);
    /* a checkpoint of another discriminator: the message names the file and the key */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/full --steps 8 "
             "--resume %s/full/ckpt-000000006 " GAN_SETS " --set discriminator.ndf=8", VAEC_BIN_DIR, src, dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "discriminator.safetensors") && strstr(out, "main.0.weight"),
           "resuming with another ndf must name the file and the key:\n%s", out);
    /* the same file as [discriminator] checkpoint (from_pretrained) starts a fresh run from it */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/pre --steps 1 "
             GAN_SETS " --set discriminator.checkpoint=%s/full/ckpt-000000006/discriminator.safetensors", VAEC_BIN_DIR, src,
             dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "[discriminator] checkpoint:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/pre2 --steps 1 "
             GAN_SETS " --set discriminator.checkpoint=%s/full/ckpt-000000006/model.safetensors", VAEC_BIN_DIR, src, dir, dir,
             dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "[discriminator] checkpoint") &&
               strstr(out, "model.safetensors") && strstr(out, "main."),
           "a weights file that is no discriminator must be named with the key:\n%s", out);
    /* a run without a discriminator continues with one: a warning, a fresh discriminator (as upstream) */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/plain --steps 2 && "
             "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/plain --steps 3 --resume auto " GAN_SETS,
             VAEC_BIN_DIR, src, dir, dir, VAEC_BIN_DIR, src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "has no discriminator.safetensors") &&
               strstr(out, "resumed from"), "a checkpoint without a discriminator must resume with a warning:\n%s", out);
    snprintf(p1, sizeof p1, "%s/plain/ckpt-000000003/discriminator.safetensors", dir);
    EXPECT(access(p1, R_OK) == 0, "no %s after the resumed run", p1);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_cli_train_gan_bad_settings) {
    char cmd[4096], out[16384];
    const char *src = test_source_dir();
    const struct { const char *set, *needle; } cases[] = {
        {"--set train.generator_loss_type=vanilla", "generator_loss_type = vanilla"},
        {"--set train.discriminator_loss_type=wgan", "discriminator_loss_type = 'wgan'"},
        {"--set train.gradient_penalty_loss_weight=10", "double backward"},
        {"--set discriminator.type=StyleGAN", "[discriminator] type = 'StyleGAN'"},
        {"--set discriminator.n_layers=4", "leaves no logits on 16x16 frames"},
        {"--set train.grad_accum_steps=2", "grad_accum_steps = 2 with a discriminator"},
        {"--set discriminator.ndff=8", "did you mean 'discriminator.ndf'"},
        {"--set train.lecam_loss_weight=-1", "lecam_loss_weight = -1"},
        {"--set discriminator.init=xavier", "init = 'xavier'"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --out /tmp/vaec_gan_bad_%d " GAN_SETS " %s",
                 VAEC_BIN_DIR, src, (int)getpid(), cases[k].set);
        EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, cases[k].needle),
               "%s: want a non-zero exit and '%s':\n%s", cases[k].set, cases[k].needle, out);
    }
}

/* the shipped GAN configs parse and validate: demo-gan (what the docs run on the CPU) and stage 3 + GAN at
 * upstream's defaults (the demo itself is timed in docs/training.md, too slow for the suite) */
TEST(test_cli_train_gan_configs_parse) {
    const char *files[2] = {"configs/demo-gan.ini", "configs/opensora-stage3-gan.ini"};
    for (int k = 0; k < 2; k++) {
        config c;
        char *path = test_path(files[k]);
        EXPECT(config_load(&c, path) == 0, "%s: %s", files[k], vaec_last_error());
        train_config t = train_config_from(&c);
        gan_config g = gan_config_from(&c, t.image_size, t.grad_accum_steps);
        EXPECT(g.enabled && g.disc.input_nc == 3 && g.disc.n_layers == 3 && g.loss.generator_loss_type == GAN_LOSS_HINGE &&
                   g.loss.discriminator_loss_type == GAN_LOSS_HINGE && g.loss.generator_factor == 0.5f &&
                   g.loss.discriminator_factor == 1.0f, "%s: not the discriminator of train_vae.py", files[k]);
        if (k == 1)
            EXPECT(g.disc.ndf == 64 && g.loss.discriminator_start == -1 && g.loss.lecam_loss_weight == 0 && t.num_frames == 33,
                   "%s: not upstream's defaults on stage 3", files[k]);
        config_free(&c);
        free(path);
    }
}
