/* test_cli_precision.c: bf16 from the command line, as users run it: `vaec reconstruct --precision bf16`
 * against fp32 (and a typo named), `vaec train` with [train] precision = bf16 (a typo named; a stage-1 run
 * whose checkpoint is float32 under the upstream keys, frozen spatial VAE included, and loads back),
 * VAEC_BF16_KERNELS (a bad value named; native and widened reported and agreeing). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "core/safetensors.h"          // defines: st_open, st_find
#include "tests/harness/gradcheck.h"   // defines: gc_input_scaled, rel_error
#include "tests/harness/test.h"
#include "train/video_io.h"            // defines: video_save, video_load

/* a scratch folder /tmp/vaec_<tag>_<pid>, path[i] = <dir>/<names[i]>.safetensors for i < n, a 3-frame 16x16
   video written to path[0] (returned), and common = the --config and --ckpt of the golden spatial VAE */
static tensor *reconstruct_setup(const char *tag, uint64_t seed, char *dir, size_t dir_n, char (*path)[256],
                                 const char *const *names, int n, char *common, size_t common_n) {
    char cmd[512];
    snprintf(dir, dir_n, "/tmp/vaec_%s_%d", tag, (int)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    EXPECT(system(cmd) == 0, "mkdir %s", dir);
    for (int i = 0; i < n; i++) snprintf(path[i], 256, "%s/%s.safetensors", dir, names[i]);
    tensor *x = gc_input_scaled(SHAPE(1, 3, 16, 16, 3), seed, 0.5f);
    x->requires_grad = false;
    EXPECT(video_save(path[0], "x", x) == 0, "write input: %s", vaec_last_error());
    const char *src = test_source_dir();
    snprintf(common, common_n, "--config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors",
             src, src);
    return x;
}

TEST(test_cli_reconstruct_bf16_matches_fp32) {
    char dir[128], cmd[4096], out[8192], path[3][256], common[1024];
    const char *names[3] = {"x", "fp32", "bf16"};
    tensor *x = reconstruct_setup("prec", 3, dir, sizeof dir, path, names, 3, common, sizeof common);
    for (int i = 1; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "%s/vaec reconstruct %s --input %s --output %s --precision %s", VAEC_BIN_DIR, common,
                 path[0], path[i], names[i]);
        EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "PSNR"), "reconstruct --precision %s:\n%s",
               names[i], out);
        EXPECT((i == 2) == (strstr(out, "precision: bf16") != NULL), "--precision %s: the bf16 line:\n%s", names[i], out);
    }
    tensor *a = video_load(path[1], "x"), *b = video_load(path[2], "x");
    EXPECT(a && b && tensor_same_shape(a, b) && b->dtype == DTYPE_F32, "outputs: %s", vaec_last_error());
    if (a && b) {
        /* the whole spatial VAE (encode + decode, ~20 convolutions) in bf16: each rounding 2^-8 */
        double e = rel_error(b, a);
        printf("    reconstruct bf16 vs fp32: %.2e of the largest value\n", e);
        EXPECT(e > 0 && e <= 5e-2, "bf16 reconstruction differs from fp32 by %.3g (expected a bf16 difference, <= 5e-2)", e);
    }
    snprintf(cmd, sizeof cmd, "%s/vaec encode %s --input %s --output %s/z.safetensors --precision bf61", VAEC_BIN_DIR, common,
             path[0], dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "--precision = 'bf61': precision is fp32 or bf16"),
           "a --precision typo must be named:\n%s", out);
    tensor_release(a), tensor_release(b), tensor_release(x);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

TEST(test_cli_train_bf16_checkpoint_is_fp32) {
    char dir[128], cmd[4096], out[16384], path[512];
    snprintf(dir, sizeof dir, "/tmp/vaec_train_bf16_%d", (int)getpid());
    const char *src = test_source_dir();
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set train.precision=fp16 --out %s/typo",
             VAEC_BIN_DIR, src, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "[train] precision = 'fp16': precision is fp32 or bf16"),
           "a precision typo must be named with its file and key:\n%s", out);
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 2 --out %s/d.h5 --size 16 --num-frames 5 && "
             "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --set data.eval_path=%s/d.h5 --steps 1 "
             "--set train.precision=bf16 --out %s/run",
             dir, VAEC_BIN_DIR, dir, VAEC_BIN_DIR, src, dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "precision: bf16") &&
               strstr(out, "held-out PSNR change"), "bf16 training:\n%s", out);
    snprintf(path, sizeof path, "%s/run/ckpt-000000001/model.safetensors", dir);
    st_file *f = st_open(path);
    EXPECT(f != NULL, "no checkpoint %s: %s", path, vaec_last_error());
    if (f) {
        const st_entry *sp = st_find(f, "spatial_vae.module.encoder.conv_in.weight");
        const st_entry *tp = st_find(f, "temporal_vae.encoder.conv_in.conv.weight");
        EXPECT(sp && tp && !strcmp(sp->dtype, "F32") && !strcmp(tp->dtype, "F32"),
               "the checkpoint must hold float32 under the upstream keys (frozen spatial VAE %s, temporal %s)",
               sp ? sp->dtype : "missing", tp ? tp->dtype : "missing");
        for (int i = 0; i < f->n_entries; i++)
            EXPECT(!strcmp(f->entries[i].dtype, "F32"), "%s is %s", f->entries[i].name, f->entries[i].dtype);
        st_close(f);
    }
    /* and the run continues from it in bf16 (the frozen weights load as float32, then are held in bf16 again) */
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --steps 2 "
             "--set train.precision=bf16 --out %s/run --resume auto", VAEC_BIN_DIR, src, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "resumed from"), "bf16 resume:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

/* VAEC_BF16_KERNELS from the command line: a bad value stops the run naming it; native and widened are each
   reported on the 'bf16 kernels (CPU)' line and reconstruct to the same result up to bf16 rounding order */
TEST(test_cli_bf16_kernels_env_checked_and_reported) {
    char dir[128], cmd[4096], out[8192], path[4][256], common[1024];
    const char *names[4] = {"x", "native", "widened", "auto"};
    tensor *x = reconstruct_setup("bf16k", 5, dir, sizeof dir, path, names, 4, common, sizeof common);
    snprintf(cmd, sizeof cmd, "VAEC_BF16_KERNELS=fastest %s/vaec reconstruct %s --input %s --output %s/bad.safetensors "
             "--precision bf16", VAEC_BIN_DIR, common, path[0], dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "VAEC_BF16_KERNELS=fastest is not a bf16 kernel choice") &&
               strstr(out, "HINT") && strstr(out, "auto (the default"), "a bad VAEC_BF16_KERNELS must be named with the choices:\n%s", out);
    for (int i = 1; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "VAEC_BF16_KERNELS=%s %s/vaec reconstruct %s --input %s --output %s --precision bf16",
                 names[i], VAEC_BIN_DIR, common, path[0], path[i]);
        EXPECT(test_run_command(cmd, out, sizeof out) == 0, "VAEC_BF16_KERNELS=%s:\n%s", names[i], out);
        const char *line = strstr(out, "bf16 kernels (CPU): ");
        EXPECT(line != NULL, "VAEC_BF16_KERNELS=%s: no 'bf16 kernels (CPU)' line:\n%s", names[i], out);
        if (!line) continue;
        char want[64];
        snprintf(want, sizeof want, "VAEC_BF16_KERNELS=%s", names[i]);
        /* forced: the line names the variable, unless the CPU has no bf16 kernels at all (then it says why) */
        const bool floor = strstr(line, "no fast oneDNN bf16 kernels") != NULL;
        if (i < 3) EXPECT(floor || strstr(line, want), "VAEC_BF16_KERNELS=%s is not reported:\n%s", names[i], out);
        else EXPECT(floor || strstr(line, "measured"), "auto does not report its measurement:\n%s", out);
        printf("    %s: %.*s\n", names[i], (int)strcspn(line, "\n"), line);
    }
    tensor *nat = video_load(path[1], "x"), *wide = video_load(path[2], "x"), *au = video_load(path[3], "x");
    EXPECT(nat && wide && au && tensor_same_shape(nat, wide), "outputs: %s", vaec_last_error());
    if (nat && wide && au) {
        /* ~20 bf16 convolutions: sums in another order may flip a bf16 rounding (2^-7), which propagates: two bf16
           runs differ by about what bf16 and fp32 do (test_cli_reconstruct_bf16_matches_fp32: 2.7e-2; here 1.8e-2) */
        double e = rel_error(wide, nat), ea = rel_error(au, nat);
        printf("    reconstruct widened vs native: %.2e, auto vs native %.2e of the largest value\n", e, ea);
        EXPECT(e <= 5e-2 && ea <= 5e-2, "widened / auto differ from native by %.3g / %.3g (expected <= 5e-2)", e, ea);
    }
    tensor_release(nat), tensor_release(wide), tensor_release(au), tensor_release(x);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}
