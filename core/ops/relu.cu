// relu.cu: ReLU forward and backward, one thread per element (the same rule as relu.c: no gradient
// where x <= 0).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/relu_cuda.h"
}

static __global__ void relu_forward_kernel(const float *x, float *y, int64_t n) {
    CUDA_FOR(i, n) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static __global__ void relu_backward_kernel(const float *x, const float *gy, float *gx, int64_t n) {
    CUDA_FOR(i, n) gx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
}

extern "C" void relu_forward_cuda(const float *x, float *y, int64_t n) {
    if (n == 0) return;
    relu_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, y, n);
    CUDA_CHECK_LAUNCH("relu");
}

extern "C" void relu_backward_cuda(const float *x, const float *gy, float *gx, int64_t n) {
    if (n == 0) return;
    relu_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, gy, gx, n);
    CUDA_CHECK_LAUNCH("relu_backward");
}
