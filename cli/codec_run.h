/* codec_run.h: the loop of `vaec encode/decode/reconstruct`: clips from a codec_source go through the model a
 * window at a time and out to a codec_sink (train/codec_source.h, train/codec_sink.h).
 *
 * Windows: a pipeline encodes micro_frame_size (17) frames per window, exactly the chunks its encode cuts a
 * whole clip into, and decodes micro_frame_size / 4 + 1 (5) latent frames per window, exactly its decode's
 * chunks: the result is the whole-clip result, in memory that does not grow with length. The spatial VAE
 * works per frame, so any window is exact (17 frames). A lone temporal VAE, or micro_frame_size = 0, has no
 * chunks: the clip is one window. Frames whose sides are not a multiple of the down factor (8) are padded by
 * repeating the last row and column, and cropped back after decoding. */
#ifndef VAEC_CLI_CODEC_RUN_H
#define VAEC_CLI_CODEC_RUN_H
#include <stdbool.h>
#include "core/rng.h"               // defines: rng_state
#include "train/codec_sink.h"       // defines: codec_sink
#include "train/codec_source.h"     // defines: codec_source
#include "train/model_config.h"     // defines: vaec_model

typedef enum { CODEC_ENCODE, CODEC_DECODE, CODEC_RECONSTRUCT } codec_op;

typedef struct {
    codec_op op;
    int64_t num_frames;   /* decode: frames to produce (0: from the latents' metadata, else the smallest count) */
    bool side_by_side;    /* reconstruct: input and reconstruction next to each other in one frame */
} codec_run_options;

int64_t codec_latent_frames(const vaec_model *m, int64_t frames);   /* latent frames of `frames` frames */
int codec_down_factor(const vaec_model *m);                         /* spatial down factor (1 for temporal) */
/* runs every clip; prints a line per clip (and PSNR/SSIM for reconstruct) and the total; 0 or -1 + error */
int codec_run(const vaec_model *m, codec_source *src, codec_sink *sink, const codec_run_options *o, rng_state *rng);

#endif
