/* h5latents.h: the latents of a dataset's clips in an HDF5 file (`vaec data encode`; layout in docs/data.md).
 *
 *   /latents/000000, ...   float32 (C,T,h,w): the posterior mean or a sample       (--mode mean | sample)
 *   /mean/000000, /logvar/000000, ...   float32 (C,T,h,w): the posterior's moments  (--mode moments)
 *       attributes of each dataset: source (string), num_frames (int64, frames of the clip encoded), fps (double)
 *   root attributes: vaec_format = "video-latents-v1", num_clips (int64), and string attributes the caller
 *   names (mode, model, input, ...)
 *
 * Written as PATH.tmp.<pid> and renamed over PATH by h5latents_finish; h5latents_abort removes it. No object
 * times are stored, so the same latents give the same bytes. Errors return NULL or -1 with vaec_last_error(). */
#ifndef VAEC_DATA_H5LATENTS_H
#define VAEC_DATA_H5LATENTS_H
#include <stdbool.h>
#include <stdint.h>

#define H5LATENTS_FORMAT "video-latents-v1"

typedef struct h5latents_writer h5latents_writer;
h5latents_writer *h5latents_create(const char *path, bool moments);
/* the next clip: z (or the mean) and, with moments, logvar; both (C,T,h,w) float32 as shape says */
int h5latents_append(h5latents_writer *w, const float *z, const float *logvar, const int64_t shape[4],
                     const char *source, int64_t num_frames, double fps);
/* root attributes (n string pairs), close, rename over PATH; frees w. 0 or -1 (nothing left behind) */
int h5latents_finish(h5latents_writer *w, const char *const *keys, const char *const *values, int n);
void h5latents_abort(h5latents_writer *w);

#endif
