/* synthetic.h: synthetic training clips, for `vaec data make --synthetic` and for tests.
 *
 * synthetic_clip: 1-3 disks or squares of random colour and size on a random dark background, each
 * moving in a straight line with its own velocity and bouncing off the borders. The clip is a pure
 * function of the rng state it starts from; the state advances past the draws it used. */
#ifndef VAEC_DATA_SYNTHETIC_H
#define VAEC_DATA_SYNTHETIC_H
#include <stdint.h>
#include "core/rng.h"   // defines: rng_state

void synthetic_clip(rng_state *r, int T, int H, int W, uint8_t *out /* (T,H,W,3) */);

#endif
