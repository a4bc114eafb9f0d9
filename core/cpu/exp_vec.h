/* exp_vec.h: expf for 8 floats at once (GNU vector extension: one AVX or two SSE registers), and the same
 * formula for one float, for the hot loops (softmax) that libm's scalar expf would dominate.
 *
 *   exp8(&y, &x) -> y = e^x per lane
 *   exp1(x)      -> e^x, the same arithmetic as one lane of exp8
 *
 * Cephes' expf: x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts), a degree-6 polynomial for e^r, and
 * 2^n built in the exponent bits. Within 2 ulp of libm's expf on [-87.3, 88.7]; below that the result is
 * 0 (as e^x rounds to in float32), above it +inf; NaN stays NaN. */
#ifndef VAEC_OPS_EXP_VEC_H
#define VAEC_OPS_EXP_VEC_H
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "core/cpu/vec8.h"   // defines: v8f, v8i

#define EXP_LO (-87.33654f)   /* ln(smallest normal float): below it e^x is 0 here */
#define EXP_HI 88.72283f      /* ln(FLT_MAX) */
#define EXP_POLY(r)                                                                                      \
    ((((((1.9875691500e-4f * (r) + 1.3981999507e-3f) * (r) + 8.3334519073e-3f) * (r) + 4.1665795894e-2f) * \
           (r) +                                                                                          \
       1.6666665459e-1f) *                                                                                \
          (r) +                                                                                           \
      5.0000001201e-1f) *                                                                                 \
         (r) * (r) +                                                                                      \
     (r) + 1.0f)

static inline float exp1(float x) {
    if (x != x) return x;
    if (x < EXP_LO) return 0.0f;
    if (x > EXP_HI) return INFINITY;
    const float n = floorf(x * 1.44269504088896341f + 0.5f);
    const float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    const int32_t bits = ((int32_t)n + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return EXP_POLY(r) * scale;
}

/* vectors through pointers, not by value: no ABI notes for the default (SSE) build */
static inline void exp8(v8f *out, const v8f *xp) {
    const v8f x = *xp;
    const v8i under = x < EXP_LO, over = x > EXP_HI, nan = x != x;
    /* clamp into range (the masks at the end restore 0, inf and NaN) */
    const v8f xc = (v8f)(((v8i)x & ~(under | over | nan)) | ((v8i)((v8f){0} + EXP_LO) & (under | nan)) |
                         ((v8i)((v8f){0} + EXP_HI) & over));
    const v8f fx = xc * 1.44269504088896341f + 0.5f;
    v8f n = __builtin_convertvector(__builtin_convertvector(fx, v8i), v8f);   /* truncation ... */
    n -= (v8f)((v8i)((v8f){0} + 1.0f) & (n > fx));                            /* ... to floor */
    const v8f r = xc - n * 0.693359375f + n * 2.12194440e-4f;
    const v8i bits = (__builtin_convertvector(n, v8i) + 127) << 23;
    v8f y = EXP_POLY(r) * (v8f)bits;
    y = (v8f)((v8i)y & ~under);                                        /* below EXP_LO: 0 */
    y = (v8f)(((v8i)y & ~over) | ((v8i)((v8f){0} + INFINITY) & over)); /* above EXP_HI: inf */
    *out = (v8f)(((v8i)y & ~nan) | ((v8i)x & nan));                    /* NaN in, NaN out */
}

#endif
