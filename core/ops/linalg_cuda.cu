// linalg_cuda.cu: row-major GEMM over cuBLAS, bias broadcast and deterministic column sums (see linalg_cuda.h).
#include <limits.h>
#include <cuda_bf16.h>
#include "core/cuda_libs.cuh"   // defines: vaec_cublas, CUBLAS_CHECK
extern "C" {
#include "core/check.h"         // defines: CHECK
#include "core/mem.h"           // defines: mem_alloc, mem_block_release
#include "core/ops/linalg_cuda.h"
}

extern "C" void gemm_rm_cuda(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a,
                             int64_t lda, int64_t sa, const float *b, int64_t ldb, int64_t sb, float beta, float *c,
                             int64_t ldc, int64_t sc, int64_t batch) {
    if (m == 0 || n == 0 || batch == 0) return;
    CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX &&
              batch <= INT_MAX,
          "gemm (CUDA): sizes m %lld n %lld k %lld batch %lld beyond cuBLAS's int range", (long long)m, (long long)n,
          (long long)k, (long long)batch);
    // cuBLAS is column-major: a row-major (r, c) matrix is its transpose there, so the row-major
    // C = op(A) op(B) is the column-major C^T = op(B)^T op(A)^T with the operands swapped.
    CUBLAS_CHECK(cublasSgemmStridedBatched(vaec_cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                           (int)n, (int)m, (int)k, &alpha, b, (int)ldb, sb, a, (int)lda, sa, &beta, c,
                                           (int)ldc, sc, (int)batch),
                 "gemm");
}

extern "C" void gemm_rm_bf16_cuda(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const void *a,
                                  int64_t lda, int64_t sa, const void *b, int64_t ldb, int64_t sb, float beta, void *c,
                                  bool c_bf16, int64_t ldc, int64_t sc, int64_t batch) {
    if (m == 0 || n == 0 || batch == 0) return;
    CHECK(m <= INT_MAX && n <= INT_MAX && k <= INT_MAX && lda <= INT_MAX && ldb <= INT_MAX && ldc <= INT_MAX &&
              batch <= INT_MAX,
          "gemm bf16 (CUDA): sizes m %lld n %lld k %lld batch %lld beyond cuBLAS's int range", (long long)m,
          (long long)n, (long long)k, (long long)batch);
    // the same operand swap as gemm_rm_cuda; fp32 compute, tensor cores allowed (the default algorithm)
    CUBLAS_CHECK(cublasGemmStridedBatchedEx(vaec_cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N,
                                            (int)n, (int)m, (int)k, &alpha, b, CUDA_R_16BF, (int)ldb, sb, a, CUDA_R_16BF,
                                            (int)lda, sa, &beta, c, c_bf16 ? CUDA_R_16BF : CUDA_R_32F, (int)ldc, sc,
                                            (int)batch, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
                 "gemm bf16");
}

static __global__ void bias_set_bf16_kernel(__nv_bfloat16 *y, const __nv_bfloat16 *b, int64_t n, int64_t cols) {
    CUDA_FOR(i, n) y[i] = b[i % cols];
}

static __global__ void bias_add_bf16_kernel(__nv_bfloat16 *y, const __nv_bfloat16 *b, int64_t n, int64_t cols) {
    CUDA_FOR(i, n) y[i] = __float2bfloat16(__bfloat162float(y[i]) + __bfloat162float(b[i % cols]));
}

static __global__ void f32_to_bf16_kernel(const float *x, __nv_bfloat16 *y, int64_t n) {
    CUDA_FOR(i, n) y[i] = __float2bfloat16(x[i]);   // round to nearest even
}

static __global__ void bf16_to_f32_kernel(const __nv_bfloat16 *x, float *y, int64_t n) {
    CUDA_FOR(i, n) y[i] = __bfloat162float(x[i]);
}

extern "C" void bias_set_bf16_cuda(void *y, const void *b, int64_t rows, int64_t cols) {
    int64_t n = rows * cols;
    if (n == 0) return;
    bias_set_bf16_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>((__nv_bfloat16 *)y, (const __nv_bfloat16 *)b, n,
                                                                         cols);
    CUDA_CHECK_LAUNCH("bias_set (bf16)");
}

extern "C" void bias_add_bf16_cuda(void *y, const void *b, int64_t rows, int64_t cols) {
    int64_t n = rows * cols;
    if (n == 0) return;
    bias_add_bf16_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>((__nv_bfloat16 *)y, (const __nv_bfloat16 *)b, n,
                                                                         cols);
    CUDA_CHECK_LAUNCH("bias_add (bf16)");
}

extern "C" void f32_to_bf16_cuda(const float *x, void *y, int64_t n) {
    if (n == 0) return;
    f32_to_bf16_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(x, (__nv_bfloat16 *)y, n);
    CUDA_CHECK_LAUNCH("f32 -> bf16");
}

extern "C" void bf16_to_f32_cuda(const void *x, float *y, int64_t n) {
    if (n == 0) return;
    bf16_to_f32_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>((const __nv_bfloat16 *)x, y, n);
    CUDA_CHECK_LAUNCH("bf16 -> f32");
}

static __global__ void bias_set_kernel(float *y, const float *b, int64_t n, int64_t cols) {
    CUDA_FOR(i, n) y[i] = b[i % cols];
}

static __global__ void bias_add_kernel(float *y, const float *b, int64_t n, int64_t cols) {
    CUDA_FOR(i, n) y[i] += b[i % cols];
}

extern "C" void bias_set_cuda(float *y, const float *b, int64_t rows, int64_t cols) {
    int64_t n = rows * cols;
    if (n == 0) return;
    bias_set_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(y, b, n, cols);
    CUDA_CHECK_LAUNCH("bias_set");
}

extern "C" void bias_add_cuda(float *y, const float *b, int64_t rows, int64_t cols) {
    int64_t n = rows * cols;
    if (n == 0) return;
    bias_add_kernel<<<cuda_blocks(n, 256), 256, 0, vaec_stream()>>>(y, b, n, cols);
    CUDA_CHECK_LAUNCH("bias_add");
}

// Column sums in two levels with a fixed shape, so the result never depends on scheduling:
// block (bx, by) sums rows [by*CHUNK, (by+1)*CHUNK) of columns bx*32 .. bx*32+31. Thread (tx, ty) walks
// rows ty, ty+8, ... of column tx in order, then the 8 partials meet in a fixed tree. The partials
// (one row per chunk) are summed again the same way until one row is left.
#define COLSUM_TX 32
#define COLSUM_TY 8
#define COLSUM_CHUNK 1024

template <typename In>
static __global__ void colsum_kernel(const In *g, int64_t rows, int64_t cols, double *partial, float *out) {
    __shared__ double acc[COLSUM_TY][COLSUM_TX];
    int64_t c = (int64_t)blockIdx.x * COLSUM_TX + threadIdx.x;
    int64_t r0 = (int64_t)blockIdx.y * COLSUM_CHUNK, r1 = min(r0 + COLSUM_CHUNK, rows);
    double s = 0;
    if (c < cols)
        for (int64_t r = r0 + threadIdx.y; r < r1; r += COLSUM_TY) s += (double)g[r * cols + c];
    acc[threadIdx.y][threadIdx.x] = s;
    __syncthreads();
    for (int h = COLSUM_TY / 2; h > 0; h /= 2) {
        if (threadIdx.y < h) acc[threadIdx.y][threadIdx.x] += acc[threadIdx.y + h][threadIdx.x];
        __syncthreads();
    }
    if (threadIdx.y == 0 && c < cols) {
        if (out) out[c] = (float)acc[0][threadIdx.x];
        else partial[(int64_t)blockIdx.y * cols + c] = acc[0][threadIdx.x];
    }
}

extern "C" void colsum_cuda(const float *g, int64_t rows, int64_t cols, float *out) {
    if (cols == 0) return;
    dim3 block(COLSUM_TX, COLSUM_TY);
    unsigned gx = (unsigned)((cols + COLSUM_TX - 1) / COLSUM_TX);
    if (rows <= COLSUM_CHUNK) {
        colsum_kernel<float><<<dim3(gx, 1), block, 0, vaec_stream()>>>(g, rows, cols, NULL, out);
        CUDA_CHECK_LAUNCH("colsum");
        return;
    }
    // level 1: float rows -> double partials; then double partials -> fewer partials -> out
    int64_t nch = (rows + COLSUM_CHUNK - 1) / COLSUM_CHUNK;
    CHECK(nch <= 65535, "colsum (CUDA): %lld rows exceed the grid's y limit", (long long)rows);
    mem_tag prev = mem_set_tag(MEM_WORKSPACE);
    mem_block *buf = mem_alloc((size_t)(nch * cols) * sizeof(double), DEVICE_CUDA);
    mem_set_tag(prev);
    double *p = (double *)buf->ptr;
    colsum_kernel<float><<<dim3(gx, (unsigned)nch), block, 0, vaec_stream()>>>(g, rows, cols, p, NULL);
    CUDA_CHECK_LAUNCH("colsum");
    while (nch > COLSUM_CHUNK) {   // a fresh buffer per level: blocks of one launch never overlap in place
        int64_t next = (nch + COLSUM_CHUNK - 1) / COLSUM_CHUNK;
        prev = mem_set_tag(MEM_WORKSPACE);
        mem_block *nb = mem_alloc((size_t)(next * cols) * sizeof(double), DEVICE_CUDA);
        mem_set_tag(prev);
        colsum_kernel<double><<<dim3(gx, (unsigned)next), block, 0, vaec_stream()>>>(p, nch, cols, (double *)nb->ptr, NULL);
        CUDA_CHECK_LAUNCH("colsum");
        mem_block_release(buf);   // one stream: whoever gets this block next runs after this kernel
        buf = nb;
        p = (double *)nb->ptr;
        nch = next;
    }
    colsum_kernel<double><<<dim3(gx, 1), block, 0, vaec_stream()>>>(p, nch, cols, NULL, out);
    CUDA_CHECK_LAUNCH("colsum");
    mem_block_release(buf);   // one stream: later users of this block run after these kernels
}
