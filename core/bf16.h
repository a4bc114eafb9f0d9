/* bf16.h: one bfloat16 value to and from float32: the rounding every bf16 path of vaec shares.
 *
 *   uint16_t h = bf16_from_f32(x);   // round to nearest even; NaN stays NaN
 *   float    f = bf16_to_f32(h);     // exact
 *
 * bf16 is the top half of a float32 (8 exponent bits, 7 stored mantissa bits), so a round trip keeps 8
 * significant bits: a relative error of at most 2^-8 (half a unit in the last place; the unit is 2^-7 of
 * the value's power of two). tensor_to_dtype (core/tensor.c), the CPU kernels' array conversions
 * (core/cpu/bf16_cpu.c) and the CUDA kernels (f32_to_bf16_cuda) round alike. */
#ifndef VAEC_BF16_H
#define VAEC_BF16_H
#include <stdint.h>
#include <string.h>

static inline uint16_t bf16_from_f32(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);   /* NaN stays NaN */
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

static inline float bf16_to_f32(uint16_t h) {
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

#endif
