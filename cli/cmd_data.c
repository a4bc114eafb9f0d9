/* cmd_data.c: `vaec data make` and `vaec data info` (interfaces.md, docs/data.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli/commands.h"
#include "core/check.h"        // defines: vaec_last_error, xmalloc
#include "data/h5video.h"     // defines: h5video_create, h5video_open
#include "data/synthetic.h"   // defines: synthetic_clip

static void usage(void) {
    printf("usage: vaec data make --synthetic N --out FILE.h5 [--size S] [--num-frames T] [--seed N] [--compress]\n"
           "       vaec data info FILE.h5 [--verify]\n\n"
           "  make: writes an HDF5 video dataset (docs/data.md): N synthetic clips of moving shapes, S x S pixels\n"
           "        (default 64), T frames each (default 17). The file appears only when complete.\n"
           "        --videos DIR and --frames DIR (importing real footage) arrive with the data release.\n"
           "  info: clip and frame counts and the size range; --verify reads every clip.\n");
}

static int data_make(int argc, char **argv) {
    long n = -1, seed = 1;
    int size = 64, frames = 17, compress = 0;
    const char *out = NULL;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--compress")) { compress = 1; continue; }
        if (!strcmp(o, "--videos") || !strcmp(o, "--frames")) {
            fprintf(stderr, "vaec: error: data make %s is not available in this version (only --synthetic)\n", o);
            return 2;
        }
        if (!v) { fprintf(stderr, "vaec: error: %s needs a value\n", o); return 2; }
        if (!strcmp(o, "--synthetic")) n = atol(v);
        else if (!strcmp(o, "--out")) out = v;
        else if (!strcmp(o, "--size")) size = atoi(v);
        else if (!strcmp(o, "--num-frames")) frames = atoi(v);
        else if (!strcmp(o, "--seed")) seed = atol(v);
        else { fprintf(stderr, "vaec: error: unknown option '%s' for vaec data make\n", o); return 2; }
        i++;
    }
    if (n <= 0 || !out || size < 8 || frames < 1) {
        fprintf(stderr, "vaec: error: vaec data make needs --synthetic N (N > 0), --out FILE.h5, --size >= 8, "
                        "--num-frames >= 1 (see --help)\n");
        return 2;
    }
    h5video_writer *w = h5video_create(out, compress);
    if (!w) { fprintf(stderr, "vaec: error: %s\n", vaec_last_error()); return 1; }
    uint8_t *clip = xmalloc((size_t)frames * size * size * 3);
    rng_state r = rng_seed((uint64_t)seed);
    for (long i = 0; i < n; i++) {
        synthetic_clip(&r, frames, size, size, clip);
        if (h5video_append(w, clip, frames, size, size, "synthetic", 8.0) != 0) {
            fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
            h5video_abort(w);
            free(clip);
            return 1;
        }
        if ((i + 1) % 16 == 0 || i + 1 == n) { printf("\rdata make: %ld/%ld clips", i + 1, n); fflush(stdout); }
    }
    free(clip);
    if (h5video_finish(w) != 0) { fprintf(stderr, "\nvaec: error: %s\n", vaec_last_error()); return 1; }
    printf("\nwrote %s: %ld clips of %d frames at %dx%d\n", out, n, frames, size, size);
    return 0;
}

static int data_info(int argc, char **argv) {
    if (argc < 3) { usage(); return 2; }
    int verify = argc > 3 && !strcmp(argv[3], "--verify");
    h5video *v = h5video_open(argv[2]);
    if (!v) { fprintf(stderr, "vaec: error: %s\n", vaec_last_error()); return 1; }
    int n = h5video_num_clips(v), rc = 0;
    int64_t frames = 0, tmin = INT64_MAX, tmax = 0, hmin = INT64_MAX, hmax = 0, wmin = INT64_MAX, wmax = 0;
    uint8_t *buf = NULL;
    size_t cap = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        int64_t T, H, W;
        if (h5video_clip_shape(v, i, &T, &H, &W) != 0) { fprintf(stderr, "vaec: error: %s\n", vaec_last_error()); rc = 1; break; }
        frames += T;
        tmin = T < tmin ? T : tmin, tmax = T > tmax ? T : tmax;
        hmin = H < hmin ? H : hmin, hmax = H > hmax ? H : hmax;
        wmin = W < wmin ? W : wmin, wmax = W > wmax ? W : wmax;
        if (verify) {
            size_t need = (size_t)(T * H * W * 3);
            if (need > cap) { free(buf); buf = xmalloc(need); cap = need; }
            if (h5video_read(v, i, 0, T, buf) != 0) { fprintf(stderr, "vaec: error: %s\n", vaec_last_error()); rc = 1; }
        }
    }
    free(buf);
    printf("%s\nclips: %d\nframes: %lld\n", argv[2], n, (long long)frames);
    if (n) printf("frames per clip: %lld..%lld\nheight: %lld..%lld\nwidth: %lld..%lld\n", (long long)tmin, (long long)tmax,
                  (long long)hmin, (long long)hmax, (long long)wmin, (long long)wmax);
    if (verify) printf("verify: %s\n", rc ? "FAILED" : "every clip read back");
    h5video_close(v);
    return rc;
}

int cmd_data(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) { usage(); return argc < 2 ? 2 : 0; }
    if (!strcmp(argv[1], "make")) return data_make(argc, argv);
    if (!strcmp(argv[1], "info")) return data_info(argc, argv);
    fprintf(stderr, "vaec: error: unknown data command '%s' (make or info)\n", argv[1]);
    return 2;
}
