/* h5latents.h: the latents of a dataset's clips in an HDF5 file (`vaec data encode`; layout in docs/data.md).
 *
 *   /latents/000000, ...   float32 (C,T,h,w): the posterior mean or a sample       (--mode mean | sample)
 *   /mean/000000, /logvar/000000, ...   float32 (C,T,h,w): the posterior's moments  (--mode moments)
 *       attributes of each dataset: source (string), num_frames (int64, frames of the clip encoded), fps (double),
 *       and, when known, height and width (int64, the frame size encoded, before padding to a multiple of 8)
 *   root attributes: vaec_format = "video-latents-v1", num_clips (int64), and string attributes the caller
 *   names (mode, model, input, ...)
 *
 * Written as PATH.tmp.<pid> and renamed over PATH by h5latents_finish; h5latents_abort removes it. No object
 * times are stored, so the same latents give the same bytes. Errors return NULL or -1 with vaec_last_error().
 *
 * Reading (data/h5latents_read.c, for `vaec decode --input LATENTS.h5`): h5latents_open checks vaec_format;
 * a moments file is read through its means, /mean. */
#ifndef VAEC_DATA_H5LATENTS_H
#define VAEC_DATA_H5LATENTS_H
#include <stdbool.h>
#include <stdint.h>

#define H5LATENTS_FORMAT "video-latents-v1"

typedef struct h5latents_writer h5latents_writer;
h5latents_writer *h5latents_create(const char *path, bool moments);
/* the next clip: z (or the mean) and, with moments, logvar; both (C,T,h,w) float32 as shape says */
typedef struct {
    const char *source;   /* the video file, DATASET:/clips/N, ... */
    int64_t num_frames;   /* frames of the clip encoded: decode to that many */
    double fps;           /* 0 when unknown */
    int64_t height, width;   /* the frame size encoded; 0 when unknown (not written) */
} h5latents_clip;
int h5latents_append(h5latents_writer *w, const float *z, const float *logvar, const int64_t shape[4],
                     const h5latents_clip *clip);
/* root attributes (n string pairs), close, rename over PATH; frees w. 0 or -1 (nothing left behind) */
int h5latents_finish(h5latents_writer *w, const char *const *keys, const char *const *values, int n);
void h5latents_abort(h5latents_writer *w);

typedef struct h5latents_reader h5latents_reader;
h5latents_reader *h5latents_open(const char *path);     /* NULL + error naming the file when not video-latents-v1 */
int h5latents_num_clips(const h5latents_reader *r);
const char *h5latents_group(const h5latents_reader *r);  /* "latents", or "mean" for a moments file */
/* clip i's (C,T,h,w) and attributes (source points into r, valid until the next call); 0 or -1 */
int h5latents_clip_info(h5latents_reader *r, int i, int64_t shape[4], h5latents_clip *clip);
int h5latents_read(h5latents_reader *r, int i, float *out);   /* clip i, (C,T,h,w) float32 */
void h5latents_close(h5latents_reader *r);

#endif
