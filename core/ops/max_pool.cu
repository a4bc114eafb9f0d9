// max_pool.cu: 2x2 / stride-2 max pooling on channels-last images, one thread per output element.
// The window's winner comes from max_pool_math.h, shared with max_pool.c, so CPU and GPU route gradients
// to the same input. Windows do not overlap: the backward writes each
// input element once (zeros first), no atomics.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/max_pool_cuda.h"
}
#include "core/ops/max_pool_math.h"   // defines: max_pool_window_argmax (shared with max_pool.c)

// i runs over (n, ho, wo, c) of the output; returns the input offset of its window's top-left element
static __device__ int64_t window_base(int64_t i, int64_t H, int64_t W, int64_t C) {
    const int64_t Ho = H / 2, Wo = W / 2, c = i % C, wo = (i / C) % Wo, ho = (i / (C * Wo)) % Ho, n = i / (C * Wo * Ho);
    return ((n * H + 2 * ho) * W + 2 * wo) * C + c;
}

static __global__ void max_pool2d_forward_kernel(const float *x, float *y, int64_t H, int64_t W, int64_t C, int64_t n) {
    CUDA_FOR(i, n) {
        const int64_t b = window_base(i, H, W, C);
        y[i] = x[b + max_pool_window_argmax(x + b, W * C, C)];
    }
}

static __global__ void max_pool2d_backward_kernel(const float *x, const float *gy, float *gx, int64_t H, int64_t W, int64_t C,
                                                  int64_t n) {
    CUDA_FOR(i, n) {
        const int64_t b = window_base(i, H, W, C);
        gx[b + max_pool_window_argmax(x + b, W * C, C)] = gy[i];
    }
}

extern "C" void max_pool2d_forward_cuda(const float *x, float *y, int64_t N, int64_t H, int64_t W, int64_t C) {
    const int64_t n = N * (H / 2) * (W / 2) * C;
    if (n == 0) return;
    max_pool2d_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, y, H, W, C, n);
    CUDA_CHECK_LAUNCH("max_pool2d");
}

extern "C" void max_pool2d_backward_cuda(const float *x, const float *gy, float *gx, int64_t N, int64_t H, int64_t W, int64_t C) {
    CUDA_CHECK(cudaMemsetAsync(gx, 0, (size_t)(N * H * W * C) * sizeof(float), vaec_stream()));
    const int64_t n = N * (H / 2) * (W / 2) * C;
    if (n == 0) return;
    max_pool2d_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, gy, gx, H, W, C, n);
    CUDA_CHECK_LAUNCH("max_pool2d_backward");
}
