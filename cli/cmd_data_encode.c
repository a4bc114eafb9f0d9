/* cmd_data_encode.c: `vaec data encode`: the latents of every clip of a dataset (HDF5 clips, a folder of
 * videos, or an Open-Sora CSV list) in one HDF5 file (data/h5latents.h, docs/data.md).
 *
 * Resumable and sharded: each clip's latents are first written to OUT.parts/clip-NNNNNN.safetensors (atomic,
 * checksummed), so an interrupted run keeps what it finished and the next run with the same settings does only
 * the rest; under `mpirun -np N` rank r encodes clips r, r+N, ... Clip i's sample draws from a stream keyed by
 * (seed, i): the latents do not depend on N or on interruptions. When every part is there, rank 0 writes
 * OUT (a temporary name, renamed when complete) and removes OUT.parts. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "autograd/autograd.h"    // defines: ag_set_grad_enabled
#include "cli/commands.h"
#include "core/ops.h"             // defines: op_permute, op_reshape, op_slice, op_concat
#include "core/safetensors.h"     // defines: st_writer, st_open
#include "data/csv_list.h"        // defines: csv_list_read, path_is_csv
#include "data/h5latents.h"       // defines: h5latents_create, h5latents_append
#include "data/h5video.h"         // defines: h5video_open, h5video_read
#include "data/video_decode.h"    // defines: video_is_video_name
#include "data/video_frames.h"    // defines: video_frames_read_all
#include "train/dist.h"           // defines: dist_init, dist_barrier
#include "train/model_config.h"   // defines: vaec_model
#include "train/model_folder.h"   // defines: model_open, path_is_dir

static const char *USAGE =
    "usage: vaec data encode [--config CONFIG] --ckpt CKPT [--ema] --input DATA --out LATENTS.h5\n"
    "                        [--mode mean|sample|moments] [--seed 42] [--size 256] [--num-frames T]\n"
    "                        [--stop-after N] [--set section.key=value ...]\n"
    "  Encodes every clip of DATA with the model (kind pipeline or spatial) and writes the latents to\n"
    "  LATENTS.h5 (layout video-latents-v1, docs/data.md; h5py reads it). DATA is\n"
    "    an HDF5 dataset (vaec data make): every clip, as stored\n"
    "    a folder: every video file in it (name order), decoded with FFmpeg\n"
    "    a .csv file: Open-Sora's list, its 'path' column (relative paths from the CSV's folder)\n"
    "  --mode sample (default, as Open-Sora) draws from the posterior (clip i from a stream keyed by --seed\n"
    "         and i), mean takes its mean, moments keeps mean and logvar so sampling can happen later\n"
    "  --size S         videos: each frame's short side resized to S and the middle SxS kept (default 256)\n"
    "  --num-frames T   the first T frames of each clip (default: all)\n"
    "  --stop-after N   encode at most N clips in this run, then stop (exit 3): run again to go on\n"
    "  Each clip's latents go to LATENTS.h5.parts/ first: an interrupted run keeps the clips it finished and\n"
    "  the same command resumes. Under mpirun -np N the clips are shared among the N processes.\n";

typedef struct {
    const char *config, *ckpt, *input, *out, *mode;
    long long seed, size, num_frames, stop_after;
    bool ema;
    const char *sets[32];
    int n_sets;
} encode_args;

/* ---- the clips of the input: an HDF5 dataset, or video files (a folder, a CSV list) ---- */
typedef struct {
    h5video *h5;
    char **videos;
    int n;
} clip_source;

static int video_name_filter(const struct dirent *e) { return e->d_name[0] != '.' && video_is_video_name(e->d_name); }

static int open_source(const char *input, clip_source *s) {
    memset(s, 0, sizeof *s);
    if (path_is_csv(input)) {
        csv_list l;
        if (csv_list_read(input, &l) != 0) return -1;
        for (int i = 0; i < l.n; i++) {   /* every file there before any work: a typo fails at once */
            struct stat st;
            if (stat(l.paths[i], &st) != 0) {
                int rc = vaec_set_error("the video list '%s': line %d: '%s' %s", input, l.lines[i], l.paths[i],
                                        strerror(errno));
                csv_list_free(&l);
                return rc;
            }
        }
        s->videos = l.paths, s->n = l.n;   /* the paths are kept; the rest of the list goes */
        free(l.lines);
        free(l.num_frames);
        return 0;
    }
    if (path_is_dir(input)) {
        struct dirent **names;
        int n = scandir(input, &names, video_name_filter, alphasort);
        if (n < 0) return vaec_set_error("cannot read folder '%s': %s", input, strerror(errno));
        if (n == 0) {
            free(names);
            return vaec_set_error("'%s' holds no video files (.mp4 .webm .mkv .mov .avi ...)", input);
        }
        s->videos = xmalloc(sizeof(char *) * (size_t)n);
        for (int i = 0; i < n; i++) {
            s->videos[i] = xmalloc(strlen(input) + strlen(names[i]->d_name) + 2);
            sprintf(s->videos[i], "%s/%s", input, names[i]->d_name);
            free(names[i]);
        }
        free(names);
        s->n = n;
        return 0;
    }
    if (!(s->h5 = h5video_open(input))) return -1;
    s->n = h5video_num_clips(s->h5);
    if (s->n == 0) return vaec_set_error("'%s' holds no clips", input);
    return 0;
}

static void close_source(clip_source *s) {
    h5video_close(s->h5);
    for (int i = 0; s->videos && i < s->n; i++) free(s->videos[i]);
    free(s->videos);
}

/* clip i as a (1,T,H,W,3) tensor in [-1, 1]; source and fps for the file. NULL + error */
static tensor *load_clip(const clip_source *s, int i, const encode_args *a, char *source, size_t n, double *fps) {
    uint8_t *buf = NULL;
    int64_t T, H, W;
    *fps = 0;
    if (s->h5) {
        if (h5video_clip_shape(s->h5, i, &T, &H, &W) != 0) return NULL;
        if (a->num_frames > 0 && T > a->num_frames) T = a->num_frames;
        buf = xmalloc((size_t)(T * H * W * 3));
        if (h5video_read(s->h5, i, 0, T, buf) != 0) { free(buf); return NULL; }
        snprintf(source, n, "%s:/clips/%06d", a->input, i);
    } else {
        size_t cap = 0;
        T = video_frames_read_all(s->videos[i], a->num_frames, (int)a->size, &buf, &cap, fps);
        if (T < 0) { free(buf); return NULL; }
        H = W = a->size;
        snprintf(source, n, "%s", s->videos[i]);
    }
    tensor *x = tensor_empty(SHAPE(1, T, H, W, 3));
    float *o = tensor_f32(x);
    for (int64_t k = 0; k < T * H * W * 3; k++) o[k] = (float)buf[k] * (2.0f / 255.0f) - 1.0f;
    free(buf);
    return x;
}

/* ---- the model's latents of one clip, (1,T',h,w,C) channels-last; moments: mean and logvar ---- */
static void encode_clip(const vaec_model *m, tensor *x, const encode_args *a, int clip, tensor **z, tensor **logvar) {
    bool moments = !strcmp(a->mode, "moments");
    rng_state rng = rng_seed((uint64_t)a->seed);
    rng.offset = (uint64_t)clip << 36;   /* clip i's own stream: the same whatever the rank or the run */
    *logvar = NULL;
    if (m->kind == MODEL_PIPELINE) {
        pipeline_encoded e = vae_pipeline_encode(&m->p, x, &rng);
        if (!moments) { *z = e.z; return; }
        /* the normalised latent's moments: (mean - shift) / scale and logvar - 2 ln scale, so a sample
         * mean + exp(logvar / 2) * eps is what --mode sample gives */
        int c = m->p.temporal.cfg.embed_dim;
        *z = tensor_autorelease(tensor_clone(e.posterior.mean));
        *logvar = tensor_autorelease(tensor_clone(e.posterior.logvar));
        float *mu = tensor_f32(*z), *lv = tensor_f32(*logvar);
        for (int64_t k = 0; k < (*z)->numel; k++) {
            int ch = (int)(k % c);
            mu[k] = (mu[k] - m->p.shift[ch]) / m->p.scale[ch];
            lv[k] -= 2.0f * logf(m->p.scale[ch]);
        }
        return;
    }
    /* spatial: frames through the AutoencoderKL in micro batches, the posterior scaled by scaling_factor */
    const vae2d *v = &m->p.spatial;
    float sf = v->vae.cfg.scaling_factor;
    int64_t t = x->shape[1], chunk = v->micro_batch_size > 0 ? v->micro_batch_size : t;
    tensor *frames = op_reshape(x, SHAPE(t, x->shape[2], x->shape[3], 3));
    int64_t k = (t + chunk - 1) / chunk;
    tensor **means = xmalloc(sizeof(tensor *) * (size_t)k), **logvars = xmalloc(sizeof(tensor *) * (size_t)k);
    for (int64_t i = 0; i < k; i++) {
        int64_t lo = i * chunk, hi = lo + chunk < t ? lo + chunk : t;
        diag_gaussian p = posterior_from_moments(autoencoder_kl_encode(&v->vae, op_slice(frames, 0, lo, hi)));
        means[i] = !moments && !strcmp(a->mode, "sample") ? posterior_sample(&p, &rng) : p.mean;
        logvars[i] = p.logvar;
    }
    tensor *mean = k == 1 ? means[0] : op_concat((int)k, means, 0), *lv = k == 1 ? logvars[0] : op_concat((int)k, logvars, 0);
    free(means);
    free(logvars);
    *z = op_reshape(op_mul_scalar(mean, sf), SHAPE(1, t, mean->shape[1], mean->shape[2], mean->shape[3]));
    if (moments) *logvar = op_reshape(op_add_scalar(lv, 2.0f * logf(sf)), 5, (*z)->shape);
}

/* ---- parts: one safetensors file a clip, tensors (C,T,h,w) ---- */
static void part_path(char *buf, size_t n, const char *out, int clip) {
    snprintf(buf, n, "%s.parts/clip-%06d.safetensors", out, clip);
}

/* a part that opens and verifies: a clip done by an earlier run (or rank) */
static bool part_done(const char *path, bool moments) {
    struct stat st;
    if (stat(path, &st) != 0) return false;
    st_file *f = st_open(path);
    bool ok = f && st_verify(f) == 0 && st_find(f, moments ? "mean" : "z") && (!moments || st_find(f, "logvar"));
    st_close(f);
    return ok;
}

static tensor *to_ctHW(tensor *z) {   /* (1,T,h,w,C) -> (C,T,h,w), the layout upstream's latents have */
    return op_permute(op_reshape(z, SHAPE(z->shape[1], z->shape[2], z->shape[3], z->shape[4])), (int[]){3, 0, 1, 2});
}

static int write_part(const char *path, tensor *z, tensor *logvar, const char *source, int64_t frames, double fps) {
    st_writer *w = st_writer_new();
    st_writer_add(w, logvar ? "mean" : "z", to_ctHW(z), DTYPE_F32);
    if (logvar) st_writer_add(w, "logvar", to_ctHW(logvar), DTYPE_F32);
    char num[64];
    st_writer_meta(w, "source", source);
    snprintf(num, sizeof num, "%lld", (long long)frames);
    st_writer_meta(w, "num_frames", num);
    snprintf(num, sizeof num, "%.17g", fps);
    st_writer_meta(w, "fps", num);
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

/* ---- progress: a bar with rate and ETA on a terminal, a line every 10% otherwise ---- */
static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void progress(int done, int total, int encoded, double elapsed, int world) {
    double rate = elapsed > 0 ? encoded / elapsed : 0, eta = rate > 0 ? (total - done) / rate : 0;
    char tail[96] = "";
    if (encoded > 0) snprintf(tail, sizeof tail, ", %.2f clips/s, ETA %d:%02d", rate, (int)eta / 60, (int)eta % 60);
    char who[32] = "";
    if (world > 1) snprintf(who, sizeof who, " (rank 0 of %d)", world);
    if (isatty(2)) {
        char bar[31];
        int k = total ? (int)(30ll * done / total) : 30;
        for (int j = 0; j < 30; j++) bar[j] = j < k ? '#' : '.';
        bar[30] = 0;
        fprintf(stderr, "\r[%s] clip %d/%d%s%s   %s", bar, done, total, who, tail, done < total ? "" : "\n");
    } else if (done == total || (total >= 10 && done % (total / 10) == 0)) {
        fprintf(stderr, "clip %d/%d%s%s\n", done, total, who, tail);
    }
}

/* ---- an interrupted assembly (Ctrl-C, kill) removes its temporary file ---- */
static char g_tmp[4200];
static void on_signal(int sig) {
    if (g_tmp[0]) unlink(g_tmp);
    signal(sig, SIG_DFL);
    raise(sig);
}

static int assemble(const encode_args *a, int n) {
    bool moments = !strcmp(a->mode, "moments");
    h5latents_writer *w = h5latents_create(a->out, moments);
    if (!w) return -1;
    snprintf(g_tmp, sizeof g_tmp, "%s.tmp.%d", a->out, (int)getpid());
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    int rc = 0;
    char path[4200];
    for (int i = 0; i < n && rc == 0; i++) {
        part_path(path, sizeof path, a->out, i);
        st_file *f = st_open(path);
        tensor *z = NULL, *lv = NULL;
        if (!f || st_read(f, moments ? "mean" : "z", &z) != 0 || (moments && st_read(f, "logvar", &lv) != 0) || !z ||
            (moments && !lv)) {
            rc = vaec_set_error("clip %d: its latents '%s' cannot be read: %s", i, path, vaec_last_error());
        } else {
            const char *src = "", *frames = "0", *fps = "0";
            for (int k = 0; k < f->n_meta; k++) {
                if (!strcmp(f->meta_keys[k], "source")) src = f->meta_values[k];
                if (!strcmp(f->meta_keys[k], "num_frames")) frames = f->meta_values[k];
                if (!strcmp(f->meta_keys[k], "fps")) fps = f->meta_values[k];
            }
            h5latents_clip c = {src, atoll(frames), atof(fps), 0, 0};
            rc = h5latents_append(w, tensor_f32(z), lv ? tensor_f32(lv) : NULL, z->shape, &c);
        }
        tensor_release(z);
        tensor_release(lv);
        st_close(f);
    }
    char seed[32];
    snprintf(seed, sizeof seed, "%lld", a->seed);
    const char *keys[] = {"mode", "input", "ckpt", "seed", "layout"};
    const char *values[] = {a->mode, a->input, a->ckpt, seed, "(C,T,h,w) float32 per clip"};
    if (rc == 0) rc = h5latents_finish(w, keys, values, 5);
    else h5latents_abort(w);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    g_tmp[0] = 0;
    return rc;
}

/* the settings a resumed run must share with the run that wrote the parts */
static void settings_text(const encode_args *a, const vaec_model *m, int n, char *buf, size_t len) {
    snprintf(buf, len, "input = %s\nclips = %d\nckpt = %s\nconfig = %s\nema = %d\nmode = %s\nseed = %lld\nsize = %lld\n"
             "num_frames = %lld\nmodel = %s\n", a->input, n, a->ckpt, a->config ? a->config : "", a->ema, a->mode,
             a->seed, a->size, a->num_frames, m->kind == MODEL_PIPELINE ? "pipeline" : "spatial");
    for (int i = 0; i < a->n_sets; i++) snprintf(buf + strlen(buf), len - strlen(buf), "set = %s\n", a->sets[i]);
}

/* rank 0: OUT.parts with its settings file, or the settings of the interrupted run it holds must match */
static int prepare_parts(const encode_args *a, const char *settings) {
    char dir[4200], file[4300];
    snprintf(dir, sizeof dir, "%s.parts", a->out);
    snprintf(file, sizeof file, "%s/settings.txt", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST)
        return vaec_set_error("cannot create '%s' for the latents of '%s': %s (is the folder of --out there and "
                              "writable?)", dir, a->out, strerror(errno));
    FILE *f = fopen(file, "r");
    if (f) {
        char old[8192];
        size_t k = fread(old, 1, sizeof old - 1, f);
        old[k] = 0;
        fclose(f);
        if (strcmp(old, settings))
            return vaec_set_error("'%s' holds the parts of an interrupted run with other settings:\n%s--- this run:\n%s"
                                  "---> HINT: run the same command as before to resume it, or delete '%s' to start "
                                  "over", dir, old, settings, dir);
        return 0;
    }
    char tmp[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp.%d", file, (int)getpid());
    f = fopen(tmp, "w");
    if (!f || fputs(settings, f) < 0 || fclose(f) != 0 || rename(tmp, file) != 0) {
        unlink(tmp);
        return vaec_set_error("cannot write '%s': %s", file, strerror(errno));
    }
    return 0;
}

/* the parts folder once OUT is written: its parts, its settings and what killed writers left (*.tmp.*) */
static void remove_parts(const char *out) {
    char dir[4200], path[4500];
    snprintf(dir, sizeof dir, "%s.parts", out);
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));) {
        bool ours = !strncmp(e->d_name, "clip-", 5) || !strncmp(e->d_name, "settings.txt", 12);
        if (!ours) continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (d) closedir(d);
    if (rmdir(dir) != 0)
        fprintf(stderr, "vaec: warning: '%s' could not be removed (%s): files other than vaec's are in it\n", dir,
                strerror(errno));
}

static int parse_args(int argc, char **argv, encode_args *a) {
    memset(a, 0, sizeof *a);
    a->mode = "sample";
    a->seed = 42;
    a->size = 256;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--help") || !strcmp(o, "-h")) { printf("%s", USAGE); exit(0); }
        if (!strcmp(o, "--ema")) { a->ema = true; continue; }
        if (!v) { fprintf(stderr, "vaec: error: %s needs a value\n%s", o, USAGE); return -1; }
        long long *num = !strcmp(o, "--seed") ? &a->seed : !strcmp(o, "--size") ? &a->size
                         : !strcmp(o, "--num-frames") ? &a->num_frames : !strcmp(o, "--stop-after") ? &a->stop_after : NULL;
        if (num) {
            char *end;
            errno = 0;
            *num = strtoll(v, &end, 10);
            if (errno || *end || end == v || *num < 0 || (num == &a->size && (*num < 1 || *num > 16384))) {
                fprintf(stderr, "vaec: error: %s expects a non-negative integer%s, got '%s'\n", o,
                        num == &a->size ? " in [1, 16384]" : "", v);
                return -1;
            }
        } else if (!strcmp(o, "--config")) a->config = v;
        else if (!strcmp(o, "--ckpt")) a->ckpt = v;
        else if (!strcmp(o, "--input")) a->input = v;
        else if (!strcmp(o, "--out")) a->out = v;
        else if (!strcmp(o, "--mode")) a->mode = v;
        else if (!strcmp(o, "--set") && a->n_sets < 32) a->sets[a->n_sets++] = v;
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec data encode\n%s", o, USAGE); return -1; }
        i++;
    }
    const char *missing = !a->ckpt ? "--ckpt" : !a->input ? "--input" : !a->out ? "--out" : NULL;
    if (missing) { fprintf(stderr, "vaec: error: vaec data encode needs %s\n%s", missing, USAGE); return -1; }
    if (strcmp(a->mode, "mean") && strcmp(a->mode, "sample") && strcmp(a->mode, "moments")) {
        fprintf(stderr, "vaec: error: --mode '%s' (expected mean, sample or moments)\n", a->mode);
        return -1;
    }
    return 0;
}

int cmd_data_encode(int argc, char **argv) {
    encode_args a;
    if (parse_args(argc, argv, &a) != 0) return 2;
    dist_init(0, DEVICE_CPU);   /* no watchdog: ranks wait for each other only at the end, however long a clip takes */
    int rank = dist_rank(), world = dist_world();
    clip_source src;
    if (open_source(a.input, &src) != 0) {
        fprintf(stderr, "vaec: error: --input: %s\n  (nothing written)\n", vaec_last_error());
        close_source(&src);
        return 1;
    }
    config cfg;
    vaec_model m;
    if (model_open(&m, &cfg, a.ckpt, a.config, a.sets, a.n_sets, a.ema) != 0) {
        fprintf(stderr, "vaec: error: %s\n  (nothing written)\n", vaec_last_error());
        close_source(&src);
        return 1;
    }
    CHECK_HINT(m.kind != MODEL_TEMPORAL, "use a pipeline config (RGB video to latents), or a spatial one",
               "vaec data encode: a temporal VAE alone takes spatial latents, not the RGB clips of '%s'", a.input);
    m.p.cal_loss = false;   /* a pipeline's normalised latents, as diffusion training consumes them */
    m.p.sample_posterior = !strcmp(a.mode, "sample");
    ag_set_grad_enabled(false);
    bool moments = !strcmp(a.mode, "moments");
    char settings[8192];
    settings_text(&a, &m, src.n, settings, sizeof settings);
    int rc = rank == 0 ? prepare_parts(&a, settings) : 0;
    dist_allreduce_max_i32(&rc, 1, "data encode: the parts folder");   /* every rank stops if rank 0 could not */
    if (rc != 0) {
        if (rank == 0) fprintf(stderr, "vaec: error: %s\n  (nothing written to %s)\n", vaec_last_error(), a.out);
        model_free(&m);
        config_free(&cfg);
        close_source(&src);
        dist_finalize();
        return 1;
    }
    int mine = 0, done = 0, encoded = 0, failed = 0;
    for (int i = rank; i < src.n; i += world) mine++;
    double t0 = now_s();
    char path[4200], source[4200];
    bool stopped = false;
    for (int i = rank, k = 0; i < src.n && !failed; i += world, k++) {
        part_path(path, sizeof path, a.out, i);
        if (!part_done(path, moments)) {
            if (a.stop_after > 0 && encoded >= a.stop_after) { stopped = true; break; }
            double fps;
            tensor *x = load_clip(&src, i, &a, source, sizeof source, &fps);
            if (!x) {
                fprintf(stderr, "%svaec: error: clip %d of '%s': %s\n  (the %d clips done are kept in %s.parts: fix "
                        "the input and run the same command again to finish)\n", isatty(2) ? "\n" : "", i, a.input,
                        vaec_last_error(), done, a.out);
                failed = 1;
                break;
            }
            tensor_scope_begin();
            tensor *z, *lv;
            encode_clip(&m, x, &a, i, &z, &lv);
            if (write_part(path, z, lv, source, x->shape[1], fps) != 0) {
                fprintf(stderr, "vaec: error: clip %d: %s\n", i, vaec_last_error());
                failed = 1;
            }
            tensor_scope_end(NULL);
            tensor_release(x);
            if (failed) break;
            encoded++;
        }
        done++;
        if (rank == 0) progress(done, mine, encoded, now_s() - t0, world);
    }
    int status[2] = {failed, stopped};
    dist_allreduce_max_i32(status, 2, "data encode: every shard done");
    rc = 0;
    if (status[0]) {
        rc = 1;
    } else if (status[1]) {
        if (rank == 0)
            printf("stopped after --stop-after %lld clips a process: %s.parts keeps the finished clips; run the same "
                   "command again to go on\n", a.stop_after, a.out);
        rc = 3;
    } else if (rank == 0) {
        if (assemble(&a, src.n) != 0) {
            fprintf(stderr, "vaec: error: %s\n  (nothing written to %s; the clips stay in %s.parts)\n", vaec_last_error(),
                    a.out, a.out);
            rc = 1;
        } else {
            remove_parts(a.out);
            printf("wrote %s: latents of %d clips (--mode %s), %d encoded now, %d kept from an earlier run%s\n", a.out,
                   src.n, a.mode, encoded, mine - encoded, world > 1 ? " (rank 0's share)" : "");
        }
    }
    model_free(&m);
    config_free(&cfg);
    close_source(&src);
    dist_finalize();
    return rc;
}
