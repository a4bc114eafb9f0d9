// upsample.cu: nearest 2x upsampling of (P, H, W, C) frames; one thread per output (forward) or per input
// (backward) element.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/upsample_cuda.h"
}

static __global__ void upsample_forward_kernel(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t C) {
    const int64_t Wo = 2 * W, Ho = 2 * H;
    CUDA_FOR(i, P * Ho * Wo * C) {
        const int64_t c = i % C, wo = (i / C) % Wo, ho = (i / (C * Wo)) % Ho, p = i / (C * Wo * Ho);
        y[i] = x[((p * H + ho / 2) * W + wo / 2) * C + c];
    }
}

static __global__ void upsample_backward_kernel(const float *gy, float *gx, int64_t P, int64_t H, int64_t W, int64_t C) {
    const int64_t Wo = 2 * W;
    CUDA_FOR(i, P * H * W * C) {
        const int64_t c = i % C, w = (i / C) % W, ph = i / (C * W);   // ph = p * H + h
        const float *g0 = gy + 2 * ph * Wo * C, *g1 = g0 + Wo * C;
        const int64_t a = (2 * w) * C + c, b = a + C;
        gx[i] = (g0[a] + g0[b]) + (g1[a] + g1[b]);
    }
}

extern "C" void upsample_nearest2x_forward_cuda(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t C) {
    int64_t n = P * 4 * H * W * C;
    if (n == 0) return;
    upsample_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, y, P, H, W, C);
    CUDA_CHECK_LAUNCH("upsample_nearest2x");
}

extern "C" void upsample_nearest2x_backward_cuda(const float *gy, float *gx, int64_t P, int64_t H, int64_t W, int64_t C) {
    int64_t n = P * H * W * C;
    if (n == 0) return;
    upsample_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(gy, gx, P, H, W, C);
    CUDA_CHECK_LAUNCH("upsample_nearest2x_backward");
}
