/* mixing.h: Open-Sora's video/image mixing of a batch, drawn from the run's RNG (so resumed runs draw
 * the same). x is (B,T,H,W,C).
 *   MIX_VIDEO_IMAGE:  with probability ratio, keep only the first frame (the batch becomes images);
 *   MIX_VIDEO_RANDOM: keep the first L frames, L uniform in [1, T]. */
#ifndef VAEC_TRAIN_MIXING_H
#define VAEC_TRAIN_MIXING_H
#include "core/rng.h"      // defines: rng_state
#include "core/tensor.h"   // defines: tensor

typedef enum { MIX_NONE = 0, MIX_VIDEO_IMAGE, MIX_VIDEO_RANDOM } mix_strategy;

mix_strategy mix_strategy_parse(const char *s);   /* none | mixed_video_image | mixed_video_random; NULL if bad */
int64_t mix_frames(mix_strategy s, double ratio, int64_t frames, rng_state *rng);   /* frames to keep */

#endif
