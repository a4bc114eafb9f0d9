// broadcast.cu: deterministic sum over broadcast dims (see broadcast_cuda.h).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/broadcast_cuda.h"
}

#define STS_THREADS 256

// offset in g of output element o's first term, and of term k within it
static __device__ __forceinline__ int64_t base_offset(const sum_to_shape_desc &d, int64_t o) {
    int64_t base = 0, rem = o;
    for (int i = 0; i < d.nd; i++) {
        int64_t c = rem / d.ostride[i];
        rem %= d.ostride[i];
        if (!(d.oshape[i] == 1 && d.gshape[i] != 1)) base += c * d.gstride[i];
    }
    return base;
}

static __device__ __forceinline__ int64_t term_offset(const sum_to_shape_desc &d, int64_t k) {
    int64_t off = 0;
    for (int r = d.nred - 1; r >= 0; r--) {
        int i = d.red[r];
        off += (k % d.gshape[i]) * d.gstride[i];
        k /= d.gshape[i];
    }
    return off;
}

static __global__ void sts_thread_kernel(sum_to_shape_desc d, const float *g, float *out) {
    CUDA_FOR(o, d.nout) {
        int64_t base = base_offset(d, o);
        double acc = 0;
        for (int64_t k = 0; k < d.count; k++) acc += g[base + term_offset(d, k)];
        out[o] = (float)acc;
    }
}

// One block per output element: thread t sums terms t, t+256, ... then a fixed pairwise tree.
static __global__ void sts_block_kernel(sum_to_shape_desc d, const float *g, float *out) {
    __shared__ double part[STS_THREADS];
    for (int64_t o = blockIdx.x; o < d.nout; o += gridDim.x) {
        int64_t base = base_offset(d, o);
        double acc = 0;
        for (int64_t k = threadIdx.x; k < d.count; k += STS_THREADS) acc += g[base + term_offset(d, k)];
        part[threadIdx.x] = acc;
        __syncthreads();
        for (int s = STS_THREADS / 2; s > 0; s >>= 1) {
            if ((int)threadIdx.x < s) part[threadIdx.x] += part[threadIdx.x + s];
            __syncthreads();
        }
        if (threadIdx.x == 0) out[o] = (float)part[0];
        __syncthreads();   // part[] is reused by the next output element
    }
}

extern "C" void sum_to_shape_cuda(const sum_to_shape_desc *d, const float *g, float *out) {
    if (d->nout == 0) return;
    if (d->count <= 64) {
        sts_thread_kernel<<<cuda_blocks(d->nout, 256), 256, 0, vaec_stream()>>>(*d, g, out);
    } else {
        int64_t blocks = d->nout < 65535 * 16 ? d->nout : 65535 * 16;
        sts_block_kernel<<<(unsigned)blocks, STS_THREADS, 0, vaec_stream()>>>(*d, g, out);
    }
    CUDA_CHECK_LAUNCH("sum_to_shape");
}
