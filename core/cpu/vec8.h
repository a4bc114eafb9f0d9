/* vec8.h: 8 floats (or int32s) as one GNU C vector, for the CPU kernels that vectorise by hand: one AVX
 * register in their AVX2 clones, two SSE registers in the baseline build.
 *
 *   v8f, v8i        -> the vector types (element-wise + - * /, comparisons give v8i masks of 0 / -1)
 *   LD8(v, p)       -> v = p[0..7], unaligned
 *   ST8(p, v)       -> p[0..7] = v, unaligned
 *
 * Loads and stores are memcpy macros and vectors pass by pointer, not by value: the baseline (SSE) build
 * then has no vector arguments or return values whose ABI would differ from the AVX clones'. */
#ifndef VAEC_OPS_VEC8_H
#define VAEC_OPS_VEC8_H
#include <stdint.h>
#include <string.h>

typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

#define LD8(v, p) memcpy(&(v), (p), sizeof(v8f))
#define ST8(p, v) memcpy((p), &(v), sizeof(v8f))

#endif
