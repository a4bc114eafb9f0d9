/* batch_noise.c: a slice's place in the step's noise (see batch_noise.h). */
#include "train/batch_noise.h"

batch_noise batch_noise_of(const vae_pipeline *p, int64_t frames, int64_t size, int64_t batch, int64_t slices) {
    batch_noise n = {0, 0, batch, slices};
    if (!p->sample_posterior) return n;
    int64_t in[3] = {frames, size, size}, lat[3];
    vae_pipeline_latent_size(p, in, lat);
    n.spatial = frames * lat[1] * lat[2] * p->spatial.vae.cfg.latent_channels;
    n.temporal = lat[0] * lat[1] * lat[2] * p->temporal.cfg.embed_dim;
    return n;
}

/* counters (4 numbers each) of `samples` samples' spatial or temporal noise */
static uint64_t counters(int64_t samples, int64_t per_sample) { return (uint64_t)((samples * per_sample + 3) / 4); }

rng_state batch_noise_slice(const batch_noise *n, rng_state run, int64_t slice) {
    int64_t b = n->batch;
    rng_state r = run;
    r.offset = run.offset + counters(slice * b, n->spatial);
    r.jump_at = run.offset + counters((slice + 1) * b, n->spatial);
    r.jump_by = counters((n->slices - slice - 1) * b, n->spatial) + counters(slice * b, n->temporal);
    return r;
}

rng_state batch_noise_end(const batch_noise *n, rng_state run) {
    run.offset += counters(n->slices * n->batch, n->spatial) + counters(n->slices * n->batch, n->temporal);
    run.jump_at = run.jump_by = 0;
    return run;
}

bool batch_noise_check(const batch_noise *n, rng_state run, int64_t slice, rng_state after) {
    uint64_t want = run.offset + counters(n->slices * n->batch, n->spatial) + counters((slice + 1) * n->batch, n->temporal);
    return after.offset == want;
}
