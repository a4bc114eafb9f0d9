/* test_cli_train.c: `vaec data make` + `vaec train` as users run them: a resumed run continues the
 * uninterrupted one exactly (schedule and EMA included), --dump-grads writes PyTorch's gradients, the demo
 * config runs, bad settings are refused clearly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/device.h"
#include "core/safetensors.h"
#include "data/h5video.h"
#include "layers/params.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/st_compare.h"   // defines: test_tensors_differing
#include "tests/harness/test.h"
#include "tests/harness/train_resume.h"   // defines: test_train_full_and_resumed


/* with a learning-rate warm-up and an EMA of the weights, so that resume covers both (a cosine schedule would
 * differ between the 6-step run and the 4-step one: its length is train.steps) */
#define SCHEDULE_AND_EMA "--set train.lr_schedule=warmup --set train.warmup_steps=4 --set train.ema_decay=0.9"

TEST(test_cli_train_resume_continues_exactly) {
    char dir[128], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_train_%d", (int)getpid());
    const char *src = test_source_dir();
    test_train_full_and_resumed(dir, SCHEDULE_AND_EMA, NULL, out, sizeof out);
    /* the weights and their moving averages of both runs are identical; the averages differ from the weights */
    test_train_same_checkpoint_files(dir, 6, (const char *const[]){"model", "ema"}, 2);
    char p1[256], p2[256], a[512], first[512];
    char *full;
    snprintf(p1, sizeof p1, "%s/full/ckpt-000000006/model.safetensors", dir);
    snprintf(p2, sizeof p2, "%s/full/ckpt-000000006/ema.safetensors", dir);
    EXPECT(test_tensors_differing(p1, p2, first, sizeof first) > 0, "the EMA weights equal the weights: the average is not kept");
    /* the learning rate follows the schedule: a linear warm-up over 4 steps, then constant */
    snprintf(p1, sizeof p1, "%s/full/metrics.jsonl", dir);
    full = test_read_text(p1);
    double lr[7] = {0};
    for (int st = 1; st <= 6; st++) {
        const char *l = strstr(test_metrics_line(full, st, a, sizeof a), "\"lr\": ");
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
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "LPIPS") && strstr(out, "lpips_path"),
           "perceptual loss without [train] lpips_path must be refused:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --out %s/lp "
             "--set train.perceptual_loss_weight=0.1 --set train.lpips_path=%s/no_lpips.safetensors", VAEC_BIN_DIR, src, dir,
             dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "lpips_path") && strstr(out, "no_lpips.safetensors"),
           "a missing LPIPS weights file must be named:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=/nonexistent.h5", VAEC_BIN_DIR, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "/nonexistent.h5"), "missing dataset:\n%s", out);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set train.lr=fast", VAEC_BIN_DIR, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "train.lr=fast"), "bad value:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
    if (!device_cuda_available()) {   /* no GPU here: device = cuda must say so, not crash in an op */
        snprintf(cmd, sizeof cmd, "%s/vaec train %s/tests/data/train_tiny.ini --set train.device=cuda --out /tmp/vaec_nogpu_%d",
                 VAEC_BIN_DIR, test_source_dir(), (int)getpid());
        EXPECT(test_run_command(cmd, out, sizeof out) != 0 && (strstr(out, "no GPU is visible") || strstr(out, "no CUDA backend")),
               "device = cuda without a GPU:\n%s", out);
    }
}

/* configs/demo.ini (what `make demo` trains) runs as shipped: two steps on a small synthetic set, with the
 * held-out evaluation and preview the demo prints (and the periodic one, eval_every) */
TEST(test_cli_train_demo_config_runs) {
    char dir[128], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_demo_%d", (int)getpid());
    snprintf(cmd, sizeof cmd,
             "mkdir -p %s && %s/vaec data make --synthetic 4 --size 32 --num-frames 9 --out %s/d.h5 && "
             "%s/vaec train %s/configs/demo.ini --steps 2 --set train.batch_size=1 --out %s/run --set data.path=%s/d.h5 "
             "--set data.eval_path=%s/d.h5 --set data.eval_clips=1 --set train.eval_every=1",
             dir, VAEC_BIN_DIR, dir, VAEC_BIN_DIR, test_source_dir(), dir, dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "held-out PSNR change") &&
               strstr(out, "preview-step000000002.png") && strstr(out, "checkpoint: ") &&
               strstr(out, "preview-step000000001.png") && strstr(out, "held-out at this step"),
           "demo config:\n%s", out);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}

/* `vaec train --dump-grads` end to end against PyTorch: the tiny stage-1 pipeline of gen_stage1.py (its
 * weights file given as [pipeline] checkpoint), step 0's clip stored in an HDF5 file and read through the
 * loader; every trainable gradient the command writes (PyTorch layout) matches the golden's grad0 */
TEST(test_cli_train_dump_grads_match_pytorch) {
    char dir[128], path[256], cmd[4096], out[16384];
    snprintf(dir, sizeof dir, "/tmp/vaec_dump_%d", (int)getpid());
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    EXPECT(system(cmd) == 0, "mkdir");
    golden_file *g = golden_open("stage1");
    tensor *x = golden_get(g, "x0");   /* (1,5,8,8,3), uint8 pixels scaled to [-1, 1] */
    uint8_t px[5 * 8 * 8 * 3];
    const float *xf = tensor_f32(x);
    for (int i = 0; i < 5 * 8 * 8 * 3; i++) px[i] = (uint8_t)lrintf((xf[i] + 1.0f) * 127.5f);
    tensor_release(x);
    snprintf(path, sizeof path, "%s/clip.h5", dir);
    h5video_writer *w = h5video_create(path, false);
    EXPECT(w && h5video_append(w, px, 5, 8, 8, "stage1 golden x0", 8.0) == 0 && h5video_finish(w) == 0, "h5: %s",
           vaec_last_error());
    char *weights = test_path("tests/golden/pipeline_tiny_model.safetensors");
    snprintf(path, sizeof path, "%s/tiny.ini", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "[model]\nkind = pipeline\n[spatial]\nblock_out_channels = 16,16\nlayers_per_block = 1\nnorm_num_groups = 8\n"
               "micro_batch_size = 4\n[temporal]\nfilters = 4\nnum_res_blocks = 1\nnum_groups = 2\n[pipeline]\n"
               "micro_frame_size = 17\nfreeze_vae_2d = true\nsample_posterior = false\ncheckpoint = %s\n[train]\n"
               "use_z_rec_loss = true\nuse_image_identity_loss = true\nmixed_strategy = none\nlr = 1e-3\nbatch_size = 1\n"
               "num_frames = 5\nimage_size = 8\n[data]\npath = %s/clip.h5\n", weights, dir);
    fclose(f);
    free(weights);
    snprintf(cmd, sizeof cmd, "%s/vaec train %s/tiny.ini --out %s/run --dump-grads %s/grads.safetensors", VAEC_BIN_DIR, dir,
             dir, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "dump-grads:\n%s", out);
    snprintf(path, sizeof path, "%s/grads.safetensors", dir);
    st_file *d = st_open(path);
    EXPECT(d != NULL, "%s: %s", path, vaec_last_error());
    int checked = 0;
    double worst = 0;
    for (int i = 0; d && i < d->n_entries; i++) {
        const char *k = d->entries[i].name;
        EXPECT(strncmp(k, "spatial_vae.", 12) != 0, "%s: the frozen spatial VAE has a gradient", k);
        if (strncmp(k, "temporal_vae.", 13) != 0) continue;
        tensor *got = st_load(d, k), *mine = got->ndim == 5 ? conv_weight_from_torch(got) : tensor_clone(got);
        char gk[700];
        snprintf(gk, sizeof gk, "grad0.%s", k);
        tensor *want = golden_get(g, gk);
        worst = fmax(worst, rel_error(mine, want));
        checked++;
        tensor_release(got);
        tensor_release(mine);
        tensor_release(want);
    }
    tensor *step0 = golden_get(g, "step0");   /* loss, z_nll, identity, grad norm */
    const char *znll = d ? st_meta(d, "z_nll") : NULL;
    EXPECT(znll && fabs(atof(znll) - tensor_f32(step0)[1]) < 1e-4 * fabs(tensor_f32(step0)[1]), "z_nll in the dump: %s, PyTorch %g",
           znll ? znll : "missing", tensor_f32(step0)[1]);
    tensor_release(step0);
    EXPECT(checked == 87, "%d temporal gradients in the dump, the golden has 87", checked);
    EXPECT(worst < 1e-4, "worst gradient error %.3g (relative to each tensor's largest gradient)", worst);
    test_note_error("cli_dump_grads", worst);
    st_close(d);
    golden_close(g);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    EXPECT(system(cmd) == 0, "cleanup");
}
