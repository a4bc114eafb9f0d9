/* batch_noise.h: the posterior noise of one training step, the same whatever the number of ranks and
 * micro-steps.
 *
 * A step draws its noise from the run's RNG as one process training the whole global batch would: the
 * spatial posterior of all G*T frames (sample-major), then the temporal posterior of all G samples, where
 * global sample g = (micro_step * world + rank) * B + b. One slice (a rank's micro-batch of B samples)
 * starts its spatial draws at its own offset and jumps (rng.h) to its share of the temporal draws;
 * afterwards every rank moves the run's RNG past the whole step. Exact when each draw's length is a
 * multiple of 4 (Philox counters hold 4 numbers): true for 4-channel latents, as in every Open-Sora config;
 * batch_noise_check says when it is not. */
#ifndef VAEC_TRAIN_BATCH_NOISE_H
#define VAEC_TRAIN_BATCH_NOISE_H
#include <stdbool.h>
#include "core/rng.h"           // defines: rng_state
#include "layers/pipeline.h"    // defines: vae_pipeline

typedef struct {
    int64_t spatial, temporal;  /* noise numbers one sample draws (0 without posterior sampling) */
    int64_t batch;              /* samples of one slice */
    int64_t slices;             /* slices in the step: micro-steps x ranks */
} batch_noise;

batch_noise batch_noise_of(const vae_pipeline *p, int64_t frames, int64_t size, int64_t batch, int64_t slices);
/* the RNG that slice `slice` passes to the forward pass, from the run's RNG at the step's noise */
rng_state batch_noise_slice(const batch_noise *n, rng_state run, int64_t slice);
/* the run's RNG after the whole step's noise */
rng_state batch_noise_end(const batch_noise *n, rng_state run);
/* true when a slice's RNG ended where the layout says (draws aligned to counters) */
bool batch_noise_check(const batch_noise *n, rng_state run, int64_t slice, rng_state after);

#endif
