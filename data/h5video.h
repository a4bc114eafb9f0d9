/* h5video.h: the HDF5 video dataset layout (docs/data.md) and its reader and writer.
 *
 *   /clips/000000, /clips/000001, ...  uint8 datasets (T,H,W,3), one chunk per clip (so a window is one
 *                                      chunked read), gzip-1 optional; attributes source (string), fps (double)
 *   root attributes                    vaec_format = "video-clips-v1", num_clips, num_frames (int64)
 * Images are clips with T = 1. Ordinary datasets: h5py and HDFView read them as they are.
 * The writer works on PATH.tmp.<pid> and renames over PATH when finished: an interrupted import never
 * leaves a half-written dataset behind. Errors name the file and the clip. */
#ifndef VAEC_DATA_H5VIDEO_H
#define VAEC_DATA_H5VIDEO_H
#include <stdbool.h>
#include <stdint.h>

typedef struct h5video h5video;
h5video *h5video_open(const char *path);   /* NULL with vaec_last_error() */
void h5video_close(h5video *v);
int h5video_num_clips(const h5video *v);
int h5video_clip_shape(const h5video *v, int clip, int64_t *T, int64_t *H, int64_t *W);
int h5video_read(const h5video *v, int clip, int64_t t0, int64_t n, uint8_t *out);   /* (n,H,W,3) */

typedef struct h5video_writer h5video_writer;
h5video_writer *h5video_create(const char *path, bool compress);
int h5video_append(h5video_writer *w, const uint8_t *frames, int64_t T, int64_t H, int64_t W, const char *source, double fps);
int h5video_finish(h5video_writer *w);
void h5video_abort(h5video_writer *w);

#endif
