/* conv_winograd.c: forward of 3x3 convolutions with stride 1 in H and W by Winograd F(2x2, 3x3) on the CPU.
 *
 * Each 2x2 block of outputs (a "tile") comes from a 4x4 input patch: V = B^T d B per input channel, the
 * weights become U = G g G^T, and the 16 products per tile turn into 16 GEMMs M[xi] = V[xi] U[xi]^T over
 * (tiles x Cin*kt) x (Cin*kt x Cout), which do 16 instead of 36 multiply-adds per 2x2 outputs and input
 * channel (2.25x fewer). The time taps of a 3-D kernel are concatenated along K, so a 3x3x3 conv is one
 * GEMM per xi with K = 3*Cin. The output is Y = A^T M A plus the bias.
 *
 * F(2x2, 3x3) only (not F(4x4, 3x3)): its transforms use 0, +-1 and 1/2, so the result differs from the
 * direct sum by a few float32 roundings (about 1e-6 relative), the same order as a different summation
 * order. Tiles never straddle frames and chunks start at each frame's first tile, so a frame's output
 * does not depend on the batch it sits in or on the thread count. */
#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "core/ops/conv.h"
#include "core/cpu/cpu.h"   // defines: conv_winograd_applies, conv_winograd_forward_cpu
#include "core/check.h"   // defines: CHECK
#include "core/mem.h"     // defines: mem_alloc (workspace)
#include "core/cpu/gemm_avx2.h"   // defines: gemm_avx2, gemm_avx2_packed_index
#include "core/cpu/vec8.h"        // defines: v8f, LD8, ST8

#define WINO_TILES 126                          /* tiles a chunk for the AVX2 kernel (6 a kernel call) */
#define WINO_BIG_U_BYTES ((int64_t)8 << 20)     /* transformed weights above this: threads share a chunk */
#define WINO_HUGE_U_BYTES ((int64_t)24 << 20)   /* ... above this they come from memory: more tiles to pay */
#define WINO_THREAD_FLOATS ((int64_t)1 << 20)   /* V of one thread's chunk for cblas: 4 MiB (L3 with M) */
#define WINO_MIN_TILES 128                      /* fewer rows per cblas call and its weight packing shows */
#define WINO_SHARED_FLOATS ((int64_t)8 << 20)   /* V of a chunk the threads share: 32 MiB */
#define WINO_DW_FLOATS ((int64_t)1 << 19)       /* V and dM of a weight-gradient chunk: 2 MiB */

bool conv_winograd_applies(const conv_geom *g) {
    const conv_algo algo = conv_current_algorithm();
    if (algo == CONV_ALGO_IM2COL || algo == CONV_ALGO_DNNL) return false;
    /* small channel counts make K too short for the GEMMs to pay for the transforms (conv_in has Cin 3) */
    if (!(g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->cin >= 16 && g->cout >= 16 && g->Ho >= 2 &&
          g->Wo >= 2))
        return false;
    if (algo == CONV_ALGO_WINOGRAD) return true;
    /* The weights are transformed on every call (16 values per 9 taps), which the saved multiply-adds pay
     * for only over enough tiles: measured on a 2-core EPYC, 64 tiles in all lose by 1.3-2.6x, 144 tiles of
     * 256 channels win (0.78x), and 144 tiles of 512 channels x 3 taps (50 MiB transformed, beyond the
     * L3) tie, so those need twice as many. */
    const int64_t tiles = g->B * g->To * ((g->Ho + 1) / 2) * ((g->Wo + 1) / 2);
    const int64_t u_bytes = (int64_t)sizeof(float) * 16 * g->cout * g->kt * g->cin;
    return tiles >= (u_bytes > WINO_HUGE_U_BYTES ? 256 : 128);
}

static float *workspace(size_t floats, mem_block **blk) {
    *blk = mem_alloc_tagged(floats * sizeof(float), DEVICE_CPU, MEM_WORKSPACE);
    return (*blk)->ptr;
}

/* where U[xi][co][k] lives: row-major (co, k) for cblas, or for the AVX2 kernel in blocks of 16 output
 * channels, k-major inside a block, so one k's 16 weights are one contiguous 64-byte load */
static inline int64_t u_index(bool packed, int64_t CO, int64_t K, int64_t xi, int64_t co, int64_t k) {
    return xi * CO * K + (packed ? ((co >> 4) * K + k) * 16 + (co & 15) : co * K + k);
}

/* U[xi][co][a*C + c] = (G g G^T)[xi] for g = w[co, a, :, :, c]. It runs on every forward, so it is
 * vectorised over 8 input channels (contiguous in w) into a small block, which is then written out 16
 * output channels at a time (contiguous in the packed layout). */
#define WT_C 8
__attribute__((target_clones("avx2", "default")))
static void transform_weight_block(const conv_geom *g, const float *w, bool packed, float *U, int64_t cb, int64_t a,
                                   int64_t c0) {
    const int64_t C = g->cin, CO = g->cout, kt = g->kt, K = kt * C;
    const int64_t co1 = cb * 16 + 16 < CO ? cb * 16 + 16 : CO, nc = C - c0 < WT_C ? C - c0 : WT_C;
    v8f blk[16][16];   /* [xi][co - cb*16], lanes: c0 .. c0+7 */
    for (int64_t co = cb * 16; co < co1; co++) {
        const float *src = w + (co * kt + a) * 9 * C + c0;
        v8f k[9], gg[4][3];
        for (int t = 0; t < 9; t++) {
            k[t] = (v8f){0};
            memcpy(&k[t], src + t * C, (size_t)nc * sizeof(float));
        }
        for (int s = 0; s < 3; s++) {   /* G g */
            gg[0][s] = k[s];
            gg[1][s] = 0.5f * (k[s] + k[3 + s] + k[6 + s]);
            gg[2][s] = 0.5f * (k[s] - k[3 + s] + k[6 + s]);
            gg[3][s] = k[6 + s];
        }
        v8f *o = &blk[0][co - cb * 16];
        for (int i = 0; i < 4; i++) {   /* (G g) G^T */
            o[(i * 4 + 0) * 16] = gg[i][0];
            o[(i * 4 + 1) * 16] = 0.5f * (gg[i][0] + gg[i][1] + gg[i][2]);
            o[(i * 4 + 2) * 16] = 0.5f * (gg[i][0] - gg[i][1] + gg[i][2]);
            o[(i * 4 + 3) * 16] = gg[i][2];
        }
    }
    for (int xi = 0; xi < 16; xi++)
        for (int64_t l = 0; l < nc; l++)
            for (int64_t co = cb * 16; co < co1; co++)
                U[u_index(packed, CO, K, xi, co, a * C + c0 + l)] = blk[xi][co - cb * 16][l];
}

static void transform_weights(const conv_geom *g, const float *w, bool packed, float *U) {
    const int64_t nb = (g->cout + 15) / 16, ncb = (g->cin + WT_C - 1) / WT_C;
#pragma omp parallel for collapse(3) schedule(static)
    for (int64_t cb = 0; cb < nb; cb++)
        for (int64_t a = 0; a < g->kt; a++)
            for (int64_t c = 0; c < ncb; c++) transform_weight_block(g, w, packed, U, cb, a, c * WT_C);
}

/* B^T d B on 16 values (scalars or vectors): the same formulas for both */
#define WINO_INPUT_TRANSFORM(d, v)                                                              \
    do {                                                                                        \
        for (int j = 0; j < 4; j++) { /* B^T d: rows */                                         \
            t[0 * 4 + j] = d[0 * 4 + j] - d[2 * 4 + j];                                         \
            t[1 * 4 + j] = d[1 * 4 + j] + d[2 * 4 + j];                                         \
            t[2 * 4 + j] = d[2 * 4 + j] - d[1 * 4 + j];                                         \
            t[3 * 4 + j] = d[1 * 4 + j] - d[3 * 4 + j];                                         \
        }                                                                                       \
        for (int i = 0; i < 4; i++) { /* (B^T d) B: columns */                                  \
            v[i * 4 + 0] = t[i * 4 + 0] - t[i * 4 + 2];                                         \
            v[i * 4 + 1] = t[i * 4 + 1] + t[i * 4 + 2];                                         \
            v[i * 4 + 2] = t[i * 4 + 2] - t[i * 4 + 1];                                         \
            v[i * 4 + 3] = t[i * 4 + 1] - t[i * 4 + 3];                                         \
        }                                                                                       \
    } while (0)

/* the 16 values V = B^T d B of one tile's 4x4 patch d, for each of C channels; p[i*4+j] points at the
 * patch element's C channels (the zero row outside the input); V[xi] lands at v + xi*vs */
__attribute__((target_clones("avx2", "default")))
static void input_tile(const float *const p[16], int64_t C, float *v, int64_t vs) {
    int64_t c = 0;
    for (; c + 8 <= C; c += 8) {
        v8f d[16], t[16], o[16];
        for (int k = 0; k < 16; k++) LD8(d[k], p[k] + c);
        WINO_INPUT_TRANSFORM(d, o);
        for (int k = 0; k < 16; k++) ST8(v + k * vs + c, o[k]);
    }
    for (; c < C; c++) {
        float d[16], t[16], o[16];
        for (int k = 0; k < 16; k++) d[k] = p[k][c];
        WINO_INPUT_TRANSFORM(d, o);
        for (int k = 0; k < 16; k++) v[k * vs + c] = o[k];
    }
}

/* the kt time taps of the frame's tile q (tw_n tiles a row) for output frame `to` of batch b, into the
 * V row at `row` (K = kt*C floats; xi stride vs) */
static void input_tiles_of(const conv_geom *g, const float *x, const float *zero, int64_t b, int64_t to, int64_t q,
                           float *row, int64_t vs) {
    const int64_t C = g->cin, tw_n = (g->Wo + 1) / 2;
    const int64_t h0 = (q / tw_n) * 2 - g->pad[2], w0 = (q % tw_n) * 2 - g->pad[4];
    for (int64_t a = 0; a < g->kt; a++) {
        const int64_t t = to * g->st - g->pad[0] + a;
        float *v = row + a * C;
        if (t < 0 || t >= g->T) {   /* causal time padding: the whole tap is zero */
            for (int xi = 0; xi < 16; xi++) memset(v + xi * vs, 0, (size_t)C * sizeof(float));
            continue;
        }
        const float *p[16];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                const int64_t h = h0 + i, w = w0 + j;
                p[i * 4 + j] = (h < 0 || h >= g->H || w < 0 || w >= g->W) ? zero
                                                                           : x + (((b * g->T + t) * g->H + h) * g->W + w) * C;
            }
        input_tile(p, C, v, vs);
    }
}

/* Y = A^T M A (2x2 from 16 values, scalars or vectors) */
#define WINO_OUTPUT_TRANSFORM(m, y)                                                             \
    do {                                                                                        \
        for (int j = 0; j < 4; j++) { /* A^T M */                                               \
            r0[j] = m[0 * 4 + j] + m[1 * 4 + j] + m[2 * 4 + j];                                 \
            r1[j] = m[1 * 4 + j] - m[2 * 4 + j] - m[3 * 4 + j];                                 \
        }                                                                                       \
        y[0] = r0[0] + r0[1] + r0[2];                                                           \
        y[1] = r0[1] - r0[2] - r0[3];                                                           \
        y[2] = r1[0] + r1[1] + r1[2];                                                           \
        y[3] = r1[1] - r1[2] - r1[3];                                                           \
    } while (0)

/* Y = A^T M A + bias for the frame's tile q from the M row at m (xi stride ms), written where it falls
 * inside the output (odd Ho, Wo cut the last tiles) */
__attribute__((target_clones("avx2", "default")))
static void output_tile(const conv_geom *g, const float *m, int64_t ms, const float *bias, int64_t b, int64_t to,
                        int64_t q, float *y) {
    const int64_t CO = g->cout, tw_n = (g->Wo + 1) / 2, ho = (q / tw_n) * 2, wo = (q % tw_n) * 2;
    const bool h2 = ho + 1 < g->Ho, w2 = wo + 1 < g->Wo;
    float *y00 = y + (((b * g->To + to) * g->Ho + ho) * g->Wo + wo) * CO;
    float *out[4] = {y00, w2 ? y00 + CO : NULL, h2 ? y00 + g->Wo * CO : NULL, h2 && w2 ? y00 + (g->Wo + 1) * CO : NULL};
    int64_t c = 0;
    for (; c + 8 <= CO; c += 8) {
        v8f mv[16], r0[4], r1[4], o[4], bc = {0};
        for (int k = 0; k < 16; k++) LD8(mv[k], m + k * ms + c);
        if (bias) LD8(bc, bias + c);
        WINO_OUTPUT_TRANSFORM(mv, o);
        for (int k = 0; k < 4; k++)
            if (out[k]) {
                o[k] += bc;
                ST8(out[k] + c, o[k]);
            }
    }
    for (; c < CO; c++) {
        float mv[16], r0[4], r1[4], o[4];
        for (int k = 0; k < 16; k++) mv[k] = m[k * ms + c];
        WINO_OUTPUT_TRANSFORM(mv, o);
        for (int k = 0; k < 4; k++)
            if (out[k]) out[k][c] = o[k] + (bias ? bias[c] : 0.0f);
    }
}

static bool use_avx2(const conv_geom *g) { return gemm_avx2_usable() && g->cout % 16 == 0; }

/* M[xi] = V[xi] U[xi]^T for the chunk's n tiles; `threads`: spread the 16 products over the threads
 * (when called outside a parallel region) */
static void chunk_gemms(const conv_geom *g, bool avx2, bool threads, int64_t n, const float *V, const float *U,
                        float *M) {
    const int64_t K = g->kt * g->cin, CO = g->cout;
    if (avx2) {
#pragma omp parallel for schedule(dynamic, 1) if (threads)
        for (int xi = 0; xi < 16; xi++) gemm_avx2(n, CO, K, V + xi * n * K, K, U + xi * CO * K, M + xi * n * CO, CO);
        return;
    }
    /* one single-threaded OpenBLAS call per xi, spread over the threads: the same calls whatever the
     * thread count (a threaded call's split of the output depends on it, and so would the rounding) */
#pragma omp parallel for schedule(dynamic, 1) if (threads)
    for (int xi = 0; xi < 16; xi++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)CO, (int)K, 1.0f, V + xi * n * K, (int)K,
                    U + xi * CO * K, (int)K, 0.0f, M + xi * n * CO, (int)CO);
}

/* the chunk size for `total` tiles cut into pieces of about `want`: even pieces, so the last one is not a
 * sliver; *pieces gets their count */
static int64_t even_chunks(int64_t want, int64_t total, int64_t *pieces) {
    if (want < 1) want = 1;
    if (want > total) want = total;
    *pieces = (total + want - 1) / want;
    return (total + *pieces - 1) / *pieces;
}

/* tiles q0 .. q0+m-1 of output frame `to` of batch b: transform in, the 16 products, transform out;
 * `threads`: spread each step over the threads (called outside a parallel region) */
static void forward_chunk(const conv_geom *g, const float *x, const float *zero, const float *U, const float *bias,
                          bool avx2, bool threads, int64_t b, int64_t to, int64_t q0, int64_t m, float *V, float *M,
                          float *y) {
    const int64_t K = g->kt * g->cin, CO = g->cout;
#pragma omp parallel for schedule(static) if (threads)
    for (int64_t q = 0; q < m; q++) input_tiles_of(g, x, zero, b, to, q0 + q, V + q * K, m * K);
    chunk_gemms(g, avx2, threads, m, V, U, M);
#pragma omp parallel for schedule(static) if (threads)
    for (int64_t q = 0; q < m; q++) output_tile(g, M + q * CO, m * CO, bias, b, to, q0 + q, y);
}

void conv_winograd_forward_cpu(const conv_geom *g, const float *x, const float *w, const float *bias, float *y) {
    const int64_t C = g->cin, CO = g->cout, K = g->kt * C, wide = K > CO ? K : CO;
    const int64_t tiles = ((g->Ho + 1) / 2) * ((g->Wo + 1) / 2), frames = g->B * g->To;
    mem_block *ub, *zb, *vb, *mb;
    float *U = workspace((size_t)(16 * CO * K), &ub), *zero = workspace((size_t)C, &zb);
    memset(zero, 0, (size_t)C * sizeof(float));
    const bool avx2 = use_avx2(g);
    transform_weights(g, w, avx2, U);

    /* Per-thread chunks of n tiles while U is small: each thread transforms its tiles, multiplies and
     * transforms back while they are in its cache. A big U (512 channels: 16-50 MiB) would be read from
     * memory once per chunk, so then chunks are up to 32 MiB of V and the threads share each chunk instead.
     * OpenBLAS repacks U[xi] in every call, so it wants many tiles a call. */
    const int nt = omp_get_max_threads();
    const bool big_u = (int64_t)sizeof(float) * 16 * CO * K > WINO_BIG_U_BYTES;
    int64_t want = avx2 ? WINO_TILES : WINO_THREAD_FLOATS / (16 * wide), pieces;
    if (!avx2 && want < WINO_MIN_TILES) want = WINO_MIN_TILES;
    int64_t n = even_chunks(want, tiles, &pieces);
    const bool per_thread = nt > 1 && !big_u && frames * pieces >= 2 * nt;
    if (!per_thread && (!avx2 || big_u))   /* fewer passes over U, bigger OpenBLAS calls */
        n = even_chunks(WINO_SHARED_FLOATS / (16 * wide), tiles, &pieces);
    const int64_t bufs = per_thread ? nt : 1;
    float *V = workspace((size_t)(bufs * 16 * n * K), &vb), *M = workspace((size_t)(bufs * 16 * n * CO), &mb);
#pragma omp parallel for schedule(dynamic, 1) if (per_thread)
    for (int64_t i = 0; i < frames * pieces; i++) {
        const int64_t f = i / pieces, q0 = (i % pieces) * n, m = tiles - q0 < n ? tiles - q0 : n;
        const int64_t tid = per_thread ? omp_get_thread_num() : 0;
        forward_chunk(g, x, zero, U, bias, avx2, !per_thread, f / g->To, f % g->To, q0, m, V + tid * 16 * n * K,
                      M + tid * 16 * n * CO, y);
    }
    mem_block_release(vb);
    mem_block_release(mb);
    mem_block_release(zb);
    mem_block_release(ub);
}

/* dM = A gy A^T: the adjoint of the output transform, 16 values from a tile's 2x2 output gradients (cells
 * past the output's edge are zero), for each of CO channels; dM[xi] lands at m + xi*ms */
#define WINO_OUTPUT_ADJOINT(gv, dm)                                                             \
    do {                                                                                        \
        for (int s = 0; s < 2; s++) { /* A gy: rows */                                          \
            t[0 * 2 + s] = gv[0 * 2 + s];                                                       \
            t[1 * 2 + s] = gv[0 * 2 + s] + gv[1 * 2 + s];                                       \
            t[2 * 2 + s] = gv[0 * 2 + s] - gv[1 * 2 + s];                                       \
            t[3 * 2 + s] = -gv[1 * 2 + s];                                                      \
        }                                                                                       \
        for (int i = 0; i < 4; i++) { /* (A gy) A^T: columns */                                 \
            dm[i * 4 + 0] = t[i * 2 + 0];                                                       \
            dm[i * 4 + 1] = t[i * 2 + 0] + t[i * 2 + 1];                                        \
            dm[i * 4 + 2] = t[i * 2 + 0] - t[i * 2 + 1];                                        \
            dm[i * 4 + 3] = -t[i * 2 + 1];                                                      \
        }                                                                                       \
    } while (0)

__attribute__((target_clones("avx2", "default")))
static void grad_tile(const conv_geom *g, const float *gy, const float *zero, int64_t b, int64_t to, int64_t q,
                      float *m, int64_t ms) {
    const int64_t CO = g->cout, tw_n = (g->Wo + 1) / 2, ho = (q / tw_n) * 2, wo = (q % tw_n) * 2;
    const bool h2 = ho + 1 < g->Ho, w2 = wo + 1 < g->Wo;
    const float *g00 = gy + (((b * g->To + to) * g->Ho + ho) * g->Wo + wo) * CO;
    const float *in[4] = {g00, w2 ? g00 + CO : zero, h2 ? g00 + g->Wo * CO : zero, h2 && w2 ? g00 + (g->Wo + 1) * CO : zero};
    int64_t c = 0;
    for (; c + 8 <= CO; c += 8) {
        v8f gv[4], t[8], dm[16];
        for (int k = 0; k < 4; k++) LD8(gv[k], in[k] + c);
        WINO_OUTPUT_ADJOINT(gv, dm);
        for (int k = 0; k < 16; k++) ST8(m + k * ms + c, dm[k]);
    }
    for (; c < CO; c++) {
        float gv[4], t[8], dm[16];
        for (int k = 0; k < 4; k++) gv[k] = in[k][c];
        WINO_OUTPUT_ADJOINT(gv, dm);
        for (int k = 0; k < 16; k++) m[k * ms + c] = dm[k];
    }
}

/* gw[co][a][r][s][c] = (G^T dU G)[r][s] for dU = dU[:, co, a*C + c], the adjoint of the weight transform */
static void weights_adjoint(const conv_geom *g, const float *dU, float *gw) {
    const int64_t C = g->cin, CO = g->cout, kt = g->kt, K = kt * C, us = CO * K;
#pragma omp parallel for collapse(2) schedule(static)
    for (int64_t co = 0; co < CO; co++)
        for (int64_t a = 0; a < kt; a++) {
            const float *src = dU + co * K + a * C;
            float *dst = gw + (co * kt + a) * 9 * C;
            for (int64_t c = 0; c < C; c++) {
                float d[4][4], h[3][4];
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++) d[i][j] = src[(i * 4 + j) * us + c];
                for (int j = 0; j < 4; j++) {   /* G^T dU */
                    h[0][j] = d[0][j] + 0.5f * (d[1][j] + d[2][j]);
                    h[1][j] = 0.5f * (d[1][j] - d[2][j]);
                    h[2][j] = 0.5f * (d[1][j] + d[2][j]) + d[3][j];
                }
                for (int r = 0; r < 3; r++) {   /* (G^T dU) G */
                    dst[(r * 3 + 0) * C + c] = h[r][0] + 0.5f * (h[r][1] + h[r][2]);
                    dst[(r * 3 + 1) * C + c] = 0.5f * (h[r][1] - h[r][2]);
                    dst[(r * 3 + 2) * C + c] = 0.5f * (h[r][1] + h[r][2]) + h[r][3];
                }
            }
        }
}

/* The weight gradient is the adjoint of the forward: dU[xi] = sum over tiles of dM[xi]^T V[xi] (16 GEMMs
 * that sum over the tiles), then gw = G^T dU G. Chunks of tiles run one after another, the 16 GEMMs of a
 * chunk spread over the threads as single-threaded calls, so every element of dU adds its chunks in the
 * same order whatever the thread count. Chunks run across frame boundaries: frames of a few tiles still
 * make long sums. */
void conv_winograd_weight_grad_cpu(const conv_geom *g, const float *x, const float *gy, float *gw) {
    const int64_t C = g->cin, CO = g->cout, K = g->kt * C;
    const int64_t tiles = ((g->Ho + 1) / 2) * ((g->Wo + 1) / 2), total = g->B * g->To * tiles;
    /* chunks small enough that V and dM (2 MiB) stay in the cache between the transforms and the GEMMs,
     * but at least 128 tiles: every GEMM reads and writes its dU[xi] */
    const int64_t want = WINO_DW_FLOATS / (16 * (K + CO));
    int64_t pieces;
    const int64_t n = even_chunks(want < 128 ? 128 : want, total, &pieces);
    mem_block *ub, *zb, *vb, *mb;
    float *dU = workspace((size_t)(16 * CO * K), &ub), *zero = workspace((size_t)(C > CO ? C : CO), &zb);
    float *V = workspace((size_t)(16 * n * K), &vb), *M = workspace((size_t)(16 * n * CO), &mb);
    memset(zero, 0, (size_t)(C > CO ? C : CO) * sizeof(float));
    for (int64_t i = 0; i < pieces; i++) {
        const int64_t g0 = i * n, m = total - g0 < n ? total - g0 : n;
#pragma omp parallel for schedule(static)
        for (int64_t j = 0; j < m; j++) {
            const int64_t f = (g0 + j) / tiles, q = (g0 + j) % tiles, b = f / g->To, to = f % g->To;
            input_tiles_of(g, x, zero, b, to, q, V + j * K, m * K);
            grad_tile(g, gy, zero, b, to, q, M + j * CO, m * CO);
        }
        /* dU[xi] (CO x K) += dM[xi]^T (CO x m) V[xi] (m x K): the 16 products spread over the threads, each
         * a single-threaded OpenBLAS call of the same shape whatever the thread count (a threaded call
         * splits the output by thread count, and OpenBLAS's edge kernels round differently) */
#pragma omp parallel for schedule(dynamic, 1)
        for (int xi = 0; xi < 16; xi++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)CO, (int)K, (int)m, 1.0f, M + xi * m * CO,
                        (int)CO, V + xi * m * K, (int)K, i ? 1.0f : 0.0f, dU + xi * CO * K, (int)K);
    }
    weights_adjoint(g, dU, gw);
    mem_block_release(vb);
    mem_block_release(mb);
    mem_block_release(zb);
    mem_block_release(ub);
}
