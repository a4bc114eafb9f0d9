// cuda_util.cuh: what every vaec .cu file needs (C++ side only, never included from C).
//   CUDA_CHECK(call)         a runtime call; on failure prints the call, the error, file:line and a hint, exits
//   CUDA_CHECK_LAUNCH(op)    after a kernel launch: names the op whose launch failed
//   vaec_stream()            the backend's one compute stream: every kernel, copy, cuBLAS/cuDNN call runs on it
//   cuda_blocks(n, threads)  grid size for one thread per element (n > 0)
// Using one stream keeps the caching allocator (core/mem.c) simple: a block freed on the host and handed
// out again can only be touched by later work on the same stream, which runs after earlier work ends.
#ifndef VAEC_CUDA_UTIL_CUH
#define VAEC_CUDA_UTIL_CUH
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "vaec: error: CUDA call %s failed: %s\n  at %s:%d\n"                   \
                    "  ---> HINT: check nvidia-smi; run with --set train.device=cpu to compare\n",     \
                    #call, cudaGetErrorString(err_), __FILE__, __LINE__);                          \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define CUDA_CHECK_LAUNCH(op)                                                                      \
    do {                                                                                           \
        cudaError_t err_ = cudaGetLastError();                                                     \
        if (err_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "vaec: error: CUDA kernel launch for op %s failed: %s\n  at %s:%d\n"   \
                    "  ---> HINT: the GPU may lack sm_90 support (rebuild with "                   \
                    "-DCMAKE_CUDA_ARCHITECTURES=<yours>) or be out of memory\n",                   \
                    (op), cudaGetErrorString(err_), __FILE__, __LINE__);                           \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

extern "C" cudaStream_t vaec_stream(void);   // defined in core/device_cuda.cu

static inline unsigned cuda_blocks(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b);   // n stays far below 2^31 * 256 for vaec's tensors
}

// A grid-stride loop index: kernels stay correct for any n even when the grid is capped.
#define CUDA_FOR(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

#endif
