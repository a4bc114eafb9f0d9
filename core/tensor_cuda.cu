// tensor_cuda.cu: in-place tensor helpers on the GPU (see tensor_cuda.h).
#include "core/cuda_util.cuh"   // defines: CUDA_CHECK_LAUNCH, vaec_stream, CUDA_FOR
extern "C" {
#include "core/tensor_cuda.h"
}

static __global__ void add_kernel(float *dst, const float *src, int64_t n) {
    CUDA_FOR(i, n) dst[i] += src[i];
}

static __global__ void fill_kernel(float *dst, float value, int64_t n) {
    CUDA_FOR(i, n) dst[i] = value;
}

extern "C" void tensor_add_cuda(float *dst, const float *src, int64_t n) {
    if (n == 0) return;
    add_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(dst, src, n);
    CUDA_CHECK_LAUNCH("tensor_add_");
}

extern "C" void tensor_fill_cuda(float *dst, float value, int64_t n) {
    if (n == 0) return;
    fill_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(dst, value, n);
    CUDA_CHECK_LAUNCH("tensor_fill");
}
