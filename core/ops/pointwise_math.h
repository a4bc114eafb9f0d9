/* pointwise_math.h: the formulas of the one-input elementwise ops (unary.h, scalar.h), shared by the CPU
 * kernels (pointwise.c) and the CUDA kernels (pointwise.cu) so both devices compute the same thing. */
#ifndef VAEC_OPS_POINTWISE_MATH_H
#define VAEC_OPS_POINTWISE_MATH_H
#include <math.h>
#include "core/ops/pointwise.h"   // defines: pointwise_kind

#ifdef __CUDACC__
#define PW_HOSTDEV __host__ __device__
#else
#define PW_HOSTDEV
#endif

static inline PW_HOSTDEV float pw_forward(pointwise_kind k, float x, float p0, float p1) {
    switch (k) {
        case PW_ABS: return fabsf(x);
        case PW_SQUARE: return x * x;
        case PW_EXP: return expf(x);
        case PW_LOG: return logf(x);
        case PW_SQRT: return sqrtf(x);
        case PW_NEG: return -x;
        case PW_CLAMP: return x < p0 ? p0 : x > p1 ? p1 : x;
        case PW_ADD_SCALAR: return x + p0;
        case PW_MUL_SCALAR: return x * p0;
        case PW_RSUB_SCALAR: return p0 - x;
        default: return powf(x, p0);
    }
}

/* dy/dx, given x and y = f(x) */
static inline PW_HOSTDEV float pw_derivative(pointwise_kind k, float x, float y, float p0, float p1) {
    switch (k) {
        case PW_ABS: return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
        case PW_SQUARE: return 2.0f * x;
        case PW_EXP: return y;
        case PW_LOG: return 1.0f / x;
        case PW_SQRT: return 0.5f / y;
        case PW_NEG: return -1.0f;
        case PW_CLAMP: return (x >= p0 && x <= p1) ? 1.0f : 0.0f;
        case PW_ADD_SCALAR: return 1.0f;
        case PW_MUL_SCALAR: return p0;
        case PW_RSUB_SCALAR: return -1.0f;
        default: return p0 == 0 ? 0.0f : p0 * powf(x, p0 - 1.0f);
    }
}

#endif
