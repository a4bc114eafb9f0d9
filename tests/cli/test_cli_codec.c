/* test_cli_codec.c: `vaec encode/decode/reconstruct` with a spatial config, run as users run them,
 * and their error messages for bad input. */
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "core/safetensors.h"
#include "layers/vae2d.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "train/video_io.h"


static void tmp_path(char *buf, size_t n, const char *stem) { snprintf(buf, n, "/tmp/vaec_cli_%d_%s.safetensors", (int)getpid(), stem); }

TEST(test_cli_encode_decode_reconstruct_spatial) {
    char xin[256], zout[256], xout[256], rout[256], cmd[4096], out[8192];
    tmp_path(xin, sizeof xin, "x");
    tmp_path(zout, sizeof zout, "z");
    tmp_path(xout, sizeof xout, "xd");
    tmp_path(rout, sizeof rout, "xr");
    tensor *x = gc_input_scaled(SHAPE(1, 3, 16, 16, 3), 3, 0.5f);   /* (B,T,H,W,C) */
    x->requires_grad = false;
    EXPECT(video_save(xin, "x", x) == 0, "write input: %s", vaec_last_error());
    const char *src = test_source_dir();
    char common[1024];
    snprintf(common, sizeof common, "--config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors",
             src, src);

    snprintf(cmd, sizeof cmd, "%s/vaec encode %s --input %s --output %s --mode mean", VAEC_BIN_DIR, common, xin, zout);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "encode failed:\n%s", out);
    tensor *z = video_load(zout, "z");
    EXPECT(z && z->shape[0] == 1 && z->shape[1] == 3 && z->shape[2] == 8 && z->shape[4] == 4, "latent shape wrong: %s", vaec_last_error());
    /* the same numbers as the library: CLI adds only file I/O */
    if (z) {
        vae2d v = {0};
        autoencoder_kl_config c = autoencoder_kl_config_sdxl();
        c.n_blocks = 2, c.block_out_channels[0] = 32, c.block_out_channels[1] = 64, c.layers_per_block = 1, c.norm_num_groups = 8;
        autoencoder_kl_init(&v.vae, &c, 0);
        v.micro_batch_size = 2;
        char *ck = test_path("tests/golden/spatial_a_model.safetensors");
        EXPECT(autoencoder_kl_load(&v.vae, ck, "") == 0, "load");
        free(ck);
        bool prev = ag_set_grad_enabled(false);
        tensor_scope_begin();
        tensor *want = vae2d_encode(&v, x, false, NULL);
        EXPECT(rel_error(z, want) == 0, "CLI latents differ from the library's: %.3e", rel_error(z, want));
        tensor_scope_end(NULL);
        ag_set_grad_enabled(prev);
        autoencoder_kl_free(&v.vae);
    }
    snprintf(cmd, sizeof cmd, "%s/vaec decode %s --input %s --output %s", VAEC_BIN_DIR, common, zout, xout);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "decode failed:\n%s", out);
    tensor *xd = video_load(xout, "x");
    EXPECT(xd && tensor_same_shape(xd, x), "decoded shape differs from the input's");
    snprintf(cmd, sizeof cmd, "%s/vaec reconstruct %s --input %s --output %s", VAEC_BIN_DIR, common, xin, rout);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "PSNR") && strstr(out, "SSIM"), "reconstruct:\n%s", out);
    tensor_release(x);
    tensor_release(z);
    tensor_release(xd);
    unlink(xin), unlink(zout), unlink(xout), unlink(rout);
}

TEST(test_cli_codec_bad_input_gives_clear_errors) {
    char cmd[4096], out[8192], cfg[256], xin[256];
    const char *src = test_source_dir();
    /* missing input file */
    snprintf(cmd, sizeof cmd, "%s/vaec encode --config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors "
             "--input /nonexistent/in.safetensors --output /tmp/x.safetensors", VAEC_BIN_DIR, src, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "/nonexistent/in.safetensors"), "missing input:\n%s", out);
    /* a typo in the config */
    snprintf(cfg, sizeof cfg, "/tmp/vaec_cli_%d.ini", (int)getpid());
    FILE *f = fopen(cfg, "w");
    fprintf(f, "[model]\nkind = spatial\n[spatial]\nlayer_per_block = 1\n");
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s/vaec encode --config %s --ckpt x --input y --output z", VAEC_BIN_DIR, cfg);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "line 4") && strstr(out, "did you mean 'spatial.layers_per_block'"),
           "config typo:\n%s", out);
    /* a checkpoint of another config: names the key and both shapes */
    snprintf(cmd, sizeof cmd, "%s/vaec encode --config %s/configs/spatial-sdxl.ini --ckpt %s/tests/golden/spatial_a_model.safetensors "
             "--input y --output z", VAEC_BIN_DIR, src, src);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "encoder.conv_in.weight") && strstr(out, "(128,3,3,3)"),
           "wrong checkpoint:\n%s", out);
    /* an input without the expected tensor */
    snprintf(xin, sizeof xin, "/tmp/vaec_cli_%d_wrong.safetensors", (int)getpid());
    tensor *t = tensor_zeros(SHAPE(1, 1, 4, 4, 3));
    video_save(xin, "video", t);
    tensor_release(t);
    snprintf(cmd, sizeof cmd, "%s/vaec encode --config %s/tests/data/spatial_a.ini --ckpt %s/tests/golden/spatial_a_model.safetensors "
             "--input %s --output /tmp/x.safetensors", VAEC_BIN_DIR, src, src, xin);
    EXPECT(test_run_command(cmd, out, sizeof out) != 0 && strstr(out, "no tensor named 'x'"), "wrong tensor name:\n%s", out);
    unlink(cfg);
    unlink(xin);
}

/* encode then decode through the CLI; returns the decoded frame count (or -1) */
static int64_t cli_round(const char *ini, const char *ckpt, tensor *x, const char *decode_extra, char *out, size_t n) {
    char xin[256], zout[256], xout[256], cmd[4096];
    tmp_path(xin, sizeof xin, "rx");
    tmp_path(zout, sizeof zout, "rz");
    tmp_path(xout, sizeof xout, "rd");
    video_save(xin, "x", x);
    const char *src = test_source_dir();
    snprintf(cmd, sizeof cmd, "%s/vaec encode --config %s/%s --ckpt %s/%s --input %s --output %s --mode mean", VAEC_BIN_DIR,
             src, ini, src, ckpt, xin, zout);
    int64_t frames = -1;
    if (test_run_command(cmd, out, n) == 0) {
        snprintf(cmd, sizeof cmd, "%s/vaec decode --config %s/%s --ckpt %s/%s --input %s --output %s %s", VAEC_BIN_DIR, src,
                 ini, src, ckpt, zout, xout, decode_extra);
        if (test_run_command(cmd, out, n) == 0) {
            tensor *d = video_load(xout, "x");
            if (d) frames = d->shape[1];
            tensor_release(d);
        }
    }
    unlink(xin), unlink(zout), unlink(xout);
    return frames;
}

TEST(test_cli_temporal_and_pipeline_encode_decode) {
    char out[8192];
    tensor *xz = gc_input(SHAPE(1, 17, 4, 4, 4), 7);   /* a spatial latent: 17 frames */
    xz->requires_grad = false;
    int64_t f = cli_round("tests/data/temporal_tiny.ini", "tests/golden/temporal_tiny_model.safetensors", xz, "", out, sizeof out);
    EXPECT(f == 17, "temporal: 17 frames -> 5 latent frames -> decoded %lld frames (default --num-frames)\n%s", (long long)f, out);
    tensor *x = gc_input_scaled(SHAPE(1, 9, 8, 8, 3), 8, 0.5f);
    x->requires_grad = false;
    f = cli_round("tests/data/pipeline_tiny.ini", "tests/golden/pipeline_tiny_model.safetensors", x, "--num-frames 9", out, sizeof out);
    EXPECT(f == 9, "pipeline: 9 frames round trip gave %lld frames\n%s", (long long)f, out);
    f = cli_round("tests/data/pipeline_tiny.ini", "tests/golden/pipeline_tiny_model.safetensors", x, "--num-frames 30", out, sizeof out);
    EXPECT(f == -1 && strstr(out, "--num-frames 30 needs"), "a frame count that does not fit the latents must be refused:\n%s", out);
    /* a lone temporal VAE checkpoint is not a pipeline checkpoint */
    f = cli_round("tests/data/pipeline_tiny.ini", "tests/golden/temporal_tiny_model.safetensors", x, "", out, sizeof out);
    EXPECT(f == -1 && strstr(out, "not an Open-Sora pipeline checkpoint"), "wrong checkpoint kind:\n%s", out);
    tensor_release(xz);
    tensor_release(x);
}
