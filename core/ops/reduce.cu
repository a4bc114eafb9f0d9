// reduce.cu: deterministic whole-tensor sums, the mean's division and sum/mean backward (see reduce_cuda.h).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_workspace, block_sum
extern "C" {
#include "core/ops/reduce_cuda.h"
}

#define SUM_THREADS 256
#define SUM_MAX_CHUNKS 1024

static __global__ void sum_chunks_kernel(const float *x, int64_t n, int64_t chunk, int squares, double *part) {
    __shared__ double sh[SUM_THREADS];
    const int64_t lo = (int64_t)blockIdx.x * chunk, hi = lo + chunk < n ? lo + chunk : n;
    double acc = 0;
    for (int64_t i = lo + threadIdx.x; i < hi; i += SUM_THREADS) {
        double v = x[i];
        acc += squares ? v * v : v;
    }
    double s = block_sum<SUM_THREADS>(acc, sh);
    if (threadIdx.x == 0) part[blockIdx.x] = s;
}

static __global__ void sum_finish_kernel(const double *part, int chunks, double scale, float *out_f, double *out_d) {
    if (blockIdx.x != 0 || threadIdx.x != 0) return;
    double s = 0;
    for (int c = 0; c < chunks; c++) s += part[c];
    s *= scale;
    if (out_f) *out_f = (float)s;
    if (out_d) *out_d = s;
}

extern "C" void sum_all_cuda(const float *x, int64_t n, int squares, double scale, float *out_f, double *out_d) {
    int64_t c = (n + 65535) / 65536;   // ~64K elements a chunk, at most 1024 chunks
    int chunks = (int)(c < 1 ? 1 : c > SUM_MAX_CHUNKS ? SUM_MAX_CHUNKS : c);
    int64_t chunk = (n + chunks - 1) / chunks;
    mem_block *wb = cuda_workspace((size_t)chunks * sizeof(double));
    double *part = (double *)wb->ptr;
    cudaStream_t st = vaec_stream();
    sum_chunks_kernel<<<(unsigned)chunks, SUM_THREADS, 0, st>>>(x, n, chunk, squares, part);
    sum_finish_kernel<<<1, 32, 0, st>>>(part, chunks, scale, out_f, out_d);
    CUDA_CHECK_LAUNCH(squares ? "sum of squares" : "sum_all");
    mem_block_release(wb);
}

static __global__ void divide_kernel(float *d, int64_t n, double count) {
    CUDA_FOR(i, n) d[i] = (float)((double)d[i] / count);
}

extern "C" void divide_by_count_cuda(float *d, int64_t n, int64_t count) {
    if (n == 0) return;
    divide_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(d, n, (double)count);
    CUDA_CHECK_LAUNCH("mean");
}

static __global__ void reduce_backward_kernel(bcast_plan p, const float *g, float *gx, float scale) {
    CUDA_FOR(i, p.numel) {
        int64_t off = 0, rem = i;
        for (int d = p.ndim - 1; d >= 0 && rem > 0; d--) {
            off += (rem % p.shape[d]) * p.sb[d];
            rem /= p.shape[d];
        }
        gx[i] = g[off] * scale;
    }
}

extern "C" void reduce_backward_cuda(const bcast_plan *p, const float *g, float *gx, float scale) {
    if (p->numel == 0) return;
    reduce_backward_kernel<<<cuda_blocks(p->numel, 256), 256, 0, vaec_stream()>>>(*p, g, gx, scale);
    CUDA_CHECK_LAUNCH("sum/mean backward");
}
