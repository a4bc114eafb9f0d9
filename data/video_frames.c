/* video_frames.c: whole videos and windows of them as S x S frames (see video_frames.h). */
#include "data/video_frames.h"
#include <stdlib.h>
#include <string.h>
#include "core/check.h"          // defines: vaec_set_error, xmalloc
#include "data/resize.h"         // defines: resize_crop_square
#include "data/video_decode.h"   // defines: video_open, video_next

int64_t video_frames_read_all(const char *path, int64_t max_frames, int S, uint8_t **buf, size_t *cap, double *fps) {
    video_reader *v = video_open(path);
    if (!v) return -1;
    size_t frame = (size_t)S * S * 3;
    int64_t n = 0;
    const uint8_t *rgb;
    int w, h, row_bytes, rc = 0;
    while ((max_frames <= 0 || n < max_frames) && (rc = video_next(v, &rgb, &w, &h, &row_bytes)) == 1) {
        if ((size_t)(n + 1) * frame > *cap) {
            *cap = *cap ? 2 * *cap : 64 * frame;
            *buf = xrealloc(*buf, *cap);
        }
        resize_crop_square(rgb, w, h, row_bytes, S, *buf + (size_t)n * frame);
        n++;
    }
    bool capped = max_frames > 0 && n >= max_frames;
    int64_t expected = video_expected_frames(v);
    if (fps) *fps = video_fps(v);
    video_close(v);
    if (!capped && rc < 0) return -1;
    if (n == 0) return vaec_set_error("%s: no frames could be decoded (truncated or corrupt?)", path);
    /* a file cut short usually still demuxes cleanly up to the cut: compare with what the container declares */
    if (!capped && expected > 0 && n + 1 < expected * 9 / 10)
        return vaec_set_error("%s: decoded %lld of the %lld frames the file declares: truncated?", path, (long long)n,
                              (long long)expected);
    return n;
}

int video_frames_count(const char *path, int64_t *frames) {
    video_reader *v = video_open(path);
    if (!v) return -1;
    int64_t n = video_expected_frames(v);
    if (n <= 0) {   /* the container does not say: count them */
        const uint8_t *rgb;
        int w, h, row_bytes, rc;
        while ((rc = video_next(v, &rgb, &w, &h, &row_bytes)) == 1) n++;
        if (rc < 0) { video_close(v); return -1; }
        if (n == 0) { video_close(v); return vaec_set_error("%s: no frames could be decoded (truncated or corrupt?)", path); }
    }
    video_close(v);
    *frames = n;
    return 0;
}

int video_frames_read_window(const char *path, int64_t t0, int num_frames, int interval, int S, uint8_t *out) {
    int64_t span = (int64_t)(num_frames - 1) * interval + 1;
    video_reader *v = video_open(path);
    if (!v) return -1;
    size_t frame = (size_t)S * S * 3;
    /* the last `span` frames decoded, frame f in slot f % span: if the video ends early the window moves back */
    uint8_t *ring = xmalloc((size_t)span * frame);
    int64_t n = 0;
    const uint8_t *rgb;
    int w, h, row_bytes, rc = 0;
    while (n < t0 + span && (rc = video_next(v, &rgb, &w, &h, &row_bytes)) == 1) {
        int64_t rel = n - t0;   /* only the window's frames are needed unless the video ends early */
        bool in_window = rel >= 0 && rel % interval == 0;
        if (in_window || t0 > 0) resize_crop_square(rgb, w, h, row_bytes, S, ring + (size_t)(n % span) * frame);
        n++;
    }
    video_close(v);
    int result = 0;
    if (rc < 0) {
        result = -1;
    } else if (n < span) {
        result = vaec_set_error("%s: %lld frames, shorter than the %lld-frame window (num_frames %d, frame_interval %d)",
                                path, (long long)n, (long long)span, num_frames, interval);
    } else {
        int64_t start = n < t0 + span ? n - span : t0;
        for (int k = 0; k < num_frames; k++)
            memcpy(out + (size_t)k * frame, ring + (size_t)((start + (int64_t)k * interval) % span) * frame, frame);
    }
    free(ring);
    return result;
}
