// reparam.cu: the reparameterization trick, one thread per element (the formulas of reparam.c).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/reparam_cuda.h"
}

static __global__ void reparam_forward_kernel(const float *mean, const float *logvar, const float *eps, float *z,
                                              int64_t n) {
    CUDA_FOR(i, n) z[i] = mean[i] + expf(0.5f * logvar[i]) * eps[i];
}

static __global__ void reparam_backward_kernel(const float *logvar, const float *eps, const float *gz, float *gmean,
                                               float *glogvar, int64_t n) {
    CUDA_FOR(i, n) {
        if (gmean) gmean[i] = gz[i];
        if (glogvar) glogvar[i] = gz[i] * 0.5f * expf(0.5f * logvar[i]) * eps[i];
    }
}

extern "C" void reparam_forward_cuda(const float *mean, const float *logvar, const float *eps, float *z, int64_t n) {
    if (n == 0) return;
    reparam_forward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(mean, logvar, eps, z, n);
    CUDA_CHECK_LAUNCH("reparam_sample");
}

extern "C" void reparam_backward_cuda(const float *logvar, const float *eps, const float *gz, float *gmean,
                                      float *glogvar, int64_t n) {
    if (n == 0) return;
    reparam_backward_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(logvar, eps, gz, gmean, glogvar, n);
    CUDA_CHECK_LAUNCH("reparam_backward");
}
