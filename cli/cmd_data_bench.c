/* cmd_data_bench.c: `vaec data bench FILE`: how fast the training loader (data/loader.h) delivers
 * batches from a dataset when nothing else runs, in clips/s and MB/s. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli/commands.h"
#include "core/check.h"    // defines: vaec_last_error
#include "data/loader.h"   // defines: loader_open, loader_next

static const char *BENCH_USAGE =
    "usage: vaec data bench FILE.h5|LIST.csv [--num-frames 17] [--size 256] [--batch 1] [--workers 2] [--batches 100]\n"
    "                      [--frame-interval 1]\n"
    "  Reads --batches batches of --batch clips (windows of --num-frames frames, --frame-interval apart,\n"
    "  centre-cropped to --size) with --workers prefetch threads, as training does, and prints clips/s and\n"
    "  MB/s (of uint8 clip pixels delivered). The first batch (start-up) is not timed. Clips shorter or\n"
    "  smaller than the window are skipped, as in training. LIST.csv: Open-Sora's CSV of videos (a 'path'\n"
    "  column), decoded on the fly with FFmpeg and resized to --size as training does.\n";

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cmd_data_bench(int argc, char **argv) {
    const char *path = NULL;
    long long frames = 17, size = 256, batch = 1, workers = LOADER_DEFAULT_WORKERS, batches = 100, interval = 1;
    struct { const char *name; long long *val, lo, hi; } opts[] = {
        {"--num-frames", &frames, 1, 100000}, {"--size", &size, 1, 16384},  {"--batch", &batch, 1, 100000},
        {"--workers", &workers, 1, LOADER_MAX_WORKERS}, {"--batches", &batches, 1, 100000000},
        {"--frame-interval", &interval, 1, 10000},
    };
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { printf("%s", BENCH_USAGE); return 0; }
        int k = -1;
        for (int j = 0; j < (int)(sizeof opts / sizeof opts[0]); j++) if (!strcmp(argv[i], opts[j].name)) k = j;
        if (k < 0) {
            if (argv[i][0] == '-' || path) {
                fprintf(stderr, "vaec: error: unexpected argument '%s'\n%s", argv[i], BENCH_USAGE);
                return 2;
            }
            path = argv[i];
            continue;
        }
        char *end;
        errno = 0;
        long long v = i + 1 < argc ? strtoll(argv[i + 1], &end, 10) : 0;
        if (i + 1 >= argc || errno || *end || end == argv[i + 1] || v < opts[k].lo || v > opts[k].hi) {
            fprintf(stderr, "vaec: error: %s expects an integer in [%lld, %lld], got '%s'\n", opts[k].name, opts[k].lo,
                    opts[k].hi, i + 1 < argc ? argv[i + 1] : "nothing");
            return 2;
        }
        *opts[k].val = v;
        i++;
    }
    if (!path) {
        fprintf(stderr, "vaec: error: which dataset?\n%s", BENCH_USAGE);
        return 2;
    }
    loader_config c = {path, (int)frames, (int)interval, (int)size, (int)batch, 0, 0, 1, false, (int)workers};
    loader *l = loader_open(&c);
    if (!l) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        return 1;
    }
    tensor *first = loader_next(l);
    int rc = first ? 0 : 1;
    tensor_release(first);
    double t0 = now_s();
    for (long long b = 0; b < batches && rc == 0; b++) {
        tensor *x = loader_next(l);
        if (!x) rc = 1;
        tensor_release(x);
    }
    double dt = now_s() - t0;
    if (rc) {
        fprintf(stderr, "vaec: error: %s\n", vaec_last_error());
        loader_close(l);
        return 1;
    }
    double clips = (double)batches * batch, mb = clips * frames * size * size * 3 / 1e6;
    printf("%s: %d clips usable (%d skipped, %d undecodable), window %lldx%lldx%lld, batch %lld, %d workers\n", path,
           loader_num_clips(l), loader_num_skipped(l), loader_num_undecodable(l), frames, size, size, batch,
           loader_num_workers(l));
    printf("%lld batches in %.3f s: %.1f clips/s, %.1f MB/s\n", batches, dt, clips / dt, mb / dt);
    loader_close(l);
    return 0;
}
