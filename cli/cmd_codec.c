/* cmd_codec.c: `vaec encode`, `vaec decode`, `vaec reconstruct` (interfaces.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "autograd/autograd.h"    // defines: ag_set_grad_enabled
#include "cli/commands.h"
#include "core/safetensors.h"     // defines: st_open, st_find
#include "layers/vae2d.h"         // defines: vae2d
#include "train/metrics.h"        // defines: metric_psnr, metric_ssim
#include "train/model_config.h"   // defines: spatial_config_from
#include "train/video_io.h"       // defines: video_load, video_save

typedef struct {
    const char *config, *ckpt, *input, *output, *mode;
    long seed;
    int num_frames;
    const char *sets[32];
    int n_sets;
} codec_args;

static void codec_usage(const char *cmd) {
    printf("usage: vaec %s --config CONFIG --ckpt CKPT --input IN --output OUT", cmd);
    if (!strcmp(cmd, "encode")) printf(" [--mode mean|sample] [--seed N]");
    if (!strcmp(cmd, "decode")) printf(" [--num-frames T]");
    printf(" [--set section.key=value ...]\n\n");
    if (!strcmp(cmd, "encode"))
        printf("  encodes video x (B,3,T,H,W) in [-1,1] from IN (safetensors, tensor 'x') and writes latents 'z'\n"
               "  (B,4,T,H/8,W/8) to OUT. --mode sample (default, as Open-Sora) draws from the posterior with\n"
               "  --seed (default 42); --mode mean takes its mean.\n");
    if (!strcmp(cmd, "decode"))
        printf("  decodes latents 'z' from IN and writes video 'x' to OUT.\n");
    if (!strcmp(cmd, "reconstruct"))
        printf("  encodes (posterior mean) and decodes 'x' from IN, writes the reconstruction 'x' to OUT and\n"
               "  prints PSNR and SSIM against the input.\n");
    printf("  CKPT: a diffusers AutoencoderKL safetensors file, or an Open-Sora pipeline checkpoint\n"
           "  (keys spatial_vae.module.*). The config's [model] kind must be spatial in this version.\n");
}

static int parse_codec(int argc, char **argv, codec_args *a) {
    memset(a, 0, sizeof *a);
    a->mode = "sample";
    a->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { codec_usage(argv[0]); exit(0); }
        if (!v) { fprintf(stderr, "vaec: error: option %s needs a value\n", o); return -1; }
        if (!strcmp(o, "--config")) a->config = v;
        else if (!strcmp(o, "--ckpt")) a->ckpt = v;
        else if (!strcmp(o, "--input")) a->input = v;
        else if (!strcmp(o, "--output")) a->output = v;
        else if (!strcmp(o, "--mode")) a->mode = v;
        else if (!strcmp(o, "--seed")) a->seed = atol(v);
        else if (!strcmp(o, "--num-frames")) a->num_frames = atoi(v);
        else if (!strcmp(o, "--set") && a->n_sets < 32) a->sets[a->n_sets++] = v;
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec %s (see --help)\n", o, argv[0]); return -1; }
        i++;
    }
    const char *missing = !a->config ? "--config" : !a->ckpt ? "--ckpt" : !a->input ? "--input" : !a->output ? "--output" : NULL;
    if (missing) { fprintf(stderr, "vaec: error: vaec %s needs %s (see --help)\n", argv[0], missing); return -1; }
    if (strcmp(a->mode, "mean") && strcmp(a->mode, "sample")) {
        fprintf(stderr, "vaec: error: --mode '%s' (expected mean or sample)\n", a->mode);
        return -1;
    }
    return 0;
}

/* builds the model of the config and loads the checkpoint; exits with a message on any problem */
static void load_model(const codec_args *a, config *cfg, vae2d *v) {
    if (config_load(cfg, a->config) != 0) FATAL("%s", vaec_last_error());
    for (int i = 0; i < a->n_sets; i++) if (config_set(cfg, a->sets[i]) != 0) FATAL("%s", vaec_last_error());
    model_kind kind = model_kind_from(cfg);
    CHECK_HINT(kind == MODEL_SPATIAL, "set [model] kind = spatial; the temporal VAE and the pipeline come in the next release",
               "config %s: model kind '%s' is not available in this version of vaec", a->config,
               config_str(cfg, "model", "kind", "pipeline"));
    autoencoder_kl_config sc = spatial_config_from(cfg);
    autoencoder_kl_init(&v->vae, &sc, 0);
    v->micro_batch_size = spatial_micro_batch_size_from(cfg);
    st_file *f = st_open(a->ckpt);
    if (!f) FATAL("%s", vaec_last_error());
    const char *prefix = st_find(f, "spatial_vae.module.encoder.conv_in.weight") ? "spatial_vae.module." : "";
    st_close(f);
    if (autoencoder_kl_load(&v->vae, a->ckpt, prefix) != 0) FATAL("%s", vaec_last_error());
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void save_or_die(const char *path, const char *name, const tensor *t) {
    if (video_save(path, name, t) != 0) FATAL("%s", vaec_last_error());
}

static void print_shape(const char *what, const tensor *cl) {
    /* files are (B,C,T,H,W): print that order */
    printf("%s (%lld,%lld,%lld,%lld,%lld)", what, (long long)cl->shape[0], (long long)cl->shape[4],
           (long long)cl->shape[1], (long long)cl->shape[2], (long long)cl->shape[3]);
}

static int run_codec(int argc, char **argv, int which /* 0 encode, 1 decode, 2 reconstruct */) {
    codec_args a;
    if (parse_codec(argc, argv, &a) != 0) return 2;
    config cfg;
    vae2d v;
    load_model(&a, &cfg, &v);
    ag_set_grad_enabled(false);
    tensor *in = video_load(a.input, which == 1 ? "z" : "x");
    if (!in) FATAL("%s", vaec_last_error());
    double t0 = seconds();
    tensor_scope_begin();
    tensor *out;
    if (which == 0) {
        rng_state rng = rng_seed((uint64_t)a.seed);
        out = vae2d_encode(&v, in, !strcmp(a.mode, "sample"), &rng);
    } else if (which == 1) {
        out = vae2d_decode(&v, in);
    } else {
        out = vae2d_decode(&v, vae2d_encode(&v, in, false, NULL));
    }
    save_or_die(a.output, which == 0 ? "z" : "x", out);
    print_shape("input", in);
    print_shape(" -> output", out);
    printf(" in %.2f s, written to %s\n", seconds() - t0, a.output);
    if (which == 2) {
        tensor *clamped = op_clamp(out, -1.0f, 1.0f);
        printf("PSNR %.2f dB  SSIM %.4f\n", metric_psnr(in, clamped), metric_ssim(in, clamped));
    }
    tensor_scope_end(NULL);
    tensor_release(in);
    autoencoder_kl_free(&v.vae);
    config_free(&cfg);
    return 0;
}

int cmd_encode(int argc, char **argv) { return run_codec(argc, argv, 0); }
int cmd_decode(int argc, char **argv) { return run_codec(argc, argv, 1); }
int cmd_reconstruct(int argc, char **argv) { return run_codec(argc, argv, 2); }
