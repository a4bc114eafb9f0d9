/* cmd_codec.c: `vaec encode`, `vaec decode`, `vaec reconstruct` (interfaces.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>
#include "autograd/autograd.h"    // defines: ag_set_grad_enabled
#include "cli/commands.h"
#include "core/safetensors.h"     // defines: st_open, st_find
#include "layers/vae2d.h"         // defines: vae2d
#include "train/metrics.h"        // defines: metric_psnr, metric_ssim
#include "train/model_config.h"   // defines: vaec_model
#include "train/model_folder.h"   // defines: model_open
#include "train/video_io.h"       // defines: video_load, video_save
#include "train/precision.h"      // defines: precision_inference

typedef struct {
    const char *config, *ckpt, *input, *output, *mode, *precision;
    long seed;
    int num_frames;
    bool ema;
    const char *sets[32];
    int n_sets;
} codec_args;

static void codec_usage(const char *cmd) {
    printf("usage: vaec %s [--config CONFIG] --ckpt CKPT [--ema] --input IN --output OUT", cmd);
    if (!strcmp(cmd, "encode")) printf(" [--mode mean|sample] [--seed N]");
    if (!strcmp(cmd, "decode")) printf(" [--num-frames T]");
    printf(" [--precision fp32|bf16] [--set section.key=value ...]\n\n");
    if (!strcmp(cmd, "encode"))
        printf("  encodes video x (B,3,T,H,W) in [-1,1] from IN (safetensors, tensor 'x') and writes latents 'z'\n"
               "  (B,4,T,H/8,W/8) to OUT. --mode sample (default, as Open-Sora) draws from the posterior with\n"
               "  --seed (default 42); --mode mean takes its mean.\n");
    if (!strcmp(cmd, "decode"))
        printf("  decodes latents 'z' from IN and writes 'x' to OUT (--num-frames: frames to decode to).\n");
    if (!strcmp(cmd, "reconstruct"))
        printf("  encodes (posterior mean) and decodes 'x' from IN, writes the reconstruction 'x' to OUT and\n"
               "  prints PSNR and SSIM against the input.\n");
    printf("  CKPT is a safetensors file (then --config is needed) or a folder: a diffusers AutoencoderKL folder,\n"
           "  an Open-Sora pipeline folder or a vaec ckpt-N folder (--ema: its EMA weights), whose config.json\n"
           "  describes the model; with --config too, every value both give must agree.\n"
           "  --precision bf16 holds the weights in bf16 and runs convolutions, matmuls and attention in bf16\n"
           "  (float32 sums, norms and outputs; fast on CPUs with AVX512-BF16 or AMX, and on GPUs).\n");
    printf("  The config's [model] kind picks the model:\n"
           "    spatial   x is RGB video; CKPT a diffusers AutoencoderKL file or an Open-Sora pipeline file\n"
           "    temporal  x is the spatial latent x_z (B,4,T,h,w); CKPT an Open-Sora temporal VAE (bare keys or temporal_vae.*)\n"
           "    pipeline  x is RGB video, z the normalised latent ((z - shift) / scale); CKPT an Open-Sora pipeline file\n"
           "  decode without --num-frames decodes the smallest frame count with that many latent frames (5 -> 17).\n");
}

static int parse_codec(int argc, char **argv, codec_args *a) {
    memset(a, 0, sizeof *a);
    a->mode = "sample";
    a->seed = 42;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { codec_usage(argv[0]); exit(0); }
        if (!strcmp(o, "--ema")) { a->ema = true; continue; }
        if (!v) { fprintf(stderr, "vaec: error: option %s needs a value\n", o); return -1; }
        if (!strcmp(o, "--config")) a->config = v;
        else if (!strcmp(o, "--ckpt")) a->ckpt = v;
        else if (!strcmp(o, "--input")) a->input = v;
        else if (!strcmp(o, "--output")) a->output = v;
        else if (!strcmp(o, "--mode")) a->mode = v;
        else if (!strcmp(o, "--seed")) a->seed = atol(v);
        else if (!strcmp(o, "--num-frames")) a->num_frames = atoi(v);
        else if (!strcmp(o, "--precision")) a->precision = v;
        else if (!strcmp(o, "--set") && a->n_sets < 32) a->sets[a->n_sets++] = v;
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec %s (see --help)\n", o, argv[0]); return -1; }
        i++;
    }
    const char *missing = !a->ckpt ? "--ckpt" : !a->input ? "--input" : !a->output ? "--output" : NULL;
    if (missing) { fprintf(stderr, "vaec: error: vaec %s needs %s (see --help)\n", argv[0], missing); return -1; }
    if (strcmp(a->mode, "mean") && strcmp(a->mode, "sample")) {
        fprintf(stderr, "vaec: error: --mode '%s' (expected mean or sample)\n", a->mode);
        return -1;
    }
    return 0;
}

/* builds the model of the config and loads the checkpoint; exits with a message on any problem */
static void load_model(const codec_args *a, config *cfg, vaec_model *m) {
    if (model_open(m, cfg, a->ckpt, a->config, a->sets, a->n_sets, a->ema) != 0) FATAL("%s", vaec_last_error());
    /* encode/decode exchange what diffusion training consumes: normalised latents for a pipeline */
    m->p.cal_loss = false;
    m->p.sample_posterior = !strcmp(a->mode, "sample");
}

/* the latent frame count of `frames` input frames, for the model's kind */
static int64_t latent_frames(const vaec_model *m, int64_t frames) {
    if (m->kind == MODEL_SPATIAL) return frames;
    if (m->kind == MODEL_TEMPORAL) return vae_temporal_latent_frames(&m->p.temporal, frames);
    int64_t in[3] = {frames, 8, 8}, out[3];
    vae_pipeline_latent_size(&m->p, in, out);
    return out[0];
}

/* --num-frames absent: the smallest frame count with this many latent frames (17 for 5: the 1 + 4k rule) */
static int64_t default_num_frames(const vaec_model *m, int64_t t_lat) {
    for (int64_t t = 1; t <= t_lat * 64; t++) if (latent_frames(m, t) == t_lat) return t;
    FATAL("no frame count gives %lld latent frames with this model", (long long)t_lat);
}

static tensor *encode_any(const vaec_model *m, tensor *x, rng_state *rng) {
    switch (m->kind) {
        case MODEL_SPATIAL: return vae2d_encode(&m->p.spatial, x, m->p.sample_posterior, rng);
        case MODEL_TEMPORAL: {
            diag_gaussian post = posterior_from_moments(vae_temporal_encode(&m->p.temporal, x));
            return m->p.sample_posterior ? posterior_sample(&post, rng) : posterior_mode(&post);
        }
        default: return vae_pipeline_encode(&m->p, x, rng).z;
    }
}

static tensor *decode_any(const vaec_model *m, tensor *z, int64_t num_frames) {
    switch (m->kind) {
        case MODEL_SPATIAL: return vae2d_decode(&m->p.spatial, z);
        case MODEL_TEMPORAL: return vae_temporal_decode(&m->p.temporal, z, num_frames);
        default: return vae_pipeline_decode(&m->p, z, num_frames, NULL);
    }
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
    if (which == 2) a.mode = "mean";
    config cfg;
    vaec_model m;
    load_model(&a, &cfg, &m);
    precision_inference(&m, a.precision);   /* --precision bf16: weights in bf16, autocast on */
    ag_set_grad_enabled(false);
    tensor *in = video_load(a.input, which == 1 ? "z" : "x");
    if (!in) FATAL("%s", vaec_last_error());
    double t0 = seconds();
    tensor_scope_begin();
    rng_state rng = rng_seed((uint64_t)a.seed);
    tensor *out;
    if (which == 0) {
        out = encode_any(&m, in, &rng);
    } else if (which == 1) {
        int64_t frames = a.num_frames > 0 ? a.num_frames : default_num_frames(&m, in->shape[1]);
        CHECK_HINT(latent_frames(&m, frames) == in->shape[1], "pass --num-frames T with ceil-compatible T, e.g. 1 + 4k",
                   "--num-frames %lld needs %lld latent frames, '%s' has %lld", (long long)frames,
                   (long long)latent_frames(&m, frames), a.input, (long long)in->shape[1]);
        out = decode_any(&m, in, frames);
    } else {
        out = decode_any(&m, encode_any(&m, in, &rng), in->shape[1]);
    }
    save_or_die(a.output, which == 0 ? "z" : "x", out);
    print_shape("input", in);
    print_shape(" -> output", out);
    printf(" in %.2f s, written to %s\n", seconds() - t0, a.output);
    if (which == 2 && m.kind != MODEL_TEMPORAL) {
        tensor *clamped = op_clamp(out, -1.0f, 1.0f);
        printf("PSNR %.2f dB  SSIM %.4f\n", metric_psnr(in, clamped), metric_ssim(in, clamped));
    } else if (which == 2) {
        /* spatial latents are not pixels: report the relative error instead */
        tensor *d = op_sub(out, in);
        printf("latent reconstruction: relative RMS error %.4f\n",
               sqrt(tensor_f32(op_mean_all(op_square(d)))[0] / fmax(1e-12, tensor_f32(op_mean_all(op_square(in)))[0])));
    }
    tensor_scope_end(NULL);
    tensor_release(in);
    model_free(&m);
    config_free(&cfg);
    return 0;
}

int cmd_encode(int argc, char **argv) { return run_codec(argc, argv, 0); }
int cmd_decode(int argc, char **argv) { return run_codec(argc, argv, 1); }
int cmd_reconstruct(int argc, char **argv) { return run_codec(argc, argv, 2); }
