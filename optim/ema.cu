// ema.cu: the weight EMA update on the GPU, rounded as ema.c's loop is (no fused multiply-add).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "optim/optim_cuda.h"
}

static __global__ void ema_kernel(float *s, const float *p, int64_t n, float decay) {
    CUDA_FOR(k, n) s[k] = __fadd_rn(__fmul_rn(decay, s[k]), __fmul_rn(__fsub_rn(1.0f, decay), p[k]));
}

extern "C" void ema_update_cuda(float *s, const float *p, int64_t n, float decay) {
    if (n == 0) return;
    ema_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(s, p, n, decay);
    CUDA_CHECK_LAUNCH("ema_update");
}
