/* rng.c: Philox4x32-10 (Salmon et al., SC'11) and the uniform/normal fills built on it. */
#include "core/rng.h"
#include <math.h>

static rng_state global_rng = {0x5eed, 0};
rng_state *rng_global(void) { return &global_rng; }
rng_state rng_seed(uint64_t seed) { return (rng_state){seed, 0, 0, 0}; }

/* every draw starts here: applies a pending jump (see rng.h) */
static inline void begin_draw(rng_state *r) {
    if (r->jump_by && r->offset >= r->jump_at) { r->offset += r->jump_by; r->jump_by = 0; }
}

void philox4x32_10(uint64_t counter_lo, uint64_t counter_hi, uint64_t key, uint32_t out[4]) {
    uint32_t c0 = (uint32_t)counter_lo, c1 = (uint32_t)(counter_lo >> 32);
    uint32_t c2 = (uint32_t)counter_hi, c3 = (uint32_t)(counter_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* 24 random bits -> (0, 1]: never 0, so log() in Box-Muller is finite */
static inline float u01_open0(uint32_t x) { return ((float)(x >> 8) + 1.0f) * (1.0f / 16777216.0f); }
static inline float u01(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

void rng_fill_uniform(rng_state *r, float *out, int64_t n, float lo, float hi) {
    begin_draw(r);
    int64_t blocks = (n + 3) / 4;
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t w[4];
        philox4x32_10(r->offset + (uint64_t)b, 0, r->seed, w);
        for (int j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = lo + (hi - lo) * u01(w[j]);
    }
    r->offset += (uint64_t)blocks;
}

void rng_fill_normal(rng_state *r, float *out, int64_t n, float mean, float std) {
    begin_draw(r);
    int64_t blocks = (n + 3) / 4;
    const float two_pi = 6.283185307179586f;
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t b = 0; b < blocks; b++) {
        uint32_t w[4];
        philox4x32_10(r->offset + (uint64_t)b, 0, r->seed, w);
        float z[4];
        for (int j = 0; j < 4; j += 2) {
            float rad = sqrtf(-2.0f * logf(u01_open0(w[j])));
            float th = two_pi * u01(w[j + 1]);
            z[j] = rad * cosf(th);
            z[j + 1] = rad * sinf(th);
        }
        for (int j = 0; j < 4 && 4 * b + j < n; j++) out[4 * b + j] = mean + std * z[j];
    }
    r->offset += (uint64_t)blocks;
}

uint32_t rng_next_u32(rng_state *r) {
    begin_draw(r);
    uint32_t w[4];
    philox4x32_10(r->offset++, 0, r->seed, w);
    return w[0];
}

double rng_next_double(rng_state *r) {
    begin_draw(r);
    uint32_t w[4];
    philox4x32_10(r->offset++, 0, r->seed, w);
    return ((double)(w[0] >> 5) * 67108864.0 + (double)(w[1] >> 6)) / 9007199254740992.0;
}
