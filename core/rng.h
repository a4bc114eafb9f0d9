/* rng.h: seeded, reproducible random numbers (Philox4x32-10, counter based).
 *
 * Element i of a draw is a pure function of (seed, offset, i), so the numbers do not depend on how many
 * threads fill the tensor, on which device, or in which order; a draw of n numbers advances the offset
 * by ceil(n/4) counters. The whole state is two integers, saved in checkpoints so a resumed run draws
 * exactly what the uninterrupted run would have.
 *
 *   rng_state r = rng_seed(42);
 *   rng_fill_normal(&r, data, n, 0.0f, 1.0f);
 */
#ifndef VAEC_RNG_H
#define VAEC_RNG_H
#include <stdint.h>

/* jump_at/jump_by (0: none) serve data-parallel training (train/batch_noise.h): the first draw that starts
 * at offset >= jump_at first moves the offset by jump_by, so one rank's slice of two consecutive
 * batch-sized draws lands where the whole batch's draws would put it. */
typedef struct { uint64_t seed, offset, jump_at, jump_by; } rng_state;

rng_state rng_seed(uint64_t seed);
rng_state *rng_global(void);                 /* the generator ops use (sampling, dropout-free VAEs) */

void rng_fill_uniform(rng_state *r, float *out, int64_t n, float lo, float hi);  /* [lo, hi) */
void rng_fill_normal(rng_state *r, float *out, int64_t n, float mean, float std);
uint32_t rng_next_u32(rng_state *r);         /* one integer (shuffles, random crops) */
double rng_next_double(rng_state *r);        /* one double in [0, 1) */

/* the raw generator: 4 words from a 128-bit counter and a 64-bit key */
void philox4x32_10(uint64_t counter_lo, uint64_t counter_hi, uint64_t key, uint32_t out[4]);

#endif
