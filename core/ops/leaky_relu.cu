// leaky_relu.cu: LeakyReLU forward and backward, one thread per element (the same rule as leaky_relu.c).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/leaky_relu_cuda.h"
}

static __global__ void leaky_relu_forward_kernel(const float *x, float *y, int64_t n, float slope) {
    CUDA_FOR(i, n) y[i] = x[i] > 0.0f ? x[i] : __fmul_rn(slope, x[i]);
}

static __global__ void leaky_relu_backward_kernel(const float *x, const float *gy, float *gx, int64_t n, float slope) {
    CUDA_FOR(i, n) gx[i] = x[i] > 0.0f ? gy[i] : __fmul_rn(slope, gy[i]);
}

extern "C" void leaky_relu_forward_cuda(const float *x, float *y, int64_t n, float slope) {
    if (n == 0) return;
    leaky_relu_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, y, n, slope);
    CUDA_CHECK_LAUNCH("leaky_relu");
}

extern "C" void leaky_relu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n, float slope) {
    if (n == 0) return;
    leaky_relu_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, gy, gx, n, slope);
    CUDA_CHECK_LAUNCH("leaky_relu_backward");
}
