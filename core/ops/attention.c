/* attention.c: fused softmax(q k^T * scale) v, forward and backward (see attention.h). */
#include "core/ops/attention.h"
#include <limits.h>
#include <omp.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/softmax.h"    // defines: softmax_row_cpu, softmax_backward_cpu
#include "core/cpu/dnnl_util.h"  // defines: cpu_backend_use_dnnl
#include "core/cpu/gemm.h"       // defines: gemm_f32
#include "core/autocast.h"       // defines: autocast_on
#include "core/ops/matmul.h"     // defines: op_matmul
#include "core/ops/scalar.h"     // defines: op_mul_scalar
#ifdef VAEC_HAVE_CUDA
#include "core/ops/attention_cuda.h"   // defines: attention_forward_cuda, attention_backward_cuda
#endif

/* Blocks of query rows (512 KiB of scores: 128 rows at 1024 keys; 64 rows measured 10% slower, 256 a tie),
 * spread over the threads in one parallel region: each thread runs its block's scores q_blk k^T, their row
 * softmax and P_blk v with single-threaded GEMMs while the block's scores sit in its L2 cache, instead of
 * 4 MiB of P going out to memory and back twice. One parallel region, not three a block (each threaded GEMM
 * is one), keeps it fast on a busy machine: a region waits for its slowest thread, and a thread that another
 * process holds off its core stalled every region (SDXL mid block, 2 threads, load 6: 144 ms against 27 ms
 * on 1 thread); dynamic scheduling lets the other thread take the blocks left. Without a gradient (P NULL)
 * the scores live in a block-sized scratch a thread and P is never written out, as in PyTorch's flash-style
 * CPU kernel. Rows never mix and a block's GEMMs are the same whichever thread runs them, so the results
 * do not depend on the schedule. */
static int64_t rows_a_block(int64_t Lk) {
    const int64_t r = ((int64_t)1 << 17) / (Lk > 0 ? Lk : 1) / 16 * 16;   /* 2^17 floats: 512 KiB of scores */
    return r < 16 ? 16 : r;
}

/* OpenBLAS (the GEMMs under VAEC_CPU_BACKEND=own; every other run, AVX2 CPUs included, has oneDNN's sgemm:
 * gemm.c) repacks k and v for every small block and runs them slower single-threaded, so there the
 * whole-sample GEMMs thread instead (AVX2 kernels, SDXL's 1024x512 mid block, 2 threads: 15.9 ms this way
 * against 21.9 blocked). The same products either way with or without P. */
static void attention_forward_whole(const float *q, const float *k, const float *v, float *out, float *P, int64_t N,
                                    int64_t Lq, int64_t Lk, int64_t C, float scale) {
    mem_block *scratch = P ? NULL : mem_alloc_tagged((size_t)(Lq * Lk) * sizeof(float), DEVICE_CPU, MEM_WORKSPACE);
    for (int64_t n = 0; n < N; n++) {
        float *S = P ? P + n * Lq * Lk : (float *)scratch->ptr;
        gemm_f32(false, true, Lq, Lk, C, scale, q + n * Lq * C, C, k + n * Lk * C, C, 0.0f, S, Lk);
#pragma omp parallel for schedule(static) if (Lq * Lk > 32768)
        for (int64_t r = 0; r < Lq; r++) softmax_row_cpu(S + r * Lk, S + r * Lk, Lk);
        gemm_f32(false, false, Lq, C, Lk, 1.0f, S, Lk, v + n * Lk * C, C, 0.0f, out + n * Lq * C, C);
    }
    mem_block_release(scratch);
}

void attention_forward_cpu(const float *q, const float *k, const float *v, float *out, float *P, int64_t N,
                           int64_t Lq, int64_t Lk, int64_t C, float scale) {
    if (!cpu_backend_use_dnnl()) {
        attention_forward_whole(q, k, v, out, P, N, Lq, Lk, C, scale);
        return;
    }
    const int64_t R = rows_a_block(Lk), blocks = (Lq + R - 1) / R;
    const int nt = omp_get_max_threads();
    mem_block *scratch =
        P ? NULL : mem_alloc_tagged((size_t)((int64_t)nt * R * Lk) * sizeof(float), DEVICE_CPU, MEM_WORKSPACE);
#pragma omp parallel for schedule(dynamic, 1) if (N * blocks > 1 && Lq * Lk * C > (1 << 18))
    for (int64_t t = 0; t < N * blocks; t++) {
        const int64_t n = t / blocks, r0 = t % blocks * R, rows = Lq - r0 < R ? Lq - r0 : R;
        const float *qn = q + (n * Lq + r0) * C, *kn = k + n * Lk * C, *vn = v + n * Lk * C;
        float *S = P ? P + (n * Lq + r0) * Lk : (float *)scratch->ptr + (int64_t)omp_get_thread_num() * R * Lk;
        gemm_f32(false, true, rows, Lk, C, scale, qn, C, kn, C, 0.0f, S, Lk);
        for (int64_t r = 0; r < rows; r++) softmax_row_cpu(S + r * Lk, S + r * Lk, Lk);
        gemm_f32(false, false, rows, C, Lk, 1.0f, S, Lk, vn, C, 0.0f, out + (n * Lq + r0) * C, C);
    }
    mem_block_release(scratch);
}

/* dv = P^T gout; dP = gout v^T; dS = P * (dP - rowsum(dP * P)) (softmax backward);
   dq = scale * dS k; dk = scale * dS^T q. */
void attention_backward_cpu(const float *q, const float *k, const float *v, const float *P, const float *gout,
                            float *dq, float *dk, float *dv, float *work, int64_t N, int64_t Lq, int64_t Lk,
                            int64_t C, float scale) {
    for (int64_t n = 0; n < N; n++) {
        const float *qn = q + n * Lq * C, *kn = k + n * Lk * C, *vn = v + n * Lk * C;
        const float *Pn = P + n * Lq * Lk, *gn = gout + n * Lq * C;
        if (dv)
            gemm_f32(true, false, Lk, C, Lq, 1.0f, Pn, Lk, gn, C, 0.0f, dv + n * Lk * C, C);
        if (!dq && !dk) continue;
        gemm_f32(false, true, Lq, Lk, C, 1.0f, gn, C, vn, C, 0.0f, work, Lk);
        softmax_backward_cpu(Pn, work, work, Lq, Lk);
        if (dq)
            gemm_f32(false, false, Lq, C, Lk, scale, work, Lk, kn, C, 0.0f, dq + n * Lq * C, C);
        if (dk)
            gemm_f32(true, false, Lk, C, Lq, scale, work, Lk, qn, C, 0.0f, dk + n * Lk * C, C);
    }
}

typedef struct { float scale; } attention_ctx;

static void attention_backward(ag_node *n) {
    tensor *q = n->inputs[0], *k = n->inputs[1], *v = n->inputs[2], *P = n->saved[0], *gout = n->out->grad;
    const float scale = ((attention_ctx *)n->ctx)->scale;
    const int64_t N = q->shape[0], Lq = q->shape[1], Lk = k->shape[1], C = q->shape[2];
    tensor *dq = ag_needs_grad(n, 0) ? tensor_empty_like(q) : NULL;
    tensor *dk = ag_needs_grad(n, 1) ? tensor_empty_like(k) : NULL;
    tensor *dv = ag_needs_grad(n, 2) ? tensor_empty_like(v) : NULL;
    /* the softmax gradient: one batch item at a time on the CPU, all N at once for the batched GEMMs on CUDA */
    tensor *work = NULL;
    if (dq || dk)
        work = q->device == DEVICE_CPU ? tensor_new(SHAPE(Lq, Lk), DTYPE_F32, q->device)
                                       : tensor_new(SHAPE(N, Lq, Lk), DTYPE_F32, q->device);
    switch (q->device) {
        case DEVICE_CPU:
            attention_backward_cpu(tensor_f32(q), tensor_f32(k), tensor_f32(v), tensor_f32(P), tensor_f32(gout),
                                   dq ? tensor_f32(dq) : NULL, dk ? tensor_f32(dk) : NULL, dv ? tensor_f32(dv) : NULL,
                                   work ? tensor_f32(work) : NULL, N, Lq, Lk, C, scale);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            attention_backward_cuda(tensor_f32(q), tensor_f32(k), tensor_f32(v), tensor_f32(P), tensor_f32(gout),
                                    dq ? tensor_f32(dq) : NULL, dk ? tensor_f32(dk) : NULL, dv ? tensor_f32(dv) : NULL,
                                    work ? tensor_f32(work) : NULL, N, Lq, Lk, C, scale);
            break;
#endif
        default: DEVICE_UNSUPPORTED("attention_backward", q->device);
    }
    tensor_release(work);
    if (dq) ag_grad_add_owned(q, dq);
    if (dk) ag_grad_add_owned(k, dk);
    if (dv) ag_grad_add_owned(v, dv);
}

tensor *op_attention(tensor *q, tensor *k, tensor *v, float scale) {
    char qs[96], ks[96], vs[96];
    tensor_shape_str(q, qs, sizeof qs);
    tensor_shape_str(k, ks, sizeof ks);
    tensor_shape_str(v, vs, sizeof vs);
    CHECK(q->ndim == 3 && k->ndim == 3 && v->ndim == 3, "attention: q, k, v must be (N, L, C), got q %s k %s v %s",
          qs, ks, vs);
    CHECK(k->shape[0] == q->shape[0] && v->shape[0] == q->shape[0],
          "attention: batch sizes differ: q %s k %s v %s", qs, ks, vs);
    CHECK(k->shape[2] == q->shape[2] && v->shape[2] == q->shape[2],
          "attention: channels C differ: q %s k %s v %s", qs, ks, vs);
    CHECK(v->shape[1] == k->shape[1], "attention: v must have one row per key: k %s v %s", ks, vs);
    CHECK(q->shape[1] <= INT_MAX && k->shape[1] <= INT_MAX && q->shape[2] <= INT_MAX,
          "attention: sizes beyond cblas int dims: q %s k %s", qs, ks);
    CHECK_SAME_DEVICE("attention", q, k);
    CHECK_SAME_DEVICE("attention", q, v);
    if (autocast_on()) {   /* as PyTorch's autocast: both products in bf16 (fp32 sums), the softmax in fp32 */
        tensor *s = op_matmul(op_mul_scalar(q, scale), k, false, true);
        return op_matmul(op_softmax(s), v, false, false);
    }
    const int64_t N = q->shape[0], Lq = q->shape[1], Lk = k->shape[1], C = q->shape[2];
    tensor *out = tensor_new(SHAPE(N, Lq, C), DTYPE_F32, q->device);
    /* P is kept for backward; without a gradient to come the CPU never writes it out */
    const bool grad = ag_grad_enabled() && (q->requires_grad || k->requires_grad || v->requires_grad);
    tensor *P = grad || q->device != DEVICE_CPU ? tensor_new(SHAPE(N, Lq, Lk), DTYPE_F32, q->device) : NULL;
    switch (q->device) {
        case DEVICE_CPU:
            attention_forward_cpu(tensor_f32_read(q), tensor_f32_read(k), tensor_f32_read(v), tensor_f32(out),
                                  P ? tensor_f32(P) : NULL, N, Lq, Lk, C, scale);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            attention_forward_cuda(tensor_f32(q), tensor_f32(k), tensor_f32(v), tensor_f32(out), tensor_f32(P), N, Lq,
                                   Lk, C, scale);
            break;
#endif
        default: DEVICE_UNSUPPORTED("attention", q->device);
    }
    ag_node *n = ag_record("attention", attention_backward, out, 3, (tensor *[]){q, k, v});
    if (n) {
        CHECK(P, "attention: a node was recorded for a forward that kept no probabilities");
        ag_save(n, P);
        ((attention_ctx *)ag_ctx(n, sizeof(attention_ctx)))->scale = scale;
    }
    tensor_release(P);
    return tensor_autorelease(out);
}
