/* max_pool_math.h: which element of a 2x2 window wins, shared by the CPU kernels (max_pool.c) and the
 * CUDA kernels (max_pool.cu) so both route gradients to the same input: the first maximum in row-major
 * order, and a NaN wins, as in PyTorch. */
#ifndef VAEC_OPS_MAX_POOL_MATH_H
#define VAEC_OPS_MAX_POOL_MATH_H
#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define MP_HOSTDEV __host__ __device__
#else
#define MP_HOSTDEV
#endif

/* p: the window's top-left element; row: the stride of one image row (W * C); c: of one pixel (C).
 * Returns the winner's offset from p. */
static inline MP_HOSTDEV int64_t max_pool_window_argmax(const float *p, int64_t row, int64_t c) {
    const int64_t off[4] = {0, c, row, row + c};
    int best = 0;
    float m = p[0];
    if (isnan(m)) return 0;
    for (int k = 1; k < 4; k++) {
        float v = p[off[k]];
        if (v > m || isnan(v)) {
            best = k, m = v;
            if (isnan(v)) break;
        }
    }
    return off[best];
}

#endif
