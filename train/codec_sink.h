/* codec_sink.h: the output of `vaec encode/decode/reconstruct`, chosen by the name, written a window of
 * frames at a time and put in place only when complete (nothing half-written is ever left at the name).
 *
 *   NAME.mp4 / .mkv / .webm   one video clip (data/video_encode.h: H.264 when FFmpeg has libx264), fps kept
 *   NAME/ (or no extension)   a folder of PNG frames 000000.png, ...; several clips: clip000000/000000.png, ...
 *   NAME.h5 / .hdf5           vaec's HDF5 clip layout (data/h5video.h), one entry per clip with its fps;
 *                             latents: the video-latents-v1 layout of `vaec data encode` (data/h5latents.h)
 *   NAME.safetensors          tensor `x` or `z`, (B,C,T,H,W) float32, one row per clip (all one shape);
 *                             latents also carry vaec.frames, vaec.height, vaec.width and vaec.fps metadata
 *                             (the video they came from), which decode uses to restore length, size and fps
 *
 * safetensors and videos stream: every window goes to disk (a spill file per channel, since the file is
 * channels-first) and memory stays flat for any length. PNG folders write frame by frame. HDF5 (clips or latents) holds a
 * clip in memory until the clip ends (h5video writes whole clips).
 *
 *   codec_sink *k = codec_sink_open(path, latents, n_clips);   // NULL + error: bad name, missing folder, ...
 *   codec_sink_begin(k, &clip); codec_sink_write(k, frames (1,n,H,W,C)); ...; codec_sink_end(k, frames);
 *   codec_sink_finish(k) (renames into place) or codec_sink_abort(k) (removes everything) */
#ifndef VAEC_TRAIN_CODEC_SINK_H
#define VAEC_TRAIN_CODEC_SINK_H
#include <stdbool.h>
#include "core/tensor.h"           // defines: tensor
#include "train/codec_source.h"    // defines: codec_clip

typedef struct codec_sink codec_sink;

codec_sink *codec_sink_open(const char *path, bool latents, int n_clips);
/* info: h, w, c of the frames to come, fps; for latents also video_frames, video_h, video_w */
int codec_sink_begin(codec_sink *k, const codec_clip *info);
int codec_sink_write(codec_sink *k, const tensor *frames);   /* (1,n,H,W,C) float32 on the CPU */
/* video_frames: the frames of the video this clip's latents come from (latents' metadata; else ignored) */
int codec_sink_end(codec_sink *k, int64_t video_frames);
int codec_sink_finish(codec_sink *k);   /* 0 or -1 + error (then everything is removed); frees k */
void codec_sink_abort(codec_sink *k);   /* frees k */
const char *codec_sink_describe(const codec_sink *k);   /* "video (H.264, libx264)", "PNG frames", ... */
/* the temporary file (or, for PNG frames, folder) being written now (NULL if none), for a signal handler that
   must remove it: it only reads fields, allocates nothing */
const char *codec_sink_tmp_path(const codec_sink *k);

#endif
