/* codec_source.h: the input of `vaec encode/decode/reconstruct`, chosen by file type, read clip by clip and
 * a window of frames at a time, so that a video of any length is never in memory whole.
 *
 *   a video file      anything FFmpeg decodes: one clip, its frame rate kept
 *   a folder          its PNG/JPEG files in name order: one clip (24 fps)
 *   an HDF5 dataset   vaec's clip layout (data/h5video.h): every clip, or only `clip`
 *   a safetensors     tensor `x` (pixels) or `z` (latents), (B,C,T,H,W) float32: B clips; latents written
 *                     by vaec carry the frame count, size and frame rate of their video in the metadata
 *   HDF5 latents      (decode) vaec's video-latents-v1 layout (data/h5latents.h): /latents, or a moments
 *                     file's /mean; each clip's num_frames, fps, height and width attributes kept
 *
 *   codec_source *s = codec_source_open(path, &opt);    // NULL + vaec_last_error() naming the file
 *   for (int i = 0; i < codec_source_num_clips(s); i++) {
 *       codec_clip c; codec_source_begin(s, i, &c);     // sizes, frame rate, name
 *       tensor *w; while ((w = codec_source_read(s, 17)) && w->shape[1] > 0) { ... (1,n,H,W,C) ... }
 *   }
 *   codec_source_close(s);
 *
 * 8-bit frames become floats in [-1, 1]; with `size` > 0 every frame is resized and centre-cropped to
 * size x size as `vaec data make` does (data/resize.h). */
#ifndef VAEC_TRAIN_CODEC_SOURCE_H
#define VAEC_TRAIN_CODEC_SOURCE_H
#include <stdbool.h>
#include <stdint.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    bool latents;   /* read `z` (decode), else pixels `x` */
    int clip;       /* HDF5 or safetensors: only this clip; -1 all */
    int size;       /* > 0: resize + centre-crop 8-bit frames to size x size */
} codec_source_options;

typedef struct {
    int64_t frames;        /* frames (or latent frames) in the clip; -1 when only reading to the end tells */
    int64_t h, w, c;       /* frame size and channels as read (after --size) */
    double fps;            /* 0 when unknown */
    int64_t video_frames, video_h, video_w;   /* latents only: the video they came from, 0 when unknown */
    char name[256];        /* for messages: the file, or file[clip] */
} codec_clip;

typedef struct codec_source codec_source;

codec_source *codec_source_open(const char *path, const codec_source_options *opt);
int codec_source_num_clips(const codec_source *s);
const char *codec_source_kind(const codec_source *s);   /* "video", "frames folder", "HDF5 dataset", "safetensors file", "HDF5 latents file" */
int codec_source_begin(codec_source *s, int clip, codec_clip *info);   /* 0 or -1 + error */
/* the next up-to-n frames of the clip begun, (1,n',H,W,C) float32 (CPU, owned by the caller); n' = 0 at the
   end; NULL + error naming the file and frame on a read failure */
tensor *codec_source_read(codec_source *s, int64_t n);
void codec_source_close(codec_source *s);

#endif
