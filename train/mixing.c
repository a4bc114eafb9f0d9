/* mixing.c: video/image mixing draws (see mixing.h). */
#include "train/mixing.h"
#include <string.h>

mix_strategy mix_strategy_parse(const char *s) {
    if (!strcmp(s, "none")) return MIX_NONE;
    if (!strcmp(s, "mixed_video_image")) return MIX_VIDEO_IMAGE;
    if (!strcmp(s, "mixed_video_random")) return MIX_VIDEO_RANDOM;
    return (mix_strategy)-1;
}

int64_t mix_frames(mix_strategy s, double ratio, int64_t frames, rng_state *rng) {
    if (s == MIX_VIDEO_IMAGE) return rng_next_double(rng) < ratio ? 1 : frames;
    if (s == MIX_VIDEO_RANDOM) return 1 + (int64_t)(rng_next_u32(rng) % (uint32_t)frames);
    return frames;
}
