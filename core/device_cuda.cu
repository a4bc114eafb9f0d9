// device_cuda.cu: CUDA runtime glue with a C interface (memory, copies, device discovery).
// Op kernels live beside their CPU twins in core/ops/<op>.cu; this file only holds what every op needs.
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
extern "C" {
#include "core/device_cuda.h"
}

#define CUDA_CHECK(call)                                                                       \
    do {                                                                                       \
        cudaError_t err_ = (call);                                                             \
        if (err_ != cudaSuccess) {                                                             \
            fprintf(stderr, "vaec: error: CUDA call %s failed: %s\n  at %s:%d\n"               \
                    "  ---> HINT: check nvidia-smi; run with --set train.device=cpu to compare\n", \
                    #call, cudaGetErrorString(err_), __FILE__, __LINE__);                      \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

extern "C" int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

extern "C" void *cuda_malloc(size_t bytes) {
    void *p = NULL;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}

extern "C" void cuda_free(void *p) { CUDA_CHECK(cudaFree(p)); }

extern "C" void cuda_memcpy(void *dst, const void *src, size_t bytes, int kind) {
    cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice
                     : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, k));
}

extern "C" void cuda_memset0(void *p, size_t bytes) { CUDA_CHECK(cudaMemset(p, 0, bytes)); }
