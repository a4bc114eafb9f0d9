// batch_norm.cu: BatchNorm forward and backward, train and eval (see batch_norm_cuda.h for the reduction
// scheme). Channels-last: a block covers 32 consecutive channels (coalesced loads) and 8 rows at a time.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_workspace
extern "C" {
#include "core/ops/batch_norm_cuda.h"
}

#define BN_CH 32     // channels a block (threadIdx.x)
#define BN_ROWS 8    // rows a block at a time (threadIdx.y)

typedef struct {
    int64_t M, C, chunk;
    int P;   // parts of the rows, fixed by M
} bn_dims;

static bn_dims make_dims(int64_t M, int64_t C) {
    bn_dims d;
    d.M = M, d.C = C;
    int64_t p = (M + 1023) / 1024;
    d.P = (int)(p < 1 ? 1 : p > 128 ? 128 : p);
    d.chunk = (M + d.P - 1) / d.P;
    return d;
}

// mode 0: part0 = sum a; mode 1: part0 = sum (a - shift[c])^2; mode 2: part0 = sum a, part1 = sum a * xhat(b)
// with xhat = (b - stats[2c]) * stats[2c+1]. Grid (ceil(C/32), P); part arrays are (P, C).
static __global__ void bn_partial(bn_dims d, const float *a, const double *shift, const float *b, const float *stats,
                                  int mode, double *part0, double *part1) {
    __shared__ double s0[BN_ROWS][BN_CH], s1[BN_ROWS][BN_CH];
    const int64_t c = (int64_t)blockIdx.x * BN_CH + threadIdx.x;
    const int64_t lo = (int64_t)blockIdx.y * d.chunk, hi = lo + d.chunk < d.M ? lo + d.chunk : d.M;
    double acc0 = 0, acc1 = 0;
    if (c < d.C) {
        const double mu = mode == 1 ? shift[c] : 0.0;
        const float mean = mode == 2 ? stats[2 * c] : 0.0f, rstd = mode == 2 ? stats[2 * c + 1] : 0.0f;
        for (int64_t m = lo + threadIdx.y; m < hi; m += BN_ROWS) {
            const double v = a[m * d.C + c];
            if (mode == 0) acc0 += v;
            else if (mode == 1) acc0 += (v - mu) * (v - mu);
            else {
                const float xhat = __fmul_rn(__fsub_rn(b[m * d.C + c], mean), rstd);
                acc0 += v;
                acc1 += v * (double)xhat;
            }
        }
    }
    s0[threadIdx.y][threadIdx.x] = acc0;
    s1[threadIdx.y][threadIdx.x] = acc1;
    __syncthreads();
    if (threadIdx.y == 0 && c < d.C) {   // the 8 row-partials in order
        double t0 = 0, t1 = 0;
        for (int r = 0; r < BN_ROWS; r++) t0 += s0[r][threadIdx.x], t1 += s1[r][threadIdx.x];
        part0[(int64_t)blockIdx.y * d.C + c] = t0;
        if (part1) part1[(int64_t)blockIdx.y * d.C + c] = t1;
    }
}

static __device__ double sum_parts(const bn_dims &d, const double *part, int64_t c) {
    double s = 0;
    for (int p = 0; p < d.P; p++) s += part[(int64_t)p * d.C + c];
    return s;
}

static __global__ void bn_finish_mean(bn_dims d, const double *part, double *mean) {
    CUDA_FOR(c, d.C) mean[c] = sum_parts(d, part, c) / (double)d.M;
}

// training: the batch statistics, and the running ones moved (float arithmetic as batch_norm.c, no FMA)
static __global__ void bn_finish_var(bn_dims d, const double *part, const double *mean, float eps, float momentum,
                                     float *stats, float *running_mean, float *running_var) {
    CUDA_FOR(c, d.C) {
        const double ss = sum_parts(d, part, c);
        stats[2 * c] = (float)mean[c];
        stats[2 * c + 1] = (float)(1.0 / sqrt(ss / (double)d.M + (double)eps));
        const float keep = __fsub_rn(1.0f, momentum);
        if (running_mean)
            running_mean[c] = __fadd_rn(__fmul_rn(keep, running_mean[c]), __fmul_rn(momentum, (float)mean[c]));
        if (running_var)
            running_var[c] = __fadd_rn(__fmul_rn(keep, running_var[c]),
                                       __fmul_rn(momentum, (float)(ss / (double)(d.M - 1))));
    }
}

static __global__ void bn_eval_stats(int64_t C, const float *running_mean, const float *running_var, float eps,
                                     float *stats) {
    CUDA_FOR(c, C) {
        stats[2 * c] = running_mean[c];
        stats[2 * c + 1] = (float)(1.0 / sqrt((double)running_var[c] + (double)eps));
    }
}

static __global__ void bn_normalize(int64_t n, int64_t C, const float *x, const float *stats, const float *w,
                                    const float *b, float *y) {
    CUDA_FOR(i, n) {
        const int64_t c = i % C;
        const float xhat = __fmul_rn(__fsub_rn(x[i], stats[2 * c]), stats[2 * c + 1]);
        y[i] = __fadd_rn(__fmul_rn(xhat, w ? w[c] : 1.0f), b ? b[c] : 0.0f);
    }
}

extern "C" void batch_norm_forward_cuda(const float *x, const float *weight, const float *bias, float *y, float *stats,
                                        float *running_mean, float *running_var, int64_t M, int64_t C, bool training,
                                        float momentum, float eps) {
    if (M * C == 0) return;
    cudaStream_t st = vaec_stream();
    if (training) {
        const bn_dims d = make_dims(M, C);
        mem_block *wb = cuda_workspace((size_t)(d.P * C + C) * sizeof(double));
        double *part = (double *)wb->ptr, *mean = part + d.P * C;
        const dim3 grid((unsigned)((C + BN_CH - 1) / BN_CH), (unsigned)d.P), block(BN_CH, BN_ROWS);
        bn_partial<<<grid, block, 0, st>>>(d, x, NULL, NULL, NULL, 0, part, NULL);
        bn_finish_mean<<<cuda_blocks(C, 128), 128, 0, st>>>(d, part, mean);
        bn_partial<<<grid, block, 0, st>>>(d, x, mean, NULL, NULL, 1, part, NULL);
        bn_finish_var<<<cuda_blocks(C, 128), 128, 0, st>>>(d, part, mean, eps, momentum, stats, running_mean, running_var);
        CUDA_CHECK_LAUNCH("batch_norm (statistics)");
        mem_block_release(wb);
    } else {
        bn_eval_stats<<<cuda_blocks(C, 128), 128, 0, st>>>(C, running_mean, running_var, eps, stats);
        CUDA_CHECK_LAUNCH("batch_norm (running statistics)");
    }
    bn_normalize<<<cuda_blocks(M * C, 256), 256, 0, st>>>(M * C, C, x, stats, weight, bias, y);
    CUDA_CHECK_LAUNCH("batch_norm");
}

static __global__ void bn_finish_grad(bn_dims d, const double *p0, const double *p1, float *gw, float *gb,
                                      float *means) {
    CUDA_FOR(c, d.C) {
        const double sg = sum_parts(d, p0, c), sgx = sum_parts(d, p1, c);
        if (gw) gw[c] = (float)sgx;
        if (gb) gb[c] = (float)sg;
        means[2 * c] = (float)(sg / (double)d.M);
        means[2 * c + 1] = (float)(sgx / (double)d.M);
    }
}

// training: dx = w rstd (gy - mean(gy) - xhat mean(gy xhat)); eval: dx = w rstd gy
static __global__ void bn_grad_x(int64_t n, int64_t C, const float *x, const float *w, const float *stats,
                                 const float *gy, const float *means, bool training, float *gx) {
    CUDA_FOR(i, n) {
        const int64_t c = i % C;
        const float k = __fmul_rn(w ? w[c] : 1.0f, stats[2 * c + 1]);
        if (!training) { gx[i] = __fmul_rn(k, gy[i]); continue; }
        const float xhat = __fmul_rn(__fsub_rn(x[i], stats[2 * c]), stats[2 * c + 1]);
        gx[i] = __fmul_rn(k, __fsub_rn(__fsub_rn(gy[i], means[2 * c]), __fmul_rn(xhat, means[2 * c + 1])));
    }
}

extern "C" void batch_norm_backward_cuda(const float *x, const float *weight, const float *stats, const float *gy,
                                         float *gx, float *gw, float *gb, int64_t M, int64_t C, bool training) {
    if (M * C == 0) return;
    cudaStream_t st = vaec_stream();
    const bn_dims d = make_dims(M, C);
    mem_block *wb = cuda_workspace((size_t)(2 * d.P * C) * sizeof(double) + (size_t)(2 * C) * sizeof(float));
    double *p0 = (double *)wb->ptr, *p1 = p0 + d.P * C;
    float *means = (float *)(p1 + d.P * C);
    const dim3 grid((unsigned)((C + BN_CH - 1) / BN_CH), (unsigned)d.P), block(BN_CH, BN_ROWS);
    bn_partial<<<grid, block, 0, st>>>(d, gy, NULL, x, stats, 2, p0, p1);
    bn_finish_grad<<<cuda_blocks(C, 128), 128, 0, st>>>(d, p0, p1, gw, gb, means);
    if (gx) bn_grad_x<<<cuda_blocks(M * C, 256), 256, 0, st>>>(M * C, C, x, weight, stats, gy, means, training, gx);
    CUDA_CHECK_LAUNCH("batch_norm_backward");
    mem_block_release(wb);
}
