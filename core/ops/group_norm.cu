// group_norm.cu: GroupNorm forward and backward (see group_norm_cuda.h for the reduction scheme).
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_workspace, block_sum
extern "C" {
#include "core/ops/group_norm_cuda.h"
}

#define GN_THREADS 256

typedef struct {
    int64_t N, S, C, G, Cg, M;   // M = S * Cg elements per (n, group)
    int P;                       // chunks per (n, group)
    int64_t chunk;
} gn_dims;

static gn_dims make_dims(int64_t N, int64_t S, int64_t C, int groups) {
    gn_dims d;
    d.N = N; d.S = S; d.C = C; d.G = groups; d.Cg = C / groups; d.M = S * d.Cg;
    int64_t p = (d.M + 8191) / 8192;   // ~8K elements a block: enough blocks to fill the GPU
    d.P = (int)(p < 1 ? 1 : p > 128 ? 128 : p);
    d.chunk = (d.M + d.P - 1) / d.P;
    return d;
}

static __device__ __forceinline__ int64_t group_elem(const gn_dims &d, int64_t n, int64_t c0, int64_t e) {
    return n * d.S * d.C + (e / d.Cg) * d.C + c0 + e % d.Cg;
}

// mode 0: sum x; mode 1: sum (x - mean)^2 with mean in double. Grid (N*G, P).
static __global__ void gn_partial_stats(gn_dims d, const float *x, const double *mean, int mode, double *part) {
    __shared__ double sh[GN_THREADS];
    const int64_t ng = blockIdx.x, n = ng / d.G, c0 = (ng % d.G) * d.Cg;
    const int64_t lo = (int64_t)blockIdx.y * d.chunk, hi = lo + d.chunk < d.M ? lo + d.chunk : d.M;
    const double mu = mode ? mean[ng] : 0.0;
    double acc = 0;
    for (int64_t e = lo + threadIdx.x; e < hi; e += GN_THREADS) {
        double v = x[group_elem(d, n, c0, e)];
        acc += mode ? (v - mu) * (v - mu) : v;
    }
    double s = block_sum<GN_THREADS>(acc, sh);
    if (threadIdx.x == 0) part[ng * d.P + blockIdx.y] = s;
}

// one thread per (n, group): the chunks in order
static __global__ void gn_finish_mean(gn_dims d, const double *part, double *mean) {
    CUDA_FOR(ng, d.N * d.G) {
        double s = 0;
        for (int p = 0; p < d.P; p++) s += part[ng * d.P + p];
        mean[ng] = s / (double)d.M;
    }
}

static __global__ void gn_finish_rstd(gn_dims d, const double *part, const double *mean, float eps, float *stats) {
    CUDA_FOR(ng, d.N * d.G) {
        double ss = 0;
        for (int p = 0; p < d.P; p++) ss += part[ng * d.P + p];
        stats[2 * ng] = (float)mean[ng];
        stats[2 * ng + 1] = (float)(1.0 / sqrt(ss / (double)d.M + (double)eps));
    }
}

static __global__ void gn_apply(gn_dims d, const float *x, const float *w, const float *b, const float *stats, float *y) {
    CUDA_FOR(i, d.N * d.S * d.C) {
        const int64_t c = i % d.C, n = i / (d.S * d.C), ng = n * d.G + c / d.Cg;
        float v = (x[i] - stats[2 * ng]) * stats[2 * ng + 1];
        if (w) v *= w[c];
        if (b) v += b[c];
        y[i] = v;
    }
}

extern "C" void group_norm_forward_cuda(const float *x, const float *weight, const float *bias, float *y, float *stats,
                                        int64_t N, int64_t S, int64_t C, int groups, float eps) {
    if (N * S * C == 0) return;
    gn_dims d = make_dims(N, S, C, groups);
    const int64_t NG = N * groups;
    mem_block *wb = cuda_workspace((size_t)(NG * d.P + NG) * sizeof(double));
    double *part = (double *)wb->ptr, *mean = part + NG * d.P;
    cudaStream_t st = vaec_stream();
    dim3 grid((unsigned)NG, (unsigned)d.P);
    gn_partial_stats<<<grid, GN_THREADS, 0, st>>>(d, x, mean, 0, part);
    gn_finish_mean<<<cuda_blocks(NG, 128), 128, 0, st>>>(d, part, mean);
    gn_partial_stats<<<grid, GN_THREADS, 0, st>>>(d, x, mean, 1, part);
    gn_finish_rstd<<<cuda_blocks(NG, 128), 128, 0, st>>>(d, part, mean, eps, stats);
    gn_apply<<<cuda_blocks(N * S * C, 256), 256, 0, st>>>(d, x, weight, bias, stats, y);
    CUDA_CHECK_LAUNCH("group_norm");
    mem_block_release(wb);
}

// Backward per (n, group): s1 = sum gxhat, s2 = sum gxhat * xhat, gxhat = gy * weight.
static __global__ void gn_partial_grad(gn_dims d, const float *x, const float *w, const float *stats, const float *gy,
                                       double *part1, double *part2) {
    __shared__ double sh[GN_THREADS];
    const int64_t ng = blockIdx.x, n = ng / d.G, c0 = (ng % d.G) * d.Cg;
    const int64_t lo = (int64_t)blockIdx.y * d.chunk, hi = lo + d.chunk < d.M ? lo + d.chunk : d.M;
    const float mean = stats[2 * ng], rstd = stats[2 * ng + 1];
    double a1 = 0, a2 = 0;
    for (int64_t e = lo + threadIdx.x; e < hi; e += GN_THREADS) {
        const int64_t i = group_elem(d, n, c0, e);
        const float xh = (x[i] - mean) * rstd, g = gy[i];
        const float gxh = w ? g * w[c0 + e % d.Cg] : g;
        a1 += gxh;
        a2 += (double)gxh * xh;
    }
    double s1 = block_sum<GN_THREADS>(a1, sh);
    double s2 = block_sum<GN_THREADS>(a2, sh);
    if (threadIdx.x == 0) {
        part1[ng * d.P + blockIdx.y] = s1;
        part2[ng * d.P + blockIdx.y] = s2;
    }
}

static __global__ void gn_finish_grad(gn_dims d, const double *part1, const double *part2, float *m12) {
    CUDA_FOR(ng, d.N * d.G) {
        double s1 = 0, s2 = 0;
        for (int p = 0; p < d.P; p++) { s1 += part1[ng * d.P + p]; s2 += part2[ng * d.P + p]; }
        m12[2 * ng] = (float)(s1 / (double)d.M);
        m12[2 * ng + 1] = (float)(s2 / (double)d.M);
    }
}

static __global__ void gn_grad_x(gn_dims d, const float *x, const float *w, const float *stats, const float *gy,
                                 const float *m12, float *gx) {
    CUDA_FOR(i, d.N * d.S * d.C) {
        const int64_t c = i % d.C, n = i / (d.S * d.C), ng = n * d.G + c / d.Cg;
        const float rstd = stats[2 * ng + 1];
        const float xh = (x[i] - stats[2 * ng]) * rstd, g = gy[i];
        const float gxh = w ? g * w[c] : g;
        gx[i] = rstd * (gxh - m12[2 * ng] - xh * m12[2 * ng + 1]);
    }
}

// dweight[c] = sum gy * xhat, dbias[c] = sum gy over n and positions. Grid (C, Q): chunk q of the N*S
// rows of channel c, then the chunks in order.
#define GN_WB_CHUNKS 32
static __global__ void gn_partial_wb(gn_dims d, const float *x, const float *stats, const float *gy, double *pw,
                                     double *pb) {
    __shared__ double sh[GN_THREADS];
    const int64_t c = blockIdx.x, rows = d.N * d.S, chunk = (rows + GN_WB_CHUNKS - 1) / GN_WB_CHUNKS;
    const int64_t lo = (int64_t)blockIdx.y * chunk, hi = lo + chunk < rows ? lo + chunk : rows;
    double aw = 0, ab = 0;
    for (int64_t r = lo + threadIdx.x; r < hi; r += GN_THREADS) {
        const int64_t n = r / d.S, ng = n * d.G + c / d.Cg, i = r * d.C + c;
        const float xh = (x[i] - stats[2 * ng]) * stats[2 * ng + 1], g = gy[i];
        aw += (double)g * xh;
        ab += g;
    }
    double sw = block_sum<GN_THREADS>(aw, sh);
    double sb = block_sum<GN_THREADS>(ab, sh);
    if (threadIdx.x == 0) {
        pw[c * GN_WB_CHUNKS + blockIdx.y] = sw;
        pb[c * GN_WB_CHUNKS + blockIdx.y] = sb;
    }
}

static __global__ void gn_finish_wb(int64_t C, const double *pw, const double *pb, float *gw, float *gb) {
    CUDA_FOR(c, C) {
        double sw = 0, sb = 0;
        for (int q = 0; q < GN_WB_CHUNKS; q++) { sw += pw[c * GN_WB_CHUNKS + q]; sb += pb[c * GN_WB_CHUNKS + q]; }
        if (gw) gw[c] = (float)sw;
        if (gb) gb[c] = (float)sb;
    }
}

extern "C" void group_norm_backward_cuda(const float *x, const float *weight, const float *stats, const float *gy,
                                         float *gx, float *gw, float *gb, int64_t N, int64_t S, int64_t C, int groups) {
    if (N * S * C == 0) return;
    gn_dims d = make_dims(N, S, C, groups);
    const int64_t NG = N * groups;
    cudaStream_t st = vaec_stream();
    if (gx) {
        mem_block *wb = cuda_workspace((size_t)(2 * NG * d.P) * sizeof(double) + (size_t)(2 * NG) * sizeof(float));
        double *p1 = (double *)wb->ptr, *p2 = p1 + NG * d.P;
        float *m12 = (float *)(p2 + NG * d.P);
        gn_partial_grad<<<dim3((unsigned)NG, (unsigned)d.P), GN_THREADS, 0, st>>>(d, x, weight, stats, gy, p1, p2);
        gn_finish_grad<<<cuda_blocks(NG, 128), 128, 0, st>>>(d, p1, p2, m12);
        gn_grad_x<<<cuda_blocks(N * S * C, 256), 256, 0, st>>>(d, x, weight, stats, gy, m12, gx);
        CUDA_CHECK_LAUNCH("group_norm_backward (input)");
        mem_block_release(wb);
    }
    if (gw || gb) {
        mem_block *wb = cuda_workspace((size_t)(2 * C * GN_WB_CHUNKS) * sizeof(double));
        double *pw = (double *)wb->ptr, *pb = pw + C * GN_WB_CHUNKS;
        gn_partial_wb<<<dim3((unsigned)C, GN_WB_CHUNKS), GN_THREADS, 0, st>>>(d, x, stats, gy, pw, pb);
        gn_finish_wb<<<cuda_blocks(C, 128), 128, 0, st>>>(C, pw, pb, gw, gb);
        CUDA_CHECK_LAUNCH("group_norm_backward (weight, bias)");
        mem_block_release(wb);
    }
}
