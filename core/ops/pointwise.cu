// pointwise.cu: one thread per element for unary and scalar ops (formulas in pointwise_math.h).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/pointwise_cuda.h"
}
#include "core/ops/pointwise_math.h"   // defines: pw_forward, pw_derivative

static __global__ void pw_forward_kernel(pointwise_kind k, const float *x, float *y, int64_t n, float p0, float p1) {
    CUDA_FOR(i, n) y[i] = pw_forward(k, x[i], p0, p1);
}

static __global__ void pw_backward_kernel(pointwise_kind k, const float *x, const float *y, const float *gy, float *gx,
                                          int64_t n, float p0, float p1) {
    CUDA_FOR(i, n) gx[i] = gy[i] * pw_derivative(k, x[i], y ? y[i] : 0.0f, p0, p1);
}

extern "C" void pointwise_forward_cuda(pointwise_kind k, const float *x, float *y, int64_t n, float p0, float p1) {
    if (n == 0) return;
    pw_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(k, x, y, n, p0, p1);
    CUDA_CHECK_LAUNCH("pointwise forward");
}

extern "C" void pointwise_backward_cuda(pointwise_kind k, const float *x, const float *y, const float *gy, float *gx,
                                        int64_t n, float p0, float p1) {
    if (n == 0) return;
    pw_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(k, x, y, gy, gx, n, p0, p1);
    CUDA_CHECK_LAUNCH("pointwise backward");
}
