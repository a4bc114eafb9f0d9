// device_cuda.cu: CUDA runtime glue with a C interface (the compute stream, memory, copies, discovery).
// Op kernels live beside their CPU twins in core/ops/<op>.cu; this file only holds what every op needs.
#include "core/cuda_util.cuh"   // defines: CUDA_CHECK, vaec_stream
extern "C" {
#include "core/device_cuda.h"
}

static int stream_device = -1;   // the GPU the compute stream was made on; -1 before

static cudaStream_t make_stream(void) {
    cudaStream_t s;
    CUDA_CHECK(cudaGetDevice(&stream_device));
    CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    return s;
}

// Created on first use (after the device is chosen; C++ makes the first call thread-safe); non-blocking
// so the legacy default stream, which libraries may touch, never serialises against it.
extern "C" cudaStream_t vaec_stream(void) {
    static cudaStream_t compute_stream = make_stream();
    return compute_stream;
}

extern "C" void cuda_select_device(int index) {
    if (stream_device >= 0 && stream_device != index) {
        fprintf(stderr, "vaec: error: GPU %d was selected after CUDA work began on GPU %d\n  at %s:%d\n"
                "  ---> HINT: select the device first (dist_init does, before the model is built)\n",
                index, stream_device, __FILE__, __LINE__);
        vaec_exit(1);
    }
    CUDA_CHECK(cudaSetDevice(index));
}

extern "C" int cuda_device_count(void) {
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        cudaGetLastError();  // clear the sticky "no driver" error
        return 0;
    }
    return n;
}

extern "C" void *cuda_try_malloc(size_t bytes) {
    void *p = NULL;
    cudaError_t err = cudaMalloc(&p, bytes ? bytes : 1);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();  // not sticky, but clear it so the next launch check does not report it
        return NULL;
    }
    CUDA_CHECK(err);
    return p;
}

extern "C" void *cuda_malloc(size_t bytes) {
    void *p = NULL;
    CUDA_CHECK(cudaMalloc(&p, bytes ? bytes : 1));
    return p;
}

// cudaFree waits for the device, so a cached block is never returned while a kernel still uses it.
extern "C" void cuda_free(void *p) { CUDA_CHECK(cudaFree(p)); }

extern "C" void cuda_memcpy(void *dst, const void *src, size_t bytes, int kind) {
    if (bytes == 0) return;
    cudaStream_t s = vaec_stream();
    cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice
                     : kind == 1 ? cudaMemcpyDeviceToHost : cudaMemcpyDeviceToDevice;
    // From pageable host memory the call returns once the source is staged, so the caller may free it.
    CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, k, s));
    if (kind == 1) CUDA_CHECK(cudaStreamSynchronize(s));   // the host reads dst next
}

extern "C" void cuda_memset0(void *p, size_t bytes) {
    if (bytes) CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, vaec_stream()));
}

extern "C" void cuda_synchronize(void) { CUDA_CHECK(cudaStreamSynchronize(vaec_stream())); }

extern "C" size_t cuda_mem_free_bytes(void) {
    size_t free_b = 0, total = 0;
    CUDA_CHECK(cudaMemGetInfo(&free_b, &total));
    return free_b;
}
