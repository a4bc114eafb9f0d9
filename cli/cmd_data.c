/* cmd_data.c: `vaec data make` (HDF5 datasets from PNG frame folders or synthetic clips) and
 * `vaec data info [--verify]`. Layout and import rules: docs/data.md. */
#include <dirent.h>
#include <errno.h>
#include <png.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include "cli/commands.h"
#include "core/check.h"       // defines: vaec_last_error, xmalloc
#include "data/h5video.h"     // defines: h5video_create, h5video_append, h5video_open
#include "data/synthetic.h"   // defines: synthetic_clip

static int fail(const char *what) {
    fprintf(stderr, "vaec: error: %s\n", what);
    return 1;
}

/* ---- an interrupted import (Ctrl-C, kill) removes its temporary file: never a half-written dataset ---- */
static const char *volatile g_tmp;
static void on_signal(int sig) {
    if (g_tmp) unlink(g_tmp);   /* async-signal-safe */
    signal(sig, SIG_DFL);
    raise(sig);
}
static void guard(h5video_writer *w) {
    g_tmp = w ? h5video_tmp_path(w) : NULL;
    signal(SIGINT, w ? on_signal : SIG_DFL);
    signal(SIGTERM, w ? on_signal : SIG_DFL);
}

static void progress(int i, int n, long long frames) {
    bool tty = isatty(2);
    if (tty || i == n || i % 100 == 0)
        fprintf(stderr, "%sclip %d/%d, %lld frames%s", tty ? "\r" : "", i, n, frames, tty && i < n ? "" : "\n");
}

/* ---- names in a folder, sorted (byte order, so 0009.png < 0010.png as users number them) ---- */
static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* entries of dir that are folders (want_dir) or .png files; NULL + error if dir cannot be read */
static char **list_dir(const char *dir, bool want_dir, int *n) {
    DIR *d = opendir(dir);
    if (!d) {
        vaec_set_error("cannot read folder %s: %s", dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    int k = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        size_t len = strlen(e->d_name);
        char *full = xmalloc(strlen(dir) + len + 2);
        sprintf(full, "%s/%s", dir, e->d_name);
        struct stat st;
        bool is_dir = stat(full, &st) == 0 && S_ISDIR(st.st_mode);
        /* a .png that cannot be stat'ed (a broken link) is kept: reading it reports the error */
        bool keep = want_dir ? is_dir : !is_dir && len > 4 && !strcasecmp(e->d_name + len - 4, ".png");
        if (keep) {
            if (k == cap) names = xrealloc(names, sizeof *names * (size_t)(cap = cap ? 2 * cap : 64));
            names[k++] = full;
        } else {
            free(full);
        }
    }
    closedir(d);
    if (k) qsort(names, (size_t)k, sizeof *names, cmp_str);
    *n = k;
    return names ? names : xcalloc(1, sizeof *names);
}
static void free_list(char **names, int n) {
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

/* ---- one PNG frame, short side resized to S (bilinear), centre-cropped to SxS RGB ---- */
static int load_png_square(const char *path, int S, uint8_t *out) {
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) {
        vaec_set_error("%s: not a readable PNG (%s)", path, img.message);
        png_image_free(&img);
        return -1;
    }
    img.format = PNG_FORMAT_RGB;   /* grey, palette and 16-bit are converted; alpha is composited on black */
    int w = (int)img.width, h = (int)img.height;
    uint8_t *src = xmalloc(PNG_IMAGE_SIZE(img));
    png_color black = {0, 0, 0};
    if (!png_image_finish_read(&img, &black, src, 0, NULL)) {
        vaec_set_error("%s: corrupt PNG (%s)", path, img.message);
        png_image_free(&img);
        free(src);
        return -1;
    }
    /* resized size: short side S; the crop takes the middle SxS of it */
    double scale = (double)S / (w < h ? w : h);
    int rw = w < h ? S : (int)(w * scale + 0.5), rh = w < h ? (int)(h * scale + 0.5) : S;
    int ox = (rw - S) / 2, oy = (rh - S) / 2;
    double sx = (double)w / rw, sy = (double)h / rh;
    for (int y = 0; y < S; y++) {
        double fy = (y + oy + 0.5) * sy - 0.5;   /* pixel centres, as torch's align_corners=False */
        if (fy < 0) fy = 0;
        if (fy > h - 1) fy = h - 1;
        int y0 = (int)fy, y1 = y0 + 1 < h ? y0 + 1 : y0;
        double ay = fy - y0;
        for (int x = 0; x < S; x++) {
            double fx = (x + ox + 0.5) * sx - 0.5;
            if (fx < 0) fx = 0;
            if (fx > w - 1) fx = w - 1;
            int x0 = (int)fx, x1 = x0 + 1 < w ? x0 + 1 : x0;
            double ax = fx - x0;
            for (int c = 0; c < 3; c++) {
                double a = src[((size_t)y0 * w + x0) * 3 + c], b = src[((size_t)y0 * w + x1) * 3 + c],
                       cc = src[((size_t)y1 * w + x0) * 3 + c], d = src[((size_t)y1 * w + x1) * 3 + c];
                double v = (a * (1 - ax) + b * ax) * (1 - ay) + (cc * (1 - ax) + d * ax) * ay;
                out[((size_t)y * S + x) * 3 + c] = (uint8_t)(v + 0.5);
            }
        }
    }
    free(src);
    return 0;
}

static int make_frames(h5video_writer *w, const char *dir, int S, int max_frames) {
    int nclips;
    char **clips = list_dir(dir, true, &nclips);
    if (!clips) return -1;
    if (nclips == 0) {
        free_list(clips, 0);
        return vaec_set_error("%s: no clip folders in it (one sub-folder of PNG frames per clip)", dir);
    }
    long long total = 0;
    int rc = 0;
    for (int i = 0; i < nclips && rc == 0; i++) {
        int nlisted;
        char **frames = list_dir(clips[i], false, &nlisted);
        if (!frames) { rc = -1; break; }
        int nf = max_frames > 0 && nlisted > max_frames ? max_frames : nlisted;   /* the first T frames */
        if (nf == 0) {
            rc = vaec_set_error("clip %d (%s): no .png frames in the folder", i, clips[i]);
        } else {
            uint8_t *buf = xmalloc((size_t)nf * S * S * 3);
            for (int t = 0; t < nf && rc == 0; t++)
                if (load_png_square(frames[t], S, buf + (size_t)t * S * S * 3) < 0) {
                    char msg[1024];
                    snprintf(msg, sizeof msg, "%s", vaec_last_error());
                    rc = vaec_set_error("clip %d (%s), frame %d: %s", i, clips[i], t, msg);
                }
            if (rc == 0) rc = h5video_append(w, buf, nf, S, S, clips[i], 0.0);
            free(buf);
            total += nf;
        }
        free_list(frames, nlisted);
        progress(i + 1, nclips, total);
    }
    free_list(clips, nclips);
    return rc;
}

static int make_synthetic(h5video_writer *w, int n, int S, int T, uint64_t seed) {
    rng_state r = rng_seed(seed);
    uint8_t *buf = xmalloc((size_t)T * S * S * 3);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        char src[64];
        snprintf(src, sizeof src, "synthetic:seed=%llu:%d", (unsigned long long)seed, i);
        synthetic_clip(&r, T, S, S, buf);
        rc = h5video_append(w, buf, T, S, S, src, 8.0);
        progress(i + 1, n, (long long)(i + 1) * T);
    }
    free(buf);
    return rc;
}

static int parse_int(const char *opt, const char *val, long long lo, long long hi, long long *out) {
    char *end;
    errno = 0;
    long long v = strtoll(val, &end, 10);
    if (errno || *end || end == val || v < lo || v > hi) {
        fprintf(stderr, "vaec: error: %s expects an integer in [%lld, %lld], got '%s'\n", opt, lo, hi, val);
        return -1;
    }
    *out = v;
    return 0;
}

static const char *MAKE_USAGE =
    "usage: vaec data make (--videos DIR | --frames DIR | --synthetic N) --out FILE.h5\n"
    "                      [--size S] [--num-frames T] [--seed N] [--compress]\n"
    "  --frames DIR      one sub-folder of PNG frames per clip, frames sorted by name; each frame's short\n"
    "                    side is resized to S (bilinear) and centre-cropped to SxS\n"
    "  --synthetic N     N clips of moving coloured shapes (deterministic from --seed, default 0)\n"
    "  --videos DIR      video files (needs FFmpeg: not available in this build)\n"
    "  --size S          frame size SxS (default 64)\n"
    "  --num-frames T    frames per synthetic clip (default 17); with --frames, keep the first T of each clip\n"
    "  --compress        gzip level 1 (smaller file, slower reads)\n";

static int data_make(int argc, char **argv) {
    const char *videos = NULL, *frames = NULL, *out = NULL;
    long long synthetic = -1, size = 64, num_frames = -1, seed = 0;
    bool compress = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { printf("%s", MAKE_USAGE); return 0; }
        if (!strcmp(a, "--compress")) { compress = true; continue; }
        if (!v) { fprintf(stderr, "vaec: error: %s needs a value\n%s", a, MAKE_USAGE); return 2; }
        int bad = 0;
        if (!strcmp(a, "--videos")) videos = v;
        else if (!strcmp(a, "--frames")) frames = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--synthetic")) bad = parse_int(a, v, 1, 100000000, &synthetic);
        else if (!strcmp(a, "--size")) bad = parse_int(a, v, 1, 16384, &size);
        else if (!strcmp(a, "--num-frames")) bad = parse_int(a, v, 1, 100000, &num_frames);
        else if (!strcmp(a, "--seed")) bad = parse_int(a, v, 0, INT64_MAX, &seed);
        else { fprintf(stderr, "vaec: error: unknown option '%s'\n%s", a, MAKE_USAGE); return 2; }
        if (bad) return 2;
        i++;
    }
    if ((videos != NULL) + (frames != NULL) + (synthetic > 0) != 1 || !out) {
        fprintf(stderr, "vaec: error: give one of --videos, --frames, --synthetic, and --out\n%s", MAKE_USAGE);
        return 2;
    }
    if (videos) {
        fprintf(stderr, "vaec: error: --videos is not available in this build (video decoding needs FFmpeg)\n"
                        "  ---> HINT: extract frames to PNG (ffmpeg -i clip.mp4 DIR/clip/%%06d.png) and use --frames DIR\n");
        return 2;
    }
    h5video_writer *w = h5video_create(out, compress);
    if (!w) return fail(vaec_last_error());
    guard(w);
    int rc = frames ? make_frames(w, frames, (int)size, (int)(num_frames > 0 ? num_frames : 0))
                    : make_synthetic(w, (int)synthetic, (int)size, (int)(num_frames > 0 ? num_frames : 17), (uint64_t)seed);
    if (rc < 0) {
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", vaec_last_error());
        h5video_abort(w);
        guard(NULL);
        fprintf(stderr, "vaec: error: %s\n  (nothing written to %s)\n", msg, out);
        return 1;
    }
    rc = h5video_finish(w);
    guard(NULL);
    if (rc < 0) return fail(vaec_last_error());
    h5video *v = h5video_open(out);
    if (!v) return fail(vaec_last_error());
    printf("wrote %s: %d clips, %dx%d%s\n", out, h5video_num_clips(v), (int)size, (int)size, compress ? ", gzip" : "");
    h5video_close(v);
    return 0;
}

static int data_info(const char *path, bool verify) {
    h5video *v = h5video_open(path);
    if (!v) return fail(vaec_last_error());
    int n = h5video_num_clips(v);
    long long frames = 0, tmin = 0, tmax = 0, hmin = 0, hmax = 0, wmin = 0, wmax = 0;
    size_t biggest = 0;
    for (int i = 0; i < n; i++) {
        int64_t T, H, W;
        if (h5video_clip_shape(v, i, &T, &H, &W) < 0) {
            fprintf(stderr, "vaec: error: bad clip %d: %s\n", i, vaec_last_error());
            h5video_close(v);
            return 1;
        }
        frames += T;
        if (i == 0 || T < tmin) tmin = T;
        if (i == 0 || T > tmax) tmax = T;
        if (i == 0 || H < hmin) hmin = H;
        if (i == 0 || H > hmax) hmax = H;
        if (i == 0 || W < wmin) wmin = W;
        if (i == 0 || W > wmax) wmax = W;
        if ((size_t)(T * H * W * 3) > biggest) biggest = (size_t)(T * H * W * 3);
    }
    printf("%s\nclips: %d\nframes: %lld\n", path, n, frames);
    if (n) {
        printf("frames per clip: %lld..%lld\n", tmin, tmax);
        if (hmin == hmax && wmin == wmax) printf("size: %lldx%lld (HxW)\n", hmin, wmin);
        else printf("size: %lld..%lld x %lld..%lld (HxW)\n", hmin, hmax, wmin, wmax);
    }
    int rc = 0;
    if (verify) {
        uint8_t *buf = xmalloc(biggest ? biggest : 1);
        for (int i = 0; i < n && rc == 0; i++) {
            int64_t T;
            h5video_clip_shape(v, i, &T, NULL, NULL);
            if (h5video_read(v, i, 0, T, buf) < 0) {
                fprintf(stderr, "vaec: error: verify: bad clip %d: %s\n", i, vaec_last_error());
                rc = 1;
            }
        }
        free(buf);
        if (rc == 0) printf("verify: ok, read all %d clips\n", n);
    }
    h5video_close(v);
    return rc;
}

int cmd_data(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: vaec data make ... (see `vaec data make --help`)\n"
               "       vaec data info FILE [--verify]   clips, frames, sizes; --verify reads every clip\n");
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "make")) return data_make(argc, argv);
    if (argc >= 3 && !strcmp(argv[1], "info")) {
        const char *path = NULL;
        bool verify = false;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--verify")) verify = true;
            else if (!path) path = argv[i];
            else { fprintf(stderr, "vaec: error: usage: vaec data info FILE [--verify]\n"); return 2; }
        }
        if (path) return data_info(path, verify);
    }
    fprintf(stderr, "vaec: error: usage: vaec data make ... | vaec data info FILE [--verify]\n");
    return 2;
}
