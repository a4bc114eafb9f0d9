/* bench_ops.c: the single-op rows of vaec_bench, and the SGEMM rate the table is measured against.
 * A _fwd row times the forward under no-grad; a _bwd row runs the forward with every input requiring
 * grad, then times only the backward from a fixed upstream gradient (every input's gradient).
 *   sgemm_2048:            gemm_f32 2048 x 2048 x 2048 (oneDNN sgemm; OpenBLAS under VAEC_CPU_BACKEND=own):
 *                          the GEMM rate vaec's CPU ops get on this machine
 *   conv2d_128c_256:       (1,256,256,128) 3x3 128->128, pad 1   (SDXL encoder/decoder, top level)
 *   conv2d_512c_32:        (1,32,32,512)   3x3 512->512, pad 1   (SDXL mid block)
 *   conv3d_128c_17x32:     (1,17,32,32,128) 3x3x3 128->128, causal time pad 2, HW pad 1 (temporal VAE)
 *   conv3d_512c_5x32:      (1,5,32,32,512)  3x3x3 512->512, causal (temporal VAE, deepest level)
 *   group_norm_128c_256:   (1,256,256,128), 32 groups, eps 1e-6
 *   attention_1024x512:    q, k, v (1,1024,512), one head, scale 1/sqrt(512) (SDXL mid-block attention) */
#include "bench/bench_rows.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_set_grad_enabled, ag_backward_with_grad, ag_zero_grad
#include "bench/bench_util.h"    // defines: bench_time, bench_print, bench_rand
#include "core/ops.h"            // defines: op_conv2d, op_conv3d, op_group_norm, op_attention
#include "core/autocast.h"       // defines: autocast_set
#include "core/cpu/gemm.h"       // defines: gemm_f32

/* ---- SGEMM ---- */
typedef struct { tensor *a, *b, *c; int n; } gemm_ctx;

static double gemm_iter(void *p, double *loss) {
    gemm_ctx *g = p;
    double t0 = bench_now();
    if (bench_device == DEVICE_CPU) {
        gemm_f32(false, false, g->n, g->n, g->n, 1.0f, tensor_f32(g->a), g->n, tensor_f32(g->b), g->n, 0.0f,
                 tensor_f32(g->c), g->n);
    } else {   /* the GPU's GEMM: cuBLAS through op_matmul */
        tensor_scope_begin();
        op_matmul(g->a, g->b, false, false);
        tensor_scope_end(NULL);
    }
    *loss = 0;
    return bench_now() - t0;
}

void bench_sgemm_2048(const bench_opts *o) {
    gemm_ctx g = {.n = 2048};
    g.a = bench_rand(SHAPE(2048, 2048), 1), g.b = bench_rand(SHAPE(2048, 2048), 2), g.c = tensor_zeros(SHAPE(2048, 2048));
    bench_opts more = {.reps = o->reps < 5 ? 5 : o->reps, .warmup = 1};
    bench_result r = bench_time(&more, gemm_iter, &g);
    bench_print("sgemm_2048", &r);
    tensor_release(g.a), tensor_release(g.b), tensor_release(g.c);
}

/* ---- generic single-op rows ---- */
typedef enum { OPK_CONV2D, OPK_CONV3D, OPK_GROUP_NORM, OPK_ATTENTION } op_kind;

typedef struct {
    op_kind kind;
    bool backward;
    tensor *in[3];       /* conv: x, w, b; group norm: x, weight, bias; attention: q, k, v */
    conv2d_args c2;
    conv3d_args c3;
    tensor *gy;          /* upstream gradient, made on the first forward */
} op_ctx;

static tensor *op_run(op_ctx *c) {
    switch (c->kind) {
    case OPK_CONV2D: return op_conv2d(c->in[0], c->in[1], c->in[2], &c->c2);
    case OPK_CONV3D: return op_conv3d(c->in[0], c->in[1], c->in[2], &c->c3);
    case OPK_GROUP_NORM: return op_group_norm(c->in[0], c->in[1], c->in[2], 32, 1e-6f);
    case OPK_ATTENTION: return op_attention(c->in[0], c->in[1], c->in[2], 1.0f / sqrtf((float)c->in[0]->shape[2]));
    }
    return NULL;
}

static double op_iter(void *p, double *loss) {
    op_ctx *c = p;
    tensor_scope_begin();
    const bool prev = autocast_set(bench_bf16);   /* a _bf16 row: the casts count, as in torch.autocast */
    double t0 = bench_now();
    tensor *y = op_run(c);
    double t1 = bench_now();
    autocast_set(prev);
    if (c->backward) {
        if (!c->gy) c->gy = bench_rand(y->ndim, y->shape, 7);
        t0 = bench_now();
        ag_backward_with_grad(y, c->gy);
        t1 = bench_now();
        ag_zero_grad(c->in, 3);
    }
    *loss = 0;   /* random inputs differ between the sides: nothing to compare */
    tensor_scope_end(NULL);
    return t1 - t0;
}

static void op_row(const bench_opts *o, const char *row, op_ctx *c) {
    ag_set_grad_enabled(c->backward);
    for (int i = 0; i < 3; i++) c->in[i]->requires_grad = c->backward;
    mem_reset_peak();
    bench_result r = bench_time(o, op_iter, c);
    bench_print(row, &r);
    for (int i = 0; i < 3; i++) tensor_release(c->in[i]);
    if (c->gy) tensor_release(c->gy);
}

static void conv2d_row(const bench_opts *o, const char *row, bool bwd, int64_t hw, int64_t ch) {
    op_ctx c = {.kind = OPK_CONV2D, .backward = bwd, .c2 = {.stride = {1, 1}, .pad = {1, 1, 1, 1}}};
    c.in[0] = bench_rand(SHAPE(1, hw, hw, ch), 1);
    c.in[1] = bench_rand(SHAPE(ch, 3, 3, ch), 2);
    c.in[2] = bench_rand(SHAPE(ch), 3);
    op_row(o, row, &c);
}

static void conv3d_row(const bench_opts *o, const char *row, bool bwd, int64_t t, int64_t hw, int64_t ch) {
    op_ctx c = {.kind = OPK_CONV3D, .backward = bwd, .c3 = {.stride = {1, 1, 1}, .pad = {2, 0, 1, 1, 1, 1}}};
    c.in[0] = bench_rand(SHAPE(1, t, hw, hw, ch), 1);
    c.in[1] = bench_rand(SHAPE(ch, 3, 3, 3, ch), 2);
    c.in[2] = bench_rand(SHAPE(ch), 3);
    op_row(o, row, &c);
}

void bench_conv2d_128c_256_fwd(const bench_opts *o) { conv2d_row(o, "conv2d_128c_256_fwd", false, 256, 128); }
void bench_conv2d_128c_256_bwd(const bench_opts *o) { conv2d_row(o, "conv2d_128c_256_bwd", true, 256, 128); }
void bench_conv2d_512c_32_fwd(const bench_opts *o) { conv2d_row(o, "conv2d_512c_32_fwd", false, 32, 512); }
void bench_conv2d_512c_32_bwd(const bench_opts *o) { conv2d_row(o, "conv2d_512c_32_bwd", true, 32, 512); }
void bench_conv3d_128c_17x32_fwd(const bench_opts *o) { conv3d_row(o, "conv3d_128c_17x32_fwd", false, 17, 32, 128); }
void bench_conv3d_128c_17x32_bwd(const bench_opts *o) { conv3d_row(o, "conv3d_128c_17x32_bwd", true, 17, 32, 128); }
void bench_conv3d_512c_5x32_fwd(const bench_opts *o) { conv3d_row(o, "conv3d_512c_5x32_fwd", false, 5, 32, 512); }
void bench_conv3d_512c_5x32_bwd(const bench_opts *o) { conv3d_row(o, "conv3d_512c_5x32_bwd", true, 5, 32, 512); }

static void group_norm_row(const bench_opts *o, const char *row, bool bwd) {
    op_ctx c = {.kind = OPK_GROUP_NORM, .backward = bwd};
    c.in[0] = bench_rand(SHAPE(1, 256, 256, 128), 1);
    c.in[1] = bench_rand(SHAPE(128), 2);
    c.in[2] = bench_rand(SHAPE(128), 3);
    op_row(o, row, &c);
}

void bench_group_norm_128c_256_fwd(const bench_opts *o) { group_norm_row(o, "group_norm_128c_256_fwd", false); }
void bench_group_norm_128c_256_bwd(const bench_opts *o) { group_norm_row(o, "group_norm_128c_256_bwd", true); }

static void attention_row(const bench_opts *o, const char *row, bool bwd) {
    op_ctx c = {.kind = OPK_ATTENTION, .backward = bwd};
    for (int i = 0; i < 3; i++) c.in[i] = bench_rand(SHAPE(1, 1024, 512), (uint64_t)i + 1);
    op_row(o, row, &c);
}

void bench_attention_1024x512_fwd(const bench_opts *o) { attention_row(o, "attention_1024x512_fwd", false); }
void bench_attention_1024x512_bwd(const bench_opts *o) { attention_row(o, "attention_1024x512_bwd", true); }
