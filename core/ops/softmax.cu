// softmax.cu: softmax over the last dim, one block per row (the formulas of softmax.c).
#include <math.h>
#include "core/cuda_util.cuh"   // defines: CUDA_CHECK_LAUNCH, vaec_stream, block_sum
extern "C" {
#include "core/ops/softmax_cuda.h"
}

#define SM_THREADS 256

static __global__ void softmax_forward_kernel(const float *x, float *y, int64_t rows, int64_t D) {
    __shared__ double sh[SM_THREADS];
    __shared__ float shm[SM_THREADS];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float mx = -INFINITY;
        for (int64_t i = threadIdx.x; i < D; i += SM_THREADS) mx = fmaxf(mx, xr[i]);
        shm[threadIdx.x] = mx;   // max is exact in any order
        __syncthreads();
        for (int s = SM_THREADS / 2; s > 0; s >>= 1) {
            if ((int)threadIdx.x < s) shm[threadIdx.x] = fmaxf(shm[threadIdx.x], shm[threadIdx.x + s]);
            __syncthreads();
        }
        mx = shm[0];
        double acc = 0;
        for (int64_t i = threadIdx.x; i < D; i += SM_THREADS) {
            float e = expf(xr[i] - mx);
            yr[i] = e;
            acc += e;
        }
        const float inv = (float)(1.0 / block_sum<SM_THREADS>(acc, sh));
        for (int64_t i = threadIdx.x; i < D; i += SM_THREADS) yr[i] *= inv;   // each thread its own elements
        __syncthreads();
    }
}

static __global__ void softmax_backward_kernel(const float *y, const float *gy, float *gx, int64_t rows, int64_t D) {
    __shared__ double sh[SM_THREADS];
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const float *yr = y + r * D, *gr = gy + r * D;
        double acc = 0;
        for (int64_t i = threadIdx.x; i < D; i += SM_THREADS) acc += (double)gr[i] * yr[i];
        const float dot = (float)block_sum<SM_THREADS>(acc, sh);
        for (int64_t i = threadIdx.x; i < D; i += SM_THREADS) gx[r * D + i] = yr[i] * (gr[i] - dot);
    }
}

static unsigned row_blocks(int64_t rows) { return (unsigned)(rows < 1048576 ? rows : 1048576); }

extern "C" void softmax_forward_cuda(const float *x, float *y, int64_t rows, int64_t D) {
    if (rows == 0 || D == 0) return;
    softmax_forward_kernel<<<row_blocks(rows), SM_THREADS, 0, vaec_stream()>>>(x, y, rows, D);
    CUDA_CHECK_LAUNCH("softmax");
}

extern "C" void softmax_backward_cuda(const float *y, const float *gy, float *gx, int64_t rows, int64_t D) {
    if (rows == 0 || D == 0) return;
    softmax_backward_kernel<<<row_blocks(rows), SM_THREADS, 0, vaec_stream()>>>(y, gy, gx, rows, D);
    CUDA_CHECK_LAUNCH("softmax_backward");
}
