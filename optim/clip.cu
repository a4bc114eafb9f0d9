// clip.cu: scaling gradients by the clipping factor on the GPU (the norm itself is sum_all_cuda's
// deterministic sum of squares, core/ops/reduce.cu).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "optim/optim_cuda.h"
}

static __global__ void scale_kernel(float *d, int64_t n, double coef) {
    CUDA_FOR(k, n) d[k] = (float)__dmul_rn((double)d[k], coef);
}

extern "C" void grad_scale_cuda(float *d, int64_t n, double coef) {
    if (n == 0) return;
    scale_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(d, n, coef);
    CUDA_CHECK_LAUNCH("clip_grad_norm");
}
