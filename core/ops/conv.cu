// conv.cu: conv2d / conv3d forward and both backwards on the GPU through cuDNN's C API (see conv_cuda.h).
//
// Layout: vaec's channels-last activations are cuDNN's NHWC / NDHWC tensors and its (Cout, kt, kh, kw, Cin)
// weights are cuDNN's NHWC filter layout, so nothing is transposed. A conv with one frame and a 1-deep
// kernel (every conv2d) uses 4-D descriptors, cuDNN's best-tuned path; the rest use 5-D ones.
//
// Padding: cuDNN pads both sides of a dim equally. Per dim, the common part min(front, back) goes to
// cuDNN and only the rest (Downsample2D's (0,1), the causal conv's front-only time pad) is written
// explicitly: x is copied into a zero-bordered buffer first, and backward-data's gradient for that buffer
// is cropped back. Symmetric convs (almost all of them) never copy.
//
// Algorithms: from cuDNN's heuristics (cudnnGet*_v7, no timing, so the same shape gets the same algorithm on
// every run), ordered and filtered by conv_algo_order (conv_algo.h): deterministic algorithms first, fp32
// convs without TF32 math (CUDNN_FMA_MATH) and without FFT or non-fused Winograd, so they match the CPU to
// 1e-5; bf16 convs take any. Forward algorithms are chosen with the plan, backward ones at the shape's first
// backward (a conv that only runs forward, the frozen spatial VAE's, never asks for them). When cuDNN
// offers no deterministic algorithm, or each one refuses the shape at run time (NOT_SUPPORTED / BAD_PARAM),
// a non-deterministic one runs, with one warning naming the shape; a refusal moves to the next candidate
// for good, with a note on stderr. Workspace comes from the caching
// allocator (tag workspace). Bias: a broadcast add forward, a fixed-order column sum backward.
//
// bf16 (x, w, b and y bf16): the same descriptors with CUDNN_DATA_BFLOAT16, fp32 compute, tensor cores
// allowed (CUDNN_TENSOR_OP_MATH). Gradients stay fp32: the output gradient is copied to bf16 for cuDNN and
// its bf16 input/filter gradients are widened back to fp32; the bias gradient sums the fp32 gradient.
#include <string.h>
#include <cuda_bf16.h>
#include "core/cuda_libs.cuh"    // defines: vaec_cudnn, CUDNN_CHECK, CUDA_FOR, vaec_stream
extern "C" {
#include "core/check.h"          // defines: CHECK, FATAL
#include "core/mem.h"            // defines: mem_alloc, mem_block_release
#include "core/ops/conv_algo.h"      // defines: conv_algo_order, conv_algo_take, conv_algo_list
#include "core/ops/conv_cuda.h"
#include "core/ops/linalg_cuda.h"   // defines: bias_add_cuda, colsum_cuda
}

#define CONV_MAX_PLANS 96
// Heuristic picks needing more scratch than this are passed over (some FFT variants ask for GiBs); the
// last-resort algorithms need little or none.
#define CONV_MAX_WORKSPACE ((size_t)1 << 30)

typedef struct {
    int64_t key[22];           // the geometry and dtype (see plan_key); key[0] == 0 marks an empty slot
    bool bf16;
    int pre[3], post[3];       // explicit zero padding per dim t, h, w (before / after)
    int64_t Tp, Hp, Wp;        // the input dims cuDNN sees (after explicit padding)
    bool padded;
    cudnnTensorDescriptor_t xd, yd;
    cudnnFilterDescriptor_t wd;
    cudnnConvolutionDescriptor_t cd;
    conv_algo_list fwd, bwd_data, bwd_filter;
    bool have_bwd_data, have_bwd_filter;   // chosen at the first backward that needs them
    char shape[192];           // conv_algo_shape: the shape in messages
} conv_plan;

static conv_plan plans[CONV_MAX_PLANS];
static int plan_evict;   // round-robin slot to reuse once the cache is full

static void plan_key(const conv_geom *g, bool bf16, int64_t *key) {
    int64_t k[22] = {g->B, g->T, g->H, g->W, g->cin, g->cout, g->kt, g->kh, g->kw, g->st, g->sh, g->sw,
                     g->pad[0], g->pad[1], g->pad[2], g->pad[3], g->pad[4], g->pad[5], g->To, g->Ho, g->Wo, bf16};
    memcpy(key, k, sizeof k);
}

// TF32 (or any down-conversion) is tensor math; FMA and DEFAULT keep fp32 as it is
static bool tensor_math(cudnnMathType_t m) { return m != CUDNN_FMA_MATH && m != CUDNN_DEFAULT_MATH; }

static const conv_algo_policy *policy(const conv_plan *p, conv_algo_policy *pol) {
    *pol = (conv_algo_policy){.bf16 = p->bf16, .deterministic = true, .max_workspace = CONV_MAX_WORKSPACE};
    return pol;
}

// The three passes differ only in cuDNN's types and calls: each fills conv_algo_perf entries from its
// heuristic (in cuDNN's order), then appends its last resort, an algorithm that needs no or little
// workspace and takes most layouts: the implicit GEMM forward, ALGO_1 backward (both deterministic).
static void choose_forward(conv_plan *p) {
    cudnnHandle_t h = vaec_cudnn();
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    conv_algo_perf e[CUDNN_CONVOLUTION_FWD_ALGO_COUNT + 1];
    conv_algo_policy pol;
    int got = 0;
    CUDNN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7(h, p->xd, p->wd, p->cd, p->yd, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                                                       &got, perf),
                "conv forward");
    for (int i = 0; i < got; i++) {
        cudnnConvolutionFwdAlgo_t a = perf[i].algo;
        size_t ws = 0;
        bool ok = perf[i].status == CUDNN_STATUS_SUCCESS &&
                  cudnnGetConvolutionForwardWorkspaceSize(h, p->xd, p->wd, p->cd, p->yd, a, &ws) == CUDNN_STATUS_SUCCESS;
        e[i] = (conv_algo_perf){(int)a, ok, perf[i].determinism == CUDNN_DETERMINISTIC, tensor_math(perf[i].mathType),
                                a == CUDNN_CONVOLUTION_FWD_ALGO_FFT || a == CUDNN_CONVOLUTION_FWD_ALGO_FFT_TILING ||
                                    a == CUDNN_CONVOLUTION_FWD_ALGO_WINOGRAD_NONFUSED,
                                perf[i].time, ws, false};
    }
    size_t ws = 0;
    bool ok = cudnnGetConvolutionForwardWorkspaceSize(h, p->xd, p->wd, p->cd, p->yd,
                                                      CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, &ws) == CUDNN_STATUS_SUCCESS;
    e[got] = (conv_algo_perf){CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_GEMM, ok, true, false, false, -1.0f, ws, true};
    conv_algo_order(e, got + 1, policy(p, &pol), &p->fwd);
    conv_algo_require(&p->fwd, "forward", p->shape);
}

static void choose_backward_data(conv_plan *p) {
    cudnnHandle_t h = vaec_cudnn();
    cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    conv_algo_perf e[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT + 1];
    conv_algo_policy pol;
    int got = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7(h, p->wd, p->yd, p->cd, p->xd,
                                                            CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &got, perf),
                "conv backward (data)");
    for (int i = 0; i < got; i++) {
        cudnnConvolutionBwdDataAlgo_t a = perf[i].algo;
        size_t ws = 0;
        bool ok = perf[i].status == CUDNN_STATUS_SUCCESS &&
                  cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->wd, p->yd, p->cd, p->xd, a, &ws) == CUDNN_STATUS_SUCCESS;
        e[i] = (conv_algo_perf){(int)a, ok, perf[i].determinism == CUDNN_DETERMINISTIC, tensor_math(perf[i].mathType),
                                a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT || a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_FFT_TILING ||
                                    a == CUDNN_CONVOLUTION_BWD_DATA_ALGO_WINOGRAD_NONFUSED,
                                perf[i].time, ws, false};
    }
    size_t ws = 0;
    bool ok = cudnnGetConvolutionBackwardDataWorkspaceSize(h, p->wd, p->yd, p->cd, p->xd, CUDNN_CONVOLUTION_BWD_DATA_ALGO_1,
                                                           &ws) == CUDNN_STATUS_SUCCESS;
    e[got] = (conv_algo_perf){CUDNN_CONVOLUTION_BWD_DATA_ALGO_1, ok, true, false, false, -1.0f, ws, true};
    conv_algo_order(e, got + 1, policy(p, &pol), &p->bwd_data);
    conv_algo_require(&p->bwd_data, "backward-data", p->shape);
    p->have_bwd_data = true;
}

static void choose_backward_filter(conv_plan *p) {
    cudnnHandle_t h = vaec_cudnn();
    cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    conv_algo_perf e[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT + 1];
    conv_algo_policy pol;
    int got = 0;
    CUDNN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7(h, p->xd, p->yd, p->cd, p->wd,
                                                              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &got, perf),
                "conv backward (filter)");
    for (int i = 0; i < got; i++) {
        cudnnConvolutionBwdFilterAlgo_t a = perf[i].algo;
        size_t ws = 0;
        bool ok = perf[i].status == CUDNN_STATUS_SUCCESS &&
                  cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->xd, p->yd, p->cd, p->wd, a, &ws) == CUDNN_STATUS_SUCCESS;
        e[i] = (conv_algo_perf){(int)a, ok, perf[i].determinism == CUDNN_DETERMINISTIC, tensor_math(perf[i].mathType),
                                a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT ||
                                    a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_FFT_TILING ||
                                    a == CUDNN_CONVOLUTION_BWD_FILTER_ALGO_WINOGRAD_NONFUSED,
                                perf[i].time, ws, false};
    }
    size_t ws = 0;
    bool ok = cudnnGetConvolutionBackwardFilterWorkspaceSize(h, p->xd, p->yd, p->cd, p->wd,
                                                             CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, &ws) == CUDNN_STATUS_SUCCESS;
    e[got] = (conv_algo_perf){CUDNN_CONVOLUTION_BWD_FILTER_ALGO_1, ok, true, false, false, -1.0f, ws, true};
    conv_algo_order(e, got + 1, policy(p, &pol), &p->bwd_filter);
    conv_algo_require(&p->bwd_filter, "backward-filter", p->shape);
    p->have_bwd_filter = true;
}

static void plan_destroy(conv_plan *p) {
    if (!p->key[0]) return;
    cudnnDestroyTensorDescriptor(p->xd);
    cudnnDestroyTensorDescriptor(p->yd);
    cudnnDestroyFilterDescriptor(p->wd);
    cudnnDestroyConvolutionDescriptor(p->cd);
    memset(p, 0, sizeof *p);
}

static conv_plan *plan_get(const conv_geom *g, bool bf16) {
    int64_t key[22];
    plan_key(g, bf16, key);
    for (int i = 0; i < CONV_MAX_PLANS; i++)
        if (plans[i].key[0] && memcmp(plans[i].key, key, sizeof key) == 0) return &plans[i];
    conv_plan *p = NULL;
    for (int i = 0; i < CONV_MAX_PLANS && !p; i++)
        if (!plans[i].key[0]) p = &plans[i];
    if (!p) {   // full: a model has far fewer distinct conv shapes, so this is a test sweeping shapes
        p = &plans[plan_evict];
        plan_evict = (plan_evict + 1) % CONV_MAX_PLANS;
        plan_destroy(p);
    }
    memcpy(p->key, key, sizeof key);
    p->bf16 = bf16;
    conv_algo_shape(g, bf16, p->shape, sizeof p->shape);

    // split each dim's padding into cuDNN's symmetric part and the explicit rest
    int sym[3];
    for (int d = 0; d < 3; d++) {
        int front = g->pad[2 * d], back = g->pad[2 * d + 1];
        sym[d] = front < back ? front : back;
        p->pre[d] = front - sym[d];
        p->post[d] = back - sym[d];
        if (p->pre[d] || p->post[d]) p->padded = true;
    }
    p->Tp = g->T + p->pre[0] + p->post[0];
    p->Hp = g->H + p->pre[1] + p->post[1];
    p->Wp = g->W + p->pre[2] + p->post[2];
    CHECK(g->B * g->cin * p->Tp * p->Hp * p->Wp <= INT32_MAX && g->B * g->cout * g->To * g->Ho * g->Wo <= INT32_MAX,
          "conv (CUDA): tensors beyond 2^31 elements (B %lld, %lldx%lldx%lld x %lld channels): split the batch",
          (long long)g->B, (long long)g->T, (long long)g->H, (long long)g->W, (long long)g->cin);

    // one frame and a 1-deep kernel: a plain 2-D conv (4-D descriptors)
    bool two_d = g->T == 1 && g->kt == 1 && g->st == 1 && p->Tp == 1 && sym[0] == 0;
    int nd = two_d ? 4 : 5, ns = nd - 2, off = two_d ? 1 : 0;   // off: skip the t entries
    int xdim[5] = {(int)g->B, (int)g->cin, (int)p->Tp, (int)p->Hp, (int)p->Wp};
    int ydim[5] = {(int)g->B, (int)g->cout, (int)g->To, (int)g->Ho, (int)g->Wo};
    int wdim[5] = {(int)g->cout, (int)g->cin, (int)g->kt, (int)g->kh, (int)g->kw};
    int pad3[3] = {sym[0], sym[1], sym[2]}, str3[3] = {g->st, g->sh, g->sw}, dil3[3] = {1, 1, 1};
    if (two_d) {   // drop the t entry: {N, C, H, W}
        xdim[2] = xdim[3]; xdim[3] = xdim[4];
        ydim[2] = ydim[3]; ydim[3] = ydim[4];
        wdim[2] = wdim[3]; wdim[3] = wdim[4];
    }
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->xd), "conv");
    CUDNN_CHECK(cudnnCreateTensorDescriptor(&p->yd), "conv");
    CUDNN_CHECK(cudnnCreateFilterDescriptor(&p->wd), "conv");
    CUDNN_CHECK(cudnnCreateConvolutionDescriptor(&p->cd), "conv");
    const cudnnDataType_t dt = bf16 ? CUDNN_DATA_BFLOAT16 : CUDNN_DATA_FLOAT;
    CUDNN_CHECK(cudnnSetTensorNdDescriptorEx(p->xd, CUDNN_TENSOR_NHWC, dt, nd, xdim), "conv");
    CUDNN_CHECK(cudnnSetTensorNdDescriptorEx(p->yd, CUDNN_TENSOR_NHWC, dt, nd, ydim), "conv");
    CUDNN_CHECK(cudnnSetFilterNdDescriptor(p->wd, dt, CUDNN_TENSOR_NHWC, nd, wdim), "conv");
    CUDNN_CHECK(cudnnSetConvolutionNdDescriptor(p->cd, ns, pad3 + off, str3 + off, dil3 + off, CUDNN_CROSS_CORRELATION,
                                                CUDNN_DATA_FLOAT),
                "conv");
    CUDNN_CHECK(cudnnSetConvolutionMathType(p->cd, bf16 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH), "conv");

    int out[5];
    CUDNN_CHECK(cudnnGetConvolutionNdForwardOutputDim(p->cd, p->xd, p->wd, nd, out), "conv");
    for (int i = 0; i < nd; i++)
        CHECK(out[i] == ydim[i], "conv (CUDA): cuDNN's output dim %d is %d, vaec's geometry says %d", i, out[i], ydim[i]);
    choose_forward(p);   // backward algorithms wait for the first backward
    return p;
}

// ---- explicit padding and crop: one thread per element of the larger tensor of the pair ----

template <typename T>
static __global__ void pad_kernel(const T *x, T *xp, int64_t n, int64_t T_, int64_t H, int64_t W, int64_t C,
                                  int64_t Tp, int64_t Hp, int64_t Wp, int pt, int ph, int pw) {
    CUDA_FOR(i, n) {
        int64_t c = i % C, r = i / C;
        int64_t w = r % Wp - pw; r /= Wp;
        int64_t h = r % Hp - ph; r /= Hp;
        int64_t t = r % Tp - pt, b = r / Tp;
        bool in = t >= 0 && t < T_ && h >= 0 && h < H && w >= 0 && w < W;
        xp[i] = in ? x[(((b * T_ + t) * H + h) * W + w) * C + c] : T(0.0f);
    }
}

// gx (fp32) from the padded gradient gxp (fp32 or bf16); with no padding it is a plain conversion
template <typename T>
static __global__ void crop_kernel(const T *gxp, float *gx, int64_t n, int64_t T_, int64_t H, int64_t W, int64_t C,
                                   int64_t Tp, int64_t Hp, int64_t Wp, int pt, int ph, int pw) {
    CUDA_FOR(i, n) {
        int64_t c = i % C, r = i / C;
        int64_t w = r % W; r /= W;
        int64_t h = r % H; r /= H;
        int64_t t = r % T_, b = r / T_;
        gx[i] = (float)gxp[(((b * Tp + t + pt) * Hp + h + ph) * Wp + w + pw) * C + c];
    }
}

static mem_block *workspace(size_t bytes) {
    if (bytes == 0) return NULL;
    mem_tag prev = mem_set_tag(MEM_WORKSPACE);
    mem_block *b = mem_alloc(bytes, DEVICE_CUDA);
    mem_set_tag(prev);
    return b;
}

static size_t elem_size(const conv_plan *p) { return p->bf16 ? sizeof(__nv_bfloat16) : sizeof(float); }

// The input as cuDNN sees it: x itself, or a zero-bordered copy (returned in *blk, released by the caller).
static const void *padded_input(const conv_plan *p, const conv_geom *g, const void *x, mem_block **blk) {
    *blk = NULL;
    if (!p->padded) return x;
    int64_t n = g->B * p->Tp * p->Hp * p->Wp * g->cin;
    *blk = workspace((size_t)n * elem_size(p));
    void *xp = (*blk)->ptr;
    unsigned grid = cuda_blocks(n, 256);
    if (p->bf16)
        pad_kernel<__nv_bfloat16><<<grid, 256, 0, vaec_stream()>>>((const __nv_bfloat16 *)x, (__nv_bfloat16 *)xp, n, g->T,
                                                                   g->H, g->W, g->cin, p->Tp, p->Hp, p->Wp, p->pre[0],
                                                                   p->pre[1], p->pre[2]);
    else
        pad_kernel<float><<<grid, 256, 0, vaec_stream()>>>((const float *)x, (float *)xp, n, g->T, g->H, g->W, g->cin,
                                                           p->Tp, p->Hp, p->Wp, p->pre[0], p->pre[1], p->pre[2]);
    CUDA_CHECK_LAUNCH("conv (explicit pad)");
    return xp;
}

// An algorithm that refuses the shape (NOT_SUPPORTED, or BAD_PARAM for a layout it does not take) leaves its
// output unwritten and the stream healthy: the next candidate may run, from now on. Anything else is an error.
static bool try_next(conv_algo_list *c, cudnnStatus_t st, const char *pass) {
    int cat = CUDNN_STATUS_CATEGORY(st);
    if (cat != CUDNN_STATUS_NOT_SUPPORTED && cat != CUDNN_STATUS_BAD_PARAM) return false;
    int was = c->algo[c->cur];
    if (!conv_algo_advance(c)) return false;
    fprintf(stderr, "vaec: note: cuDNN %s algorithm %d refused a shape (%s); using algorithm %d from now on\n", pass, was,
            cudnnGetErrorString(st), c->algo[c->cur]);
    return true;
}

extern "C" void conv_forward_cuda(const conv_geom *g, bool bf16, const void *x, const void *w, const void *b, void *y) {
    if (g->B * g->To * g->Ho * g->Wo * g->cout == 0) return;
    conv_plan *p = plan_get(g, bf16);
    mem_block *xblk;
    const void *xin = padded_input(p, g, x, &xblk);
    const float one = 1.0f, zero = 0.0f;   // fp32 scaling factors for fp32 and bf16 data alike
    for (;;) {   // the cached candidate; on a refusal the next one, remembered for this shape
        conv_algo_list *c = &p->fwd;
        int k = conv_algo_take(c, "forward", p->shape);
        mem_block *ws = workspace(c->workspace[k]);
        cudnnStatus_t st = cudnnConvolutionForward(vaec_cudnn(), &one, p->xd, xin, p->wd, w, p->cd,
                                                   (cudnnConvolutionFwdAlgo_t)c->algo[k], ws ? ws->ptr : NULL,
                                                   c->workspace[k], &zero, p->yd, y);
        if (ws) mem_block_release(ws);   // one stream: the next user of the block runs after cuDNN
        if (try_next(c, st, "forward")) continue;
        CUDNN_CHECK(st, "conv forward");
        break;
    }
    if (xblk) mem_block_release(xblk);
    int64_t rows = g->B * g->To * g->Ho * g->Wo;
    if (b && bf16) bias_add_bf16_cuda(y, b, rows, g->cout);
    else if (b) bias_add_cuda((float *)y, (const float *)b, rows, g->cout);
}

extern "C" void conv_backward_cuda(const conv_geom *g, bool bf16, const void *x, const void *w, const float *gy,
                                   float *gx, float *gw, float *gb) {
    int64_t rows = g->B * g->To * g->Ho * g->Wo;
    int64_t nx = g->B * g->T * g->H * g->W * g->cin, nw = g->cout * g->kt * g->kh * g->kw * g->cin;
    if (rows * g->cout == 0) {   // an empty output: the gradients are zeros
        if (gx) CUDA_CHECK(cudaMemsetAsync(gx, 0, sizeof(float) * nx, vaec_stream()));
        if (gw) CUDA_CHECK(cudaMemsetAsync(gw, 0, sizeof(float) * nw, vaec_stream()));
        if (gb) CUDA_CHECK(cudaMemsetAsync(gb, 0, sizeof(float) * g->cout, vaec_stream()));
        return;
    }
    conv_plan *p = plan_get(g, bf16);
    if (gx && !p->have_bwd_data) choose_backward_data(p);
    if (gw && !p->have_bwd_filter) choose_backward_filter(p);
    const float one = 1.0f, zero = 0.0f;
    // cuDNN takes one dtype: bf16 convs get a bf16 copy of the (fp32) output gradient
    mem_block *gyblk = NULL;
    const void *gyin = gy;
    if (bf16) {
        gyblk = workspace((size_t)(rows * g->cout) * sizeof(__nv_bfloat16));
        f32_to_bf16_cuda(gy, gyblk->ptr, rows * g->cout);
        gyin = gyblk->ptr;
    }
    if (gx) {
        // cuDNN writes the gradient of its input: padded and/or bf16 goes to a buffer, then crop/convert
        mem_block *gblk = NULL;
        void *gxp = gx;
        int64_t np = g->B * p->Tp * p->Hp * p->Wp * g->cin;
        if (p->padded || bf16) {
            gblk = workspace((size_t)np * elem_size(p));
            gxp = gblk->ptr;
        }
        for (;;) {
            conv_algo_list *c = &p->bwd_data;
            int k = conv_algo_take(c, "backward-data", p->shape);
            mem_block *ws = workspace(c->workspace[k]);
            cudnnStatus_t st = cudnnConvolutionBackwardData(vaec_cudnn(), &one, p->wd, w, p->yd, gyin, p->cd,
                                                            (cudnnConvolutionBwdDataAlgo_t)c->algo[k],
                                                            ws ? ws->ptr : NULL, c->workspace[k], &zero, p->xd, gxp);
            if (ws) mem_block_release(ws);
            if (try_next(c, st, "backward-data")) continue;
            CUDNN_CHECK(st, "conv backward (data)");
            break;
        }
        if (gblk) {   // the gradient of the zero border is dropped
            unsigned grid = cuda_blocks(nx, 256);
            if (bf16)
                crop_kernel<__nv_bfloat16><<<grid, 256, 0, vaec_stream()>>>((const __nv_bfloat16 *)gxp, gx, nx, g->T, g->H,
                                                                            g->W, g->cin, p->Tp, p->Hp, p->Wp, p->pre[0],
                                                                            p->pre[1], p->pre[2]);
            else
                crop_kernel<float><<<grid, 256, 0, vaec_stream()>>>((const float *)gxp, gx, nx, g->T, g->H, g->W, g->cin,
                                                                    p->Tp, p->Hp, p->Wp, p->pre[0], p->pre[1], p->pre[2]);
            CUDA_CHECK_LAUNCH("conv backward (crop)");
            mem_block_release(gblk);
        }
    }
    if (gw) {
        mem_block *xblk, *wblk = NULL;
        const void *xin = padded_input(p, g, x, &xblk);
        void *gwout = gw;
        if (bf16) {
            wblk = workspace((size_t)nw * sizeof(__nv_bfloat16));
            gwout = wblk->ptr;
        }
        for (;;) {
            conv_algo_list *c = &p->bwd_filter;
            int k = conv_algo_take(c, "backward-filter", p->shape);
            mem_block *ws = workspace(c->workspace[k]);
            cudnnStatus_t st = cudnnConvolutionBackwardFilter(vaec_cudnn(), &one, p->xd, xin, p->yd, gyin, p->cd,
                                                              (cudnnConvolutionBwdFilterAlgo_t)c->algo[k],
                                                              ws ? ws->ptr : NULL, c->workspace[k], &zero, p->wd, gwout);
            if (ws) mem_block_release(ws);
            if (try_next(c, st, "backward-filter")) continue;
            CUDNN_CHECK(st, "conv backward (filter)");
            break;
        }
        if (xblk) mem_block_release(xblk);
        if (wblk) {
            bf16_to_f32_cuda(wblk->ptr, gw, nw);
            mem_block_release(wblk);
        }
    }
    if (gyblk) mem_block_release(gyblk);
    if (gb) colsum_cuda(gy, rows, g->cout, gb);
}
