/* h5video.h: video clips in an HDF5 file (the training data format; layout in docs/data.md).
 *
 *   /clips/000000, /clips/000001, ...   uint8 datasets of shape (T,H,W,3), one chunk per clip (<= 64 MiB)
 *       attributes: source (string), fps (double)
 *   root attributes: vaec_format = "video-clips-v1", num_clips (int64), num_frames (int64)
 *
 * Reading:  h5video_open, h5video_num_clips, h5video_clip_shape, h5video_read, h5video_close
 * Writing:  h5video_create, h5video_append, h5video_finish (or h5video_abort), h5video_tmp_path
 *
 * Every failure returns NULL or -1 and leaves a message in vaec_last_error() naming the file and the
 * clip; HDF5's own error printing is turned off. The HDF5 library vaec links is not thread-safe:
 * call these from one thread at a time (the data loader's reader thread). */
#ifndef VAEC_DATA_H5VIDEO_H
#define VAEC_DATA_H5VIDEO_H
#include <stdbool.h>
#include <stdint.h>

#define H5VIDEO_FORMAT "video-clips-v1"

typedef struct h5video h5video;
h5video *h5video_open(const char *path);   /* NULL + vaec_last_error() naming the file and what is wrong */
void h5video_close(h5video *v);
int h5video_num_clips(const h5video *v);
/* 0, or -1 + error (clip out of range, not uint8, not (T,H,W,3)) */
int h5video_clip_shape(const h5video *v, int clip, int64_t *T, int64_t *H, int64_t *W);
/* the clip's fps attribute; 0 when absent or unreadable */
double h5video_clip_fps(const h5video *v, int clip);
/* reads frames [t0, t0+n) of a clip into out (n,H,W,3) uint8; 0 or -1 + error naming file and clip */
int h5video_read(const h5video *v, int clip, int64_t t0, int64_t n, uint8_t *out);

typedef struct h5video_writer h5video_writer;
h5video_writer *h5video_create(const char *path, bool compress);   /* writes PATH.tmp.<pid>; NULL + error */
/* appends frames (T,H,W,3) as the next clip; 0 or -1 + error */
int h5video_append(h5video_writer *w, const uint8_t *frames, int64_t T, int64_t H, int64_t W, const char *source,
                   double fps);
int h5video_finish(h5video_writer *w);   /* sets root attributes, closes, renames over PATH; frees w */
void h5video_abort(h5video_writer *w);   /* closes and removes the temporary file; frees w */
/* the temporary file being written (for a signal handler that must remove it) */
const char *h5video_tmp_path(const h5video_writer *w);

#endif
