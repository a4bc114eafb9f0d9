/* fuzz_h5video.c: the HDF5 clip reader (h5video_open, h5video_clip_shape, h5video_read) on a file written
 * from the input; the seeds are small valid datasets, which the fuzzer mutates byte by byte. */
#include <stdlib.h>
#include <string.h>
#include "core/check.h"                // defines: xmalloc
#include "data/h5video.h"              // defines: h5video_open, h5video_read, h5video_create
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_write_file, fuzz_rejected

#define MAX_CLIPS 8                    /* clips looked at per input */
#define MAX_READ_BYTES (4 << 20)       /* a clip claiming more is read in its first frame only */

int fuzz_h5video(const uint8_t *data, size_t n) {
    const char *path = fuzz_tmp_path("clips.h5");
    if (fuzz_write_file(path, data, n) != 0) return fuzz_rejected(path);
    h5video *v = h5video_open(path);
    if (!v) return fuzz_rejected(path);
    int rejected = 0, nc = h5video_num_clips(v);
    for (int c = 0; c < nc && c < MAX_CLIPS; c++) {
        int64_t T, H, W;
        if (h5video_clip_shape(v, c, &T, &H, &W) != 0) { rejected = 1; fuzz_rejected(path); continue; }
        int64_t frame = H * W * 3;   /* H, W >= 1, each below 2^32: no overflow */
        if (H > (1 << 20) || W > (1 << 20) || frame > MAX_READ_BYTES) continue;
        int64_t nf = T * frame <= MAX_READ_BYTES ? T : 1;
        uint8_t *buf = xmalloc((size_t)(nf * frame));
        if (h5video_read(v, c, 0, nf, buf) != 0) { rejected = 1; fuzz_rejected(path); }
        else if (T > nf && h5video_read(v, c, T - 1, 1, buf) != 0) { rejected = 1; fuzz_rejected(path); }   /* the last frame */
        free(buf);
    }
    if (nc > 0 && h5video_read(v, nc, 0, 1, NULL) == 0) abort();   /* out of range is refused, never read */
    h5video_close(v);
    return rejected ? FUZZ_REJECTED : FUZZ_LOADED;
}

/* seeds: datasets as `vaec data make` writes them, plain and compressed */
int fuzz_seeds_h5video(const char *dir) {
    for (int compress = 0; compress < 2; compress++) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, compress ? "two_clips_deflate.h5" : "two_clips.h5");
        h5video_writer *w = h5video_create(path, compress);
        if (!w) return -1;
        uint8_t px[3 * 2 * 2 * 3];
        for (size_t i = 0; i < sizeof px; i++) px[i] = (uint8_t)(i * 7);
        if (h5video_append(w, px, 3, 2, 2, "a.mp4", 24.0) != 0 || h5video_append(w, px, 1, 2, 2, "b.mp4", 30.0) != 0) {
            h5video_abort(w);
            return -1;
        }
        if (h5video_finish(w) != 0) return -1;
    }
    return 0;
}
