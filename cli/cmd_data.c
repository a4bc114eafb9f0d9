/* cmd_data.c: `vaec data make` (HDF5 datasets from video files, PNG/JPEG frame folders or synthetic
 * clips), `vaec data info [--verify]`; `vaec data bench` is in cmd_data_bench.c, `vaec data encode` in
 * cmd_data_encode.c. Layout and import
 * rules: docs/data.md. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli/commands.h"
#include "core/check.h"       // defines: vaec_last_error, xmalloc
#include "data/h5video.h"     // defines: h5video_create, h5video_open
#include "data/import.h"      // defines: import_videos, import_frames, import_synthetic

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
    "                      [--size S] [--num-frames T] [--strict] [--seed N] [--compress]\n"
    "  --videos DIR      every video file in DIR (.mp4 .webm .mkv .mov .avi ...; name order) becomes one clip\n"
    "                    of all its frames, decoded with FFmpeg; a video that cannot be decoded or is cut\n"
    "                    short is skipped with a warning and counted (--strict: it is an error instead)\n"
    "  --frames DIR      one sub-folder of PNG or JPEG frames per clip, frames sorted by name\n"
    "  --synthetic N     N clips of moving coloured shapes (deterministic from --seed, default 0)\n"
    "  --size S          frame size SxS (default 64): each frame's short side is resized to S (bilinear)\n"
    "                    and the middle SxS square kept\n"
    "  --num-frames T    keep the first T frames of each video or frame folder (default: all);\n"
    "                    frames per synthetic clip (default 17)\n"
    "  --strict          --videos: stop at the first undecodable video (exit 1, nothing written)\n"
    "  --compress        gzip level 1 (smaller file, slower reads)\n"
    "The file is written as FILE.h5.tmp.<pid> and renamed when complete: a failed or interrupted import\n"
    "leaves no file behind and any existing FILE.h5 untouched.\n";

static int data_make(int argc, char **argv) {
    const char *videos = NULL, *frames = NULL, *out = NULL;
    long long synthetic = -1, size = 64, num_frames = -1, seed = 0;
    bool compress = false, strict = false;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { printf("%s", MAKE_USAGE); return 0; }
        if (!strcmp(a, "--compress")) { compress = true; continue; }
        if (!strcmp(a, "--strict")) { strict = true; continue; }
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
    h5video_writer *w = h5video_create(out, compress);
    if (!w) return fail(vaec_last_error());
    guard(w);
    import_options o = {(int)size, (int)(num_frames > 0 ? num_frames : 0), strict};
    import_stats st = {0};
    int rc = videos ? import_videos(w, videos, &o, &st)
             : frames ? import_frames(w, frames, &o, &st)
                      : import_synthetic(w, (int)synthetic, (int)size, (int)(num_frames > 0 ? num_frames : 17),
                                         (uint64_t)seed, &st);
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
    printf("wrote %s: %d clips, %lld frames, %dx%d%s\n", out, st.clips, st.frames, (int)size, (int)size,
           compress ? ", gzip" : "");
    if (st.skipped) printf("skipped %d undecodable video%s (warnings above)\n", st.skipped, st.skipped > 1 ? "s" : "");
    if (st.ignored) printf("ignored %d file%s in %s that are not videos by name\n", st.ignored, st.ignored > 1 ? "s" : "", videos);
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
               "       vaec data info FILE [--verify]   clips, frames, sizes; --verify reads every clip\n"
               "       vaec data bench FILE ...         loader throughput (see `vaec data bench --help`)\n"
               "       vaec data encode ...             latents of every clip (see `vaec data encode --help`)\n");
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "make")) return data_make(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "bench")) return cmd_data_bench(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "encode")) return cmd_data_encode(argc - 1, argv + 1);
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
    fprintf(stderr, "vaec: error: usage: vaec data make ... | vaec data info FILE [--verify] | vaec data bench FILE ... | "
                    "vaec data encode ...\n");
    return 2;
}
