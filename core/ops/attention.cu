// attention.cu: softmax(q k^T * scale) v on the GPU (see attention_cuda.h): the four products are
// strided-batched cuBLAS GEMMs over the N items (linalg_cuda.h), the row softmax and its backward are
// the kernels below, with the CPU's formulas (softmax.c): max, exp(x - max), a double sum, one fp32
// reciprocal. One block per row; each thread walks its columns in a fixed order and the block combines
// the partials in a fixed tree, so the result does not depend on scheduling.
#include "core/cuda_util.cuh"   // defines: CUDA_CHECK_LAUNCH, vaec_stream
extern "C" {
#include "core/ops/attention_cuda.h"
#include "core/ops/linalg_cuda.h"   // defines: gemm_rm_cuda
}

#define SOFTMAX_THREADS 256

// tree over the block's SOFTMAX_THREADS partials in shared memory; every thread gets the total
template <typename T, typename Op>
static __device__ T block_reduce(T *sh, T v, Op op) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int h = SOFTMAX_THREADS / 2; h > 0; h /= 2) {
        if (threadIdx.x < h) sh[threadIdx.x] = op(sh[threadIdx.x], sh[threadIdx.x + h]);
        __syncthreads();
    }
    T r = sh[0];
    __syncthreads();   // sh is reused by the next reduction
    return r;
}

struct max_op { __device__ float operator()(float a, float b) const { return fmaxf(a, b); } };
struct add_op { __device__ double operator()(double a, double b) const { return a + b; } };

// y may alias x: each element is read and then written by the same thread
static __global__ void softmax_rows_kernel(const float *x, float *y, int64_t D) {
    __shared__ float shf[SOFTMAX_THREADS];
    __shared__ double shd[SOFTMAX_THREADS];
    const float *xr = x + (int64_t)blockIdx.x * D;
    float *yr = y + (int64_t)blockIdx.x * D;
    float mx = -INFINITY;
    for (int64_t i = threadIdx.x; i < D; i += SOFTMAX_THREADS) mx = fmaxf(mx, xr[i]);
    mx = block_reduce(shf, mx, max_op());
    double s = 0;
    for (int64_t i = threadIdx.x; i < D; i += SOFTMAX_THREADS) {
        float e = expf(xr[i] - mx);
        yr[i] = e;
        s += e;
    }
    s = block_reduce(shd, s, add_op());
    const float inv = (float)(1.0 / s);
    for (int64_t i = threadIdx.x; i < D; i += SOFTMAX_THREADS) yr[i] *= inv;
}

// gx = y * (gy - sum(gy * y)); gx may alias gy
static __global__ void softmax_backward_rows_kernel(const float *y, const float *gy, float *gx, int64_t D) {
    __shared__ double shd[SOFTMAX_THREADS];
    const int64_t off = (int64_t)blockIdx.x * D;
    double dot = 0;
    for (int64_t i = threadIdx.x; i < D; i += SOFTMAX_THREADS) dot += (double)gy[off + i] * y[off + i];
    const float d = (float)block_reduce(shd, dot, add_op());
    for (int64_t i = threadIdx.x; i < D; i += SOFTMAX_THREADS) gx[off + i] = y[off + i] * (gy[off + i] - d);
}

extern "C" void attention_forward_cuda(const float *q, const float *k, const float *v, float *out, float *P,
                                       int64_t N, int64_t Lq, int64_t Lk, int64_t C, float scale) {
    if (N * Lq == 0) return;
    const int64_t sq = Lq * C, sk = Lk * C, sp = Lq * Lk;
    gemm_rm_cuda(false, true, Lq, Lk, C, scale, q, C, sq, k, C, sk, 0.0f, P, Lk, sp, N);   // S = scale q k^T
    if (Lk > 0) {
        softmax_rows_kernel<<<(unsigned)(N * Lq), SOFTMAX_THREADS, 0, vaec_stream()>>>(P, P, Lk);
        CUDA_CHECK_LAUNCH("attention (softmax)");
    }
    gemm_rm_cuda(false, false, Lq, C, Lk, 1.0f, P, Lk, sp, v, C, sk, 0.0f, out, C, sq, N);  // out = P v
}

extern "C" void attention_backward_cuda(const float *q, const float *k, const float *v, const float *P,
                                        const float *gout, float *dq, float *dk, float *dv, float *work, int64_t N,
                                        int64_t Lq, int64_t Lk, int64_t C, float scale) {
    const int64_t sq = Lq * C, sk = Lk * C, sp = Lq * Lk;
    if (dv) gemm_rm_cuda(true, false, Lk, C, Lq, 1.0f, P, Lk, sp, gout, C, sq, 0.0f, dv, C, sk, N);   // P^T gout
    if (!dq && !dk) return;
    gemm_rm_cuda(false, true, Lq, Lk, C, 1.0f, gout, C, sq, v, C, sk, 0.0f, work, Lk, sp, N);          // dP = gout v^T
    if (N * Lq > 0 && Lk > 0) {
        softmax_backward_rows_kernel<<<(unsigned)(N * Lq), SOFTMAX_THREADS, 0, vaec_stream()>>>(P, work, work, Lk);
        CUDA_CHECK_LAUNCH("attention backward (softmax)");
    }
    if (dq) gemm_rm_cuda(false, false, Lq, C, Lk, scale, work, Lk, sp, k, C, sk, 0.0f, dq, C, sq, N);  // scale dS k
    if (dk) gemm_rm_cuda(true, false, Lk, C, Lq, scale, work, Lk, sp, q, C, sq, 0.0f, dk, C, sk, N);   // scale dS^T q
}
