// silu.cu: SiLU forward and backward, one thread per element (the same formulas as silu.c).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/silu_cuda.h"
}

static __global__ void silu_forward_kernel(const float *x, float *y, int64_t n) {
    CUDA_FOR(i, n) y[i] = x[i] / (1.0f + expf(-x[i]));
}

static __global__ void silu_backward_kernel(const float *x, const float *gy, float *gx, int64_t n) {
    CUDA_FOR(i, n) {
        float s = 1.0f / (1.0f + expf(-x[i]));
        gx[i] = gy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
}

extern "C" void silu_forward_cuda(const float *x, float *y, int64_t n) {
    if (n == 0) return;
    silu_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, y, n);
    CUDA_CHECK_LAUNCH("silu");
}

extern "C" void silu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n) {
    if (n == 0) return;
    silu_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, gy, gx, n);
    CUDA_CHECK_LAUNCH("silu_backward");
}
