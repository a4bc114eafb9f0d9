/* loader.h: training batches from an HDF5 video dataset (data/h5video.h) or a CSV list of video files
 * (data/csv_list.h, Open-Sora's format: `path` is a .csv file), decoded on the fly with FFmpeg.
 *
 * Every epoch visits the eligible clips in a seeded random order. Global batch g of an epoch is clips
 * [g*B*W, (g+1)*B*W) of that order (B per rank, W ranks): rank r takes its slice, so the clips of a step
 * do not depend on the world size, and two ranks together see every clip exactly once per epoch.
 * The window of a clip (start frame of num_frames frames, frame_interval apart) is drawn from a Philox
 * stream keyed by (seed, epoch, clip): the same whatever the rank, thread or resume point.
 * Pixels: uint8 -> [-1, 1]; clips larger than `size` are centre-cropped (the importer resizes, see
 * docs/data.md); smaller ones, or shorter than the window, are skipped and counted (or an error). A clip that
 * cannot be read (a file truncated or damaged under the running loader) is reported once and passed over, its
 * place in the batch going to the next clip of the epoch's order (or, with stop_on_bad_clip, an error).
 * From a CSV list every video is probed once at open for its frame count (unless the CSV's num_frames column gives
 * it); one that cannot be decoded or is shorter than the window is skipped with one warning naming it, and counted. Workers decode the window's frames
 * (decoding stops at its end) and resize each frame's short side to `size` then centre-crop (data/resize.h),
 * as the importer does; a video that fails later is passed over as an unreadable clip is.
 * Background worker threads (num_workers, default 2) read the next batches while the trainer computes,
 * each its own batch: loader_next rarely waits, and the batches are the same for any number of workers. */
#ifndef VAEC_DATA_LOADER_H
#define VAEC_DATA_LOADER_H
#include <stdbool.h>
#include <stdint.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    const char *path;
    int num_frames, frame_interval, size, batch_size;
    uint64_t seed;
    int rank, world;
    bool error_on_short;       /* false: skip clips too short or too small, with a count */
    int num_workers;           /* prefetch threads, 1..LOADER_MAX_WORKERS; 0 = LOADER_DEFAULT_WORKERS */
    bool stop_on_bad_clip;     /* [data] on_bad_clip = stop: an unreadable clip is an error; false (skip): it is
                                * reported once, counted and passed over for the next clip of the epoch's order */
} loader_config;

#define LOADER_DEFAULT_WORKERS 2
#define LOADER_MAX_WORKERS 64

typedef struct loader loader;

loader *loader_open(const loader_config *c);      /* NULL with vaec_last_error() */
tensor *loader_next(loader *l);                   /* (B,T,S,S,3) float32 in [-1,1]; caller owns; NULL + error */
void loader_position(const loader *l, int64_t pos[2]);   /* (epoch, batch index within the epoch) */
void loader_seek(loader *l, const int64_t pos[2]);
int loader_num_clips(const loader *l);            /* eligible clips */
int loader_num_skipped(const loader *l);         /* too short or too small */
int loader_num_undecodable(const loader *l);      /* videos of a CSV list that could not be decoded at open */
int loader_num_bad(loader *l);                    /* clips found unreadable while reading (on_bad_clip = skip) */
int loader_num_workers(const loader *l);
double loader_wait_seconds(const loader *l);      /* total time loader_next waited for data */
void loader_close(loader *l);

#endif
