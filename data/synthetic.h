/* synthetic.h: synthetic video clips of moving coloured shapes (what `make demo` trains on).
 * 1-3 disks or squares of random colour and size on a dark random background, each moving in a straight
 * line at its own velocity and bouncing off the borders; fully determined by the rng state. */
#ifndef VAEC_DATA_SYNTHETIC_H
#define VAEC_DATA_SYNTHETIC_H
#include <stdint.h>
#include "core/rng.h"   // defines: rng_state

void synthetic_clip(rng_state *r, int T, int H, int W, uint8_t *out /* (T,H,W,3) */);

#endif
