/* conv_cpu.c: the CPU conv entry points: each conv goes to oneDNN (conv_dnnl.c), vaec's Winograd
 * (conv_winograd.c) or, here, tiled im2col + GEMM forward and GEMMs with a channel-split col2im backward
 * (no atomics; each element accumulates in the same order on any thread count); small convs on one thread. */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "core/ops/conv.h"
#include "core/mem.h"   // defines: mem_alloc_tagged (workspace)
#include "core/cpu/cpu.h"         // defines: conv_dnnl_forward, conv_dnnl_backward_*
#include "core/cpu/threads.h"     // defines: cpu_threads_narrow

#define FWD_TILE_FLOATS (256 << 10)              /* 1 MiB of im2col columns a thread (small-weight path) */
#define FWD_SMALL_WEIGHT_BYTES ((int64_t)4 << 20)  /* weights up to this size take the per-thread tiles */
static int64_t workspace_floats = 8 << 20;   /* 32 MiB of im2col columns per tile, whatever the layer */

void conv_set_workspace_limit(size_t bytes) { workspace_floats = bytes ? (int64_t)(bytes / sizeof(float)) : (8 << 20); }

/* im2col columns come from the caching allocator (tagged workspace): no malloc per step */
static mem_block *workspace(size_t bytes) { return mem_alloc_tagged(bytes, DEVICE_CPU, MEM_WORKSPACE); }

static int is_pointwise(const conv_geom *g) {
    return g->kt == 1 && g->kh == 1 && g->kw == 1 && g->st == 1 && g->sh == 1 && g->sw == 1 &&
           !g->pad[0] && !g->pad[1] && !g->pad[2] && !g->pad[3] && !g->pad[4] && !g->pad[5];
}

/* rows of K floats that fit in `floats` (at least min_rows), at most P */
static int64_t tile_rows(int64_t K, int64_t floats, int64_t min_rows, int64_t P) {
    int64_t r = floats / (K ? K : 1);
    if (r < min_rows) r = min_rows;
    return r < P ? r : P;
}

/* output position p -> the input coordinates of its window's corner */
static inline void out_pos(const conv_geom *g, int64_t p, int64_t *b, int64_t *t0, int64_t *h0, int64_t *w0) {
    int64_t wo = p % g->Wo, r = p / g->Wo, ho = r % g->Ho;
    r /= g->Ho;
    int64_t to = r % g->To;
    *b = r / g->To;
    *t0 = to * g->st - g->pad[0];
    *h0 = ho * g->sh - g->pad[2];
    *w0 = wo * g->sw - g->pad[4];
}

/* one output position's im2col row: its window's inputs, zeros outside the (padded) input */
static inline void im2col_one(const conv_geom *g, const float *x, int64_t p, float *row) {
    const int64_t C = g->cin;
    int64_t b, t0, h0, w0;
    out_pos(g, p, &b, &t0, &h0, &w0);
    for (int64_t a = 0; a < g->kt; a++)
        for (int64_t c = 0; c < g->kh; c++)
            for (int64_t d = 0; d < g->kw; d++) {
                int64_t t = t0 + a, h = h0 + c, w = w0 + d;
                float *dst = row + ((a * g->kh + c) * g->kw + d) * C;
                if (t < 0 || t >= g->T || h < 0 || h >= g->H || w < 0 || w >= g->W)
                    memset(dst, 0, (size_t)C * sizeof(float));
                else
                    memcpy(dst, x + (((b * g->T + t) * g->H + h) * g->W + w) * C, (size_t)C * sizeof(float));
            }
}

static void im2col(const conv_geom *g, const float *x, int64_t p0, int64_t n, float *cols) {
    const int64_t K = g->kt * g->kh * g->kw * g->cin;
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < n; i++) im2col_one(g, x, p0 + i, cols + i * K);
}

/* the same, serial: called by each thread on its own tile */
static void im2col_rows(const conv_geom *g, const float *x, int64_t p0, int64_t n, float *cols) {
    const int64_t K = g->kt * g->kh * g->kw * g->cin;
    for (int64_t i = 0; i < n; i++) im2col_one(g, x, p0 + i, cols + i * K);
}

/* dst[c0..c1) += src[c0..c1): a separate function so the loop vectorises (restrict, AVX2 where the CPU
 * has it); the scalar loop inside col2im was 20% of a temporal VAE training step */
__attribute__((target_clones("avx2", "default")))
static void add_span(float *restrict dst, const float *restrict src, int64_t n) {
#pragma omp simd
    for (int64_t k = 0; k < n; k++) dst[k] += src[k];
}

/* dx += scatter of dcols; threads split the channels, so no two write one element */
static void col2im_add(const conv_geom *g, const float *dcols, int64_t p0, int64_t n, float *dx) {
    const int64_t K = g->kt * g->kh * g->kw * g->cin, C = g->cin;
    /* a thread's channel span at least a cache line (16 floats): narrower spans put two threads' writes in
     * one line on every position */
    int nthreads = (int)(C / 16) < omp_get_max_threads() ? (int)(C / 16) : omp_get_max_threads();
    if (nthreads < 1) nthreads = 1;
#pragma omp parallel num_threads(nthreads)
    {
        int tid = omp_get_thread_num(), nt = omp_get_num_threads();
        int64_t c0 = C * tid / nt, c1 = C * (tid + 1) / nt;
        for (int64_t i = 0; i < n; i++) {
            int64_t b, t0, h0, w0;
            out_pos(g, p0 + i, &b, &t0, &h0, &w0);
            const float *row = dcols + i * K;
            for (int64_t a = 0; a < g->kt; a++)
                for (int64_t c = 0; c < g->kh; c++)
                    for (int64_t d = 0; d < g->kw; d++) {
                        int64_t t = t0 + a, h = h0 + c, w = w0 + d;
                        if (t < 0 || t >= g->T || h < 0 || h >= g->H || w < 0 || w >= g->W) continue;
                        const float *src = row + ((a * g->kh + c) * g->kw + d) * C;
                        float *dst = dx + (((b * g->T + t) * g->H + h) * g->W + w) * C;
                        add_span(dst + c0, src + c0, c1 - c0);
                    }
        }
    }
}

static void forward(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
static void backward(const conv_geom *g, const float *x, const float *w, const float *gy, float *gx, float *gw, float *gb);

/* Convs below these FLOPs run on one thread (cpu_threads_narrow). Measured on a 2-core Xeon with the
 * temporal VAE at 16 filters on 16x16 latents (temporal_step_tiny), 2 threads: through oneDNN 53-57 ms a
 * step with every conv threaded, 42 ms with those under 64 MFLOP on one thread (1 thread: 90 ms); through
 * vaec's Winograd/im2col (AVX2 CPUs) 225-262 ms threaded against 143-187 ms on 1 thread, and 137-144 ms
 * with convs under 1 GFLOP on one thread (their few Winograd chunks split unevenly over 2 threads). */
#define SERIAL_BELOW_DNNL 64e6
#define SERIAL_BELOW_OWN 1e9

static double conv_flops(const conv_geom *g) {
    return 2.0 * (double)(g->B * g->To * g->Ho * g->Wo) * (double)(g->kt * g->kh * g->kw * g->cin) * (double)g->cout;
}

static double serial_below(const conv_geom *g) { return conv_uses_dnnl(g) ? SERIAL_BELOW_DNNL : SERIAL_BELOW_OWN; }

void conv_forward_cpu(const conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    int saved = cpu_threads_narrow(conv_flops(g), serial_below(g));
    forward(g, x, w, b, y);
    cpu_threads_restore(saved);
}

void conv_backward_cpu(const conv_geom *g, const float *x, const float *w, const float *gy, float *gx, float *gw,
                       float *gb) {
    int saved = cpu_threads_narrow(2 * conv_flops(g), serial_below(g));
    backward(g, x, w, gy, gx, gw, gb);
    cpu_threads_restore(saved);
}

static void forward(const conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    const int64_t P = g->B * g->To * g->Ho * g->Wo, K = g->kt * g->kh * g->kw * g->cin, CO = g->cout;
    if (P > 0 && conv_uses_dnnl(g)) {
        conv_dnnl_forward(g, x, w, b, y);
        return;
    }
    if (P > 0 && conv_winograd_applies(g)) {
        conv_winograd_forward_cpu(g, x, w, b, y);
        return;
    }
    if (b) {
#pragma omp parallel for if (P * CO > 65536) schedule(static)
        for (int64_t p = 0; p < P; p++) memcpy(y + p * CO, b, (size_t)CO * sizeof(float));
    }
    if (P == 0) return;
    const float beta = b ? 1.0f : 0.0f;
    if (is_pointwise(g)) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)P, (int)CO, (int)K, 1.0f, x, (int)K, w, (int)K,
                    beta, y, (int)CO);
        return;
    }
    if ((int64_t)sizeof(float) * K * CO > FWD_SMALL_WEIGHT_BYTES) {   /* big weights: few, large GEMMs */
        int64_t tile = tile_rows(K, workspace_floats, 1, P);
        mem_block *ws = workspace((size_t)(tile * K) * sizeof(float));
        float *cols = ws->ptr;
        for (int64_t p0 = 0; p0 < P; p0 += tile) {
            int64_t n = P - p0 < tile ? P - p0 : tile;
            im2col(g, x, p0, n, cols);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)CO, (int)K, 1.0f, cols, (int)K, w, (int)K,
                        beta, y + p0 * CO, (int)CO);
        }
        mem_block_release(ws);
        return;
    }
    /* small weights (up to 4 MiB: 128-channel 3x3 layers): each thread builds an im2col tile that stays
     * in its cache and runs a single-threaded GEMM on it (OpenBLAS runs single-threaded inside a parallel
     * region). Writing 32 MiB column buffers first and reading them back was memory-bound there: conv2d
     * 128ch 256x256 forward 183 -> 150 ms. Big weights keep the path above: OpenBLAS packs the weight
     * again for every GEMM call, which small tiles would repeat too often (conv3d 512ch: +15%). */
    /* Tiles start at each image's first position, so an image's output never depends on the other
     * images of the batch (micro-batching gives the same numbers). */
    const int64_t Pi = P / g->B, tile = tile_rows(K, FWD_TILE_FLOATS, 64, Pi), per_image = (Pi + tile - 1) / tile;
    const int64_t ntiles = g->B * per_image;
    const int nt = omp_get_max_threads();
    mem_block *ws = workspace((size_t)(nt * tile * K) * sizeof(float));
#pragma omp parallel for schedule(dynamic, 1)
    for (int64_t i = 0; i < ntiles; i++) {
        const int64_t j = (i % per_image) * tile, p0 = (i / per_image) * Pi + j, n = Pi - j < tile ? Pi - j : tile;
        float *cols = (float *)ws->ptr + (int64_t)omp_get_thread_num() * tile * K;
        im2col_rows(g, x, p0, n, cols);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)CO, (int)K, 1.0f, cols, (int)K, w, (int)K,
                    beta, y + p0 * CO, (int)CO);
    }
    mem_block_release(ws);
}

/* column sums of gy (P x CO) in double over a fixed partition: deterministic */
void conv_bias_grad_cpu(const float *gy, int64_t P, int64_t CO, float *gb) {
    enum { CHUNKS = 32 };
    double *part = calloc((size_t)(CHUNKS * CO), sizeof(double));
    CHECK(part != NULL, "conv: out of memory for the bias gradient");
#pragma omp parallel for schedule(static)
    for (int c = 0; c < CHUNKS; c++) {
        int64_t p0 = P * c / CHUNKS, p1 = P * (c + 1) / CHUNKS;
        double *acc = part + (int64_t)c * CO;
        for (int64_t p = p0; p < p1; p++)
            for (int64_t k = 0; k < CO; k++) acc[k] += gy[p * CO + k];
    }
    for (int64_t k = 0; k < CO; k++) {
        double s = 0;
        for (int c = 0; c < CHUNKS; c++) s += part[(int64_t)c * CO + k];
        gb[k] = (float)s;
    }
    free(part);
}

/* The input gradient of a stride-1 3x3 conv is itself a stride-1 3x3 conv: of gy with the weights flipped in
 * every tap and Cin/Cout swapped, padded by k-1-pad on each side. That runs through the Winograd forward
 * where it applies (2.25x fewer multiply-adds than the GEMM, and no col2im scatter). Returns false
 * (nothing written) where it does not. */
static bool input_grad_winograd(const conv_geom *g, const float *w, const float *gy, float *gx) {
    if (g->st != 1 || g->sh != 1 || g->sw != 1 || g->kh != 3 || g->kw != 3) return false;
    const int64_t ks[3] = {g->kt, g->kh, g->kw};
    int pad[6];
    for (int i = 0; i < 6; i++) {
        pad[i] = (int)ks[i / 2] - 1 - g->pad[i];
        if (pad[i] < 0) return false;   /* a pad wider than the kernel: output positions that see no input */
    }
    conv_geom t = {g->B, g->To, g->Ho, g->Wo, g->cout, g->cin, g->kt, 3, 3, 1, 1, 1,
                   {pad[0], pad[1], pad[2], pad[3], pad[4], pad[5]}, g->T, g->H, g->W};
    if (!conv_winograd_applies(&t)) return false;
    const int64_t CI = g->cin, CO = g->cout, taps = g->kt * 9;
    mem_block *wb = workspace((size_t)(CI * taps * CO) * sizeof(float));
    float *wt = wb->ptr;   /* wt[c][tap'][co] = w[co][taps-1-tap'][c] */
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t c = 0; c < CI; c++)
        for (int64_t tap = 0; tap < taps; tap++)
            for (int64_t co = 0; co < CO; co++) wt[(c * taps + tap) * CO + co] = w[(co * taps + taps - 1 - tap) * CI + c];
    conv_winograd_forward_cpu(&t, gy, wt, NULL, gx);
    mem_block_release(wb);
    return true;
}

static void backward(const conv_geom *g, const float *x, const float *w, const float *gy, float *gx, float *gw,
                     float *gb) {
    const int64_t P = g->B * g->To * g->Ho * g->Wo, K = g->kt * g->kh * g->kw * g->cin, CO = g->cout;
    if (P > 0 && conv_uses_dnnl(g)) {   /* the bias gradient comes with the weight gradient there */
        if (gx) conv_dnnl_backward_data(g, w, gy, gx);
        if (gw) conv_dnnl_backward_weights(g, x, gy, gw, gb);
        else if (gb) conv_bias_grad_cpu(gy, P, CO, gb);
        return;
    }
    if (gb) conv_bias_grad_cpu(gy, P, CO, gb);
    if (gx) memset(gx, 0, (size_t)(g->B * g->T * g->H * g->W * g->cin) * sizeof(float));
    if (gw) memset(gw, 0, (size_t)(CO * K) * sizeof(float));
    if (P == 0 || (!gx && !gw)) return;
    if (gx && !is_pointwise(g) && input_grad_winograd(g, w, gy, gx)) gx = NULL;   /* done */
    if (gw && conv_winograd_applies(g)) {
        conv_winograd_weight_grad_cpu(g, x, gy, gw);
        gw = NULL;
    }
    if (!gx && !gw) return;
    if (is_pointwise(g)) {
        if (gx)   /* dx = gy W */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)P, (int)K, (int)CO, 1.0f, gy, (int)CO, w, (int)K,
                        0.0f, gx, (int)K);
        if (gw)   /* dW = gy^T x */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CO, (int)K, (int)P, 1.0f, gy, (int)CO, x, (int)K,
                        0.0f, gw, (int)K);
        return;
    }
    int64_t tile = tile_rows(K, workspace_floats, 1, P);
    size_t bytes = (size_t)(tile * K) * sizeof(float);
    mem_block *wc = gw ? workspace(bytes) : NULL, *wd = gx ? workspace(bytes) : NULL;
    float *cols = wc ? wc->ptr : NULL, *dcols = wd ? wd->ptr : NULL;
    for (int64_t p0 = 0; p0 < P; p0 += tile) {
        int64_t n = P - p0 < tile ? P - p0 : tile;
        const float *gyt = gy + p0 * CO;
        if (gw) {
            im2col(g, x, p0, n, cols);
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CO, (int)K, (int)n, 1.0f, gyt, (int)CO, cols, (int)K,
                        1.0f, gw, (int)K);
        }
        if (gx) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)K, (int)CO, 1.0f, gyt, (int)CO, w, (int)K,
                        0.0f, dcols, (int)K);
            col2im_add(g, dcols, p0, n, gx);
        }
    }
    mem_block_release(wc);
    mem_block_release(wd);
}
