/* cmd_codec.c: `vaec encode`, `vaec decode`, `vaec reconstruct` (interfaces.md): options, the model, and the
 * input and output by file type (train/codec_source.h, train/codec_sink.h); the windowed loop is cli/codec_run.c. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "autograd/autograd.h"      // defines: ag_set_grad_enabled
#include "cli/codec_run.h"          // defines: codec_run
#include "cli/commands.h"
#include "layers/vae2d_tiling.h"    // defines: autoencoder_kl_auto_tile
#include "train/model_folder.h"     // defines: model_open
#include "train/precision.h"        // defines: precision_inference

typedef struct {
    const char *config, *ckpt, *input, *output, *mode, *precision;
    long seed;
    int num_frames, clip, size;
    const char *tile, *max_memory;
    bool ema, side_by_side;
    const char *sets[32];
    int n_sets;
} codec_args;

static void codec_usage(const char *cmd) {
    printf("usage: vaec %s [--config CONFIG] --ckpt CKPT [--ema] --input IN --output OUT", cmd);
    if (!strcmp(cmd, "encode")) printf(" [--mode mean|sample] [--seed N]");
    if (!strcmp(cmd, "decode")) printf(" [--num-frames T]");
    if (!strcmp(cmd, "reconstruct")) printf(" [--side-by-side]");
    printf("\n       [--clip N] [--size S] [--tile auto|off|N] [--max-memory BYTES] [--precision fp32|bf16] [--set section.key=value ...]\n\n");
    printf("  IN and OUT by type: a video file (in: anything FFmpeg decodes; out: .mp4, .mkv, .webm, H.264 when FFmpeg\n"
           "  has libx264, frame rate kept), a folder of PNG/JPEG frames (out: PNG), an HDF5 dataset (.h5: every clip,\n"
           "  or --clip N; out: clips), a .safetensors file (tensor 'x' video (B,C,T,H,W) in [-1,1], or 'z' latents).\n"
           "  Latents go to .safetensors or .h5 (vaec data encode's layout) and come from .safetensors. Videos are\n"
           "  processed a window of micro_frame_size (17) frames at a time: any length fits in memory.\n"
           "  --size S        resize the short side to S and centre-crop S x S (as vaec data make); default: the frame\n"
           "                  size is kept (sides not a multiple of 8 are padded, then cropped back)\n"
           "  --tile auto|off|N  spatial tiles of N pixels for the SDXL VAE (diffusers' enable_tiling: overlap 1/4,\n"
           "                  blended seams); auto (default) tiles only when a frame would not fit --max-memory\n"
           "  --max-memory B  the budget of --tile auto, e.g. 8G or 512M (default: half the available memory)\n\n");
    if (!strcmp(cmd, "encode"))
        printf("  encodes the video IN and writes latents 'z' (B,4,T',H/8,W/8) to OUT (.safetensors, with the video's\n"
               "  frame count, size and fps in its metadata). --mode sample (default, as Open-Sora) draws from the posterior with\n"
               "  --seed (default 42); --mode mean takes its mean.\n");
    if (!strcmp(cmd, "decode"))
        printf("  decodes latents 'z' from IN (.safetensors) and writes the video to OUT (--num-frames: frames to decode\n"
               "  to; default: the count in IN's metadata, else the smallest with that many latent frames, 5 -> 17).\n");
    if (!strcmp(cmd, "reconstruct"))
        printf("  encodes (posterior mean) and decodes 'x' from IN, writes the reconstruction 'x' to OUT and\n"
               "  prints PSNR and SSIM per clip and overall; --side-by-side writes input | reconstruction in one frame.\n");
    printf("  CKPT is a safetensors file (then --config is needed) or a folder: a diffusers AutoencoderKL folder,\n"
           "  an Open-Sora pipeline folder or a vaec ckpt-N folder (--ema: its EMA weights), whose config.json\n"
           "  describes the model; with --config too, every value both give must agree.\n"
           "  --precision bf16 holds the weights in bf16 and runs convolutions, matmuls and attention in bf16\n"
           "  (float32 sums, norms and outputs; fast on CPUs with AVX512-BF16 or AMX, and on GPUs).\n");
    printf("  The config's [model] kind picks the model:\n"
           "    spatial   x is RGB video; CKPT a diffusers AutoencoderKL file or an Open-Sora pipeline file\n"
           "    temporal  x is the spatial latent x_z (B,4,T,h,w); CKPT an Open-Sora temporal VAE (bare keys or temporal_vae.*)\n"
           "    pipeline  x is RGB video, z the normalised latent ((z - shift) / scale); CKPT an Open-Sora pipeline file\n"
           "  Details: docs/commands.md (file types, streaming, tiling), docs/video-vae.md (windows against upstream's chunks).\n");
}

static int parse_codec(int argc, char **argv, codec_args *a) {
    memset(a, 0, sizeof *a);
    a->mode = "sample";
    a->seed = 42;
    a->clip = -1;
    a->tile = "auto";
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { codec_usage(argv[0]); exit(0); }
        if (!strcmp(o, "--ema")) { a->ema = true; continue; }
        if (!strcmp(o, "--side-by-side")) { a->side_by_side = true; continue; }
        if (!v) { fprintf(stderr, "vaec: error: option %s needs a value\n", o); return -1; }
        if (!strcmp(o, "--config")) a->config = v;
        else if (!strcmp(o, "--ckpt")) a->ckpt = v;
        else if (!strcmp(o, "--input")) a->input = v;
        else if (!strcmp(o, "--output")) a->output = v;
        else if (!strcmp(o, "--mode")) a->mode = v;
        else if (!strcmp(o, "--seed")) a->seed = atol(v);
        else if (!strcmp(o, "--num-frames")) a->num_frames = atoi(v);
        else if (!strcmp(o, "--precision")) a->precision = v;
        else if (!strcmp(o, "--clip")) a->clip = atoi(v);
        else if (!strcmp(o, "--size")) a->size = atoi(v);
        else if (!strcmp(o, "--tile")) a->tile = v;
        else if (!strcmp(o, "--max-memory")) a->max_memory = v;
        else if (!strcmp(o, "--set") && a->n_sets < 32) a->sets[a->n_sets++] = v;
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec %s (see --help)\n", o, argv[0]); return -1; }
        i++;
    }
    const char *missing = !a->ckpt ? "--ckpt" : !a->input ? "--input" : !a->output ? "--output" : NULL;
    if (missing) { fprintf(stderr, "vaec: error: vaec %s needs %s (see --help)\n", argv[0], missing); return -1; }
    if (a->side_by_side && strcmp(argv[0], "reconstruct")) {
        fprintf(stderr, "vaec: error: --side-by-side is an option of vaec reconstruct\n");
        return -1;
    }
    if (strcmp(a->tile, "auto") && strcmp(a->tile, "off") && atoi(a->tile) <= 0) {
        fprintf(stderr, "vaec: error: --tile '%s' (expected auto, off or a tile size in pixels, e.g. 512)\n", a->tile);
        return -1;
    }
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

/* "8G", "512M", "1048576" -> bytes; -1 if malformed */
static int64_t parse_bytes(const char *s) {
    char *end;
    double v = strtod(s, &end);
    double mult = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' || *end == 'm' ? 1048576.0
                : *end == 'G' || *end == 'g' ? 1073741824.0 : *end == 0 ? 1.0 : -1.0;
    if (end == s || v <= 0 || mult < 0 || (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB"))) return -1;
    return (int64_t)(v * mult);
}

/* half of what /proc/meminfo calls available: the default --max-memory */
static int64_t default_budget(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    long long kb = 0;
    char line[256];
    while (f && fgets(line, sizeof line, f)) if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb > 0 ? (int64_t)kb * 1024 / 2 : (int64_t)4 << 30;
}

/* --tile: sets the spatial VAE's tile size for frames of h x w, says what it chose */
static void setup_tiling(const codec_args *a, vaec_model *m, int64_t h, int64_t w) {
    if (m->kind == MODEL_TEMPORAL) return;
    vae2d *v = &m->p.spatial;
    int f = codec_down_factor(m);
    if (!strcmp(a->tile, "off")) {
        v->tile_sample_size = 0;
    } else if (strcmp(a->tile, "auto")) {
        v->tile_sample_size = atoi(a->tile);
        CHECK_HINT(v->tile_sample_size % f == 0 && v->tile_sample_size >= 4 * f, "e.g. --tile 512",
                   "--tile %d: tiles must be a multiple of the VAE's down factor %d and at least %d pixels",
                   v->tile_sample_size, f, 4 * f);
    } else {
        int64_t budget = a->max_memory ? parse_bytes(a->max_memory) : default_budget();
        CHECK_HINT(budget > 0, "e.g. --max-memory 8G", "--max-memory '%s' is not a size", a->max_memory);
        int64_t frames = v->micro_batch_size > 0 ? v->micro_batch_size : 17;
        v->tile_sample_size = autoencoder_kl_auto_tile(&v->vae.cfg, frames, (h + f - 1) / f * f, (w + f - 1) / f * f, budget);
    }
    if (v->tile_sample_size > 0 && (h > v->tile_sample_size || w > v->tile_sample_size))
        printf("tiling: %dx%d-pixel tiles, 1/4 overlap (--tile %s)\n", v->tile_sample_size, v->tile_sample_size, a->tile);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Ctrl-C or a kill while writing: the temporary output goes with the process. A file is unlinked; a PNG
   folder is removed by `rm -rf` in a child (fork, execv and waitpid are async-signal-safe; walking the
   folder here is not) */
static codec_sink *volatile g_sink;
static void on_signal(int sig) {
    const char *tmp = g_sink ? codec_sink_tmp_path(g_sink) : NULL;
    struct stat st;
    if (tmp && stat(tmp, &st) == 0 && S_ISDIR(st.st_mode)) {
        pid_t pid = fork();
        if (pid == 0) {
            char *const argv[] = {"rm", "-rf", (char *)tmp, NULL};
            execv("/bin/rm", argv);
            _exit(127);
        }
        if (pid > 0) waitpid(pid, NULL, 0);
    } else if (tmp) {
        unlink(tmp);
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static int run_codec(int argc, char **argv, codec_op op) {
    codec_args a;
    if (parse_codec(argc, argv, &a) != 0) return 2;
    if (op == CODEC_RECONSTRUCT) a.mode = "mean";
    config cfg;
    vaec_model m;
    load_model(&a, &cfg, &m);
    precision_inference(&m, a.precision);   /* --precision bf16: weights in bf16, autocast on */
    ag_set_grad_enabled(false);
    codec_source_options so = {.latents = op == CODEC_DECODE, .clip = a.clip, .size = a.size};
    codec_source *src = codec_source_open(a.input, &so);
    if (!src) FATAL("%s", vaec_last_error());
    codec_sink *sink = codec_sink_open(a.output, op == CODEC_ENCODE, codec_source_num_clips(src));
    if (!sink) FATAL("%s", vaec_last_error());
    g_sink = sink;
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    /* tiles are chosen for the first clip's size (clips of an HDF5 dataset or a safetensors file share it) */
    codec_clip first;
    if (codec_source_begin(src, 0, &first) != 0) FATAL("%s", vaec_last_error());
    int f = codec_down_factor(&m);
    setup_tiling(&a, &m, op == CODEC_DECODE ? first.h * f : first.h, op == CODEC_DECODE ? first.w * f : first.w);
    double t0 = seconds();
    rng_state rng = rng_seed((uint64_t)a.seed);
    codec_run_options ro = {.op = op, .num_frames = a.num_frames, .side_by_side = a.side_by_side};
    if (codec_run(&m, src, sink, &ro, &rng) != 0) {
        g_sink = NULL;
        codec_sink_abort(sink);   /* nothing half-written stays behind */
        FATAL("%s", vaec_last_error());
    }
    char what[160];
    snprintf(what, sizeof what, "%s", codec_sink_describe(sink));
    g_sink = NULL;   /* finish renames the temporary file: nothing for the handler from here on */
    if (codec_sink_finish(sink) != 0) FATAL("%s", vaec_last_error());
    printf("written to %s (%s) in %.2f s\n", a.output, what, seconds() - t0);
    codec_source_close(src);
    model_free(&m);
    config_free(&cfg);
    return 0;
}

int cmd_encode(int argc, char **argv) { return run_codec(argc, argv, CODEC_ENCODE); }
int cmd_decode(int argc, char **argv) { return run_codec(argc, argv, CODEC_DECODE); }
int cmd_reconstruct(int argc, char **argv) { return run_codec(argc, argv, CODEC_RECONSTRUCT); }
