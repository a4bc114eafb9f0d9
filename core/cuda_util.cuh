// cuda_util.cuh: what every vaec .cu file needs (C++ side only, never included from C).
//   CUDA_CHECK(call)         a runtime call; on failure prints the call, the error, file:line and a hint, exits
//   CUDA_CHECK_LAUNCH(op)    after a kernel launch: names the op whose launch failed
//   vaec_stream()            the backend's one compute stream: every kernel, copy, cuBLAS/cuDNN call runs on it
//   cuda_blocks(n, threads)  grid size for one thread per element (n > 0)
//   cuda_workspace(bytes)    scratch from the caching allocator (tag workspace); release it right after
//                            queueing the kernels that use it: later work on the stream runs after them
//   block_sum<NT>(v, sh)     a fixed-order tree sum of one double per thread (deterministic)
// Using one stream keeps the caching allocator (core/mem.c) simple: a block freed on the host and handed
// out again can only be touched by later work on the same stream, which runs after earlier work ends.
#ifndef VAEC_CUDA_UTIL_CUH
#define VAEC_CUDA_UTIL_CUH
#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
extern "C" {
#include "core/check.h"   // defines: vaec_exit
}

#define CUDA_CHECK(call)                                                                           \
    do {                                                                                           \
        cudaError_t err_ = (call);                                                                 \
        if (err_ != cudaSuccess) {                                                                 \
            fprintf(stderr, "vaec: error: CUDA call %s failed: %s\n  at %s:%d\n"                   \
                    "  ---> HINT: check nvidia-smi; run with --set train.device=cpu to compare\n",     \
                    #call, cudaGetErrorString(err_), __FILE__, __LINE__);                          \
            vaec_exit(1);                                                                            \
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
            vaec_exit(1);                                                                            \
        }                                                                                          \
    } while (0)

extern "C" {
#include "core/mem.h"   // defines: mem_alloc, mem_block_release, mem_set_tag
}

extern "C" cudaStream_t vaec_stream(void);   // defined in core/device_cuda.cu

static inline mem_block *cuda_workspace(size_t bytes) {
    mem_tag prev = mem_set_tag(MEM_WORKSPACE);
    mem_block *b = mem_alloc(bytes, DEVICE_CUDA);
    mem_set_tag(prev);
    return b;
}

// Sum of v over the NT threads of a block (NT a power of two, sh has NT doubles); every thread gets the
// result. The pairing is fixed, so the sum does not depend on scheduling.
template <int NT>
static __device__ __forceinline__ double block_sum(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int s = NT / 2; s > 0; s >>= 1) {
        if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();   // sh may be reused right after
    return r;
}

static inline unsigned cuda_blocks(int64_t n, int threads) {
    int64_t b = (n + threads - 1) / threads;
    return (unsigned)(b < 1 ? 1 : b);   // n stays far below 2^31 * 256 for vaec's tensors
}

// A grid-stride loop index: kernels stay correct for any n even when the grid is capped.
#define CUDA_FOR(i, n) \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (int64_t)gridDim.x * blockDim.x)

#endif
