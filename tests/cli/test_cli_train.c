/* test_cli_train.c: `vaec data make` + `vaec train` as users run them: a resumed run continues the
 * uninterrupted one exactly, --dump-grads writes the gradients, bad settings are refused clearly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/safetensors.h"
#include "tests/harness/test.h"


static char *slurp(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *b = calloc(1, 1 << 20);
    size_t n = fread(b, 1, (1 << 20) - 1, f);
    b[n] = 0;
    fclose(f);
    return b;
}

/* the metrics line of `step` (without its trailing fields that do not matter) */
static const char *line_of(const char *text, int step, char *buf, size_t n) {
    char key[32];
    snprintf(key, sizeof key, "{\"step\": %d,", step);
    const char *s = text ? strstr(text, key) : NULL;
    if (!s) return "";
    size_t k = strcspn(s, "\n");
    snprintf(buf, n, "%.*s", (int)k, s);
    return buf;
}

/* with a learning-rate warm-up and an EMA of the weights, so that resume covers both (a cosine schedule would
 * differ between the 6-step run and the 4-step one: its length is train.steps) */
#define SCHEDULE_AND_EMA "--set train.lr_schedule=warmup --set train.warmup_steps=4 --set train.ema_decay=0.9"

TEST(test_cli_train_resume_continues_exactly) {
    char dir[128], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_train_%d", (int)getpid());
    const char *src = test_source_dir();
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 8 --out %s/d.h5 --size 16 --num-frames 6", dir,
             VAEC_BIN_DIR, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "data make:\n%s", out);
    /* uninterrupted: 6 steps */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/full " SCHEDULE_AND_EMA, VAEC_BIN_DIR,
             src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "train:\n%s", out);
    /* interrupted after 4 steps, then resumed to 6 */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/part --steps 4 "
             SCHEDULE_AND_EMA,
             VAEC_BIN_DIR, src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "train 4:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/part --resume auto "
             SCHEDULE_AND_EMA,
             VAEC_BIN_DIR, src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "resumed from"), "resume:\n%s", out);
    char p1[256], p2[256], a[512], b[512];
    snprintf(p1, sizeof p1, "%s/full/metrics.jsonl", dir);
    snprintf(p2, sizeof p2, "%s/part/metrics.jsonl", dir);
    char *full = slurp(p1), *part = slurp(p2);
    for (int s = 1; s <= 6; s++) {
        const char *la = line_of(full, s, a, sizeof a), *lb = line_of(part, s, b, sizeof b);
        EXPECT(*la && !strcmp(la, lb), "step %d differs after resume:\n  %s\n  %s", s, la, lb);
    }
    free(full);
    free(part);
    /* the weights and their moving averages of both runs are identical; the averages differ from the weights */
    const char *files[2] = {"model", "ema"};
    for (int k = 0; k < 2; k++) {
        snprintf(p1, sizeof p1, "%s/full/ckpt-000000006/%s.safetensors", dir, files[k]);
        snprintf(p2, sizeof p2, "%s/part/ckpt-000000006/%s.safetensors", dir, files[k]);
        st_file *fa = st_open(p1), *fb = st_open(p2);
        EXPECT(fa && fb, "final checkpoint files %s missing", files[k]);
        for (int i = 0; fa && fb && i < fa->n_entries; i++) {
            tensor *x = st_load(fa, fa->entries[i].name), *y = st_load(fb, fa->entries[i].name);
            EXPECT(y && memcmp(x->data, y->data, (size_t)x->numel * 4) == 0, "%s: %s differs", files[k], fa->entries[i].name);
            tensor_release(x);
            tensor_release(y);
        }
        st_close(fa);
        st_close(fb);
    }
    snprintf(p1, sizeof p1, "%s/full/ckpt-000000006/model.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/full/ckpt-000000006/ema.safetensors", dir);
    st_file *fm = st_open(p1), *fe = st_open(p2);
    int differ = 0;
    for (int i = 0; fm && fe && i < fm->n_entries; i++) {
        tensor *x = st_load(fm, fm->entries[i].name), *y = st_load(fe, fm->entries[i].name);
        differ += y && memcmp(x->data, y->data, (size_t)x->numel * 4) != 0;
        tensor_release(x);
        tensor_release(y);
    }
    EXPECT(fm && fe && differ > 0, "the EMA weights equal the weights: the average is not kept");
    st_close(fm);
    st_close(fe);
    /* the learning rate follows the schedule: a linear warm-up over 4 steps, then constant */
    snprintf(p1, sizeof p1, "%s/full/metrics.jsonl", dir);
    full = slurp(p1);
    double lr[7] = {0};
    for (int st = 1; st <= 6; st++) {
        const char *l = strstr(line_of(full, st, a, sizeof a), "\"lr\": ");
        lr[st] = l ? atof(l + 6) : -1;
    }
    free(full);
    EXPECT(fabs(lr[1] - 0.25 * lr[6]) < 1e-12 && fabs(lr[2] - 0.5 * lr[6]) < 1e-12 && lr[4] == lr[6] && lr[5] == lr[6],
           "lr per step %g %g %g %g %g %g: not a 4-step warm-up",
           lr[1], lr[2], lr[3], lr[4], lr[5], lr[6]);
    /* a fresh run into a folder that holds one is refused: nothing is overwritten */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/full", VAEC_BIN_DIR,
             src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "refusing to overwrite") && strstr(out, "--resume auto"),
           "a second run into the same folder must be refused:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_cli_train_dump_grads_and_bad_settings) {
    char dir[128], cmd[4096], out[16384], path[256];
    snprintf(dir, sizeof dir, "/tmp/vaec_train_dg_%d", (int)getpid());
    const char *src = test_source_dir();
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 2 --out %s/d.h5 --size 16 --num-frames 5 && "
             "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/run --dump-grads %s/g.safetensors",
             dir, VAEC_BIN_DIR, dir, VAEC_BIN_DIR, src, dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "dump-grads:\n%s", out);
    snprintf(path, sizeof path, "%s/g.safetensors", dir);
    st_file *f = st_open(path);
    EXPECT(f && st_find(f, "temporal_vae.encoder.conv_in.conv.weight") && !st_find(f, "spatial_vae.module.encoder.conv_in.weight")
               && st_meta(f, "loss"), "dump-grads file: trainable keys under upstream names, loss terms in the metadata");
    st_close(f);
    /* held-out evaluation: PSNR lines and the preview strips */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --set data.eval_path=%s/d.h5 "
             "--steps 2 --out %s/ev", VAEC_BIN_DIR, src, dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "held-out before training: PSNR") &&
               strstr(out, "held-out PSNR change"), "evaluation:\n%s", out);
    snprintf(path, sizeof path, "%s/ev/preview-step000000002.png", dir);
    EXPECT(access(path, R_OK) == 0, "no preview at %s", path);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set train.perceptual_loss_weight=0.1", VAEC_BIN_DIR, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "LPIPS"), "perceptual loss without LPIPS must be refused:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=/nonexistent.h5", VAEC_BIN_DIR, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "/nonexistent.h5"), "missing dataset:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set train.lr=fast", VAEC_BIN_DIR, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "train.lr=fast"), "bad value:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

/* configs/demo.ini (what `make demo` trains) runs as shipped: two steps on a small synthetic set, with the
 * held-out evaluation and preview the demo prints */
TEST(test_cli_train_demo_config_runs) {
    char dir[128], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_demo_%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && %s/vaec data make --synthetic 4 --size 32 --num-frames 9 --out %s/d.h5 && "
             "%s/vaec train %s/configs/demo.ini --steps 2 --set train.batch_size=1 --out %s/run --set data.path=%s/d.h5 "
             "--set data.eval_path=%s/d.h5 "
             "--set data.eval_clips=1",
             dir, VAEC_BIN_DIR, dir, VAEC_BIN_DIR, test_source_dir(), dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "held-out PSNR change") &&
               strstr(out, "preview-step000000002.png") && strstr(out, "checkpoint: "),
           "demo config:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}
