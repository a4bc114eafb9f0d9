/* conv_dnnl.c: 2-D and 3-D convolution forward, input gradient and weight (+ bias) gradient through
 * oneDNN, on vaec's channels-last tensors in place.
 *
 * Activations go to oneDNN as nhwc / ndhwc with vaec's own pointers: no copy in or out. Per-side pads map
 * to oneDNN's padding_l / padding_r, so CausalConv3d's front-only time pad and Downsample2D's (0,1,0,1)
 * run as they are. Weights are handed over as ohwi / odhwi and reordered into the layout oneDNN's kernel
 * wants; the reordered copy is kept while the weights are unchanged (weight_cache.h: PyTorch's mkldnn path
 * reorders every call). The weight gradient comes back through a reorder too.
 * A conv with one frame in and out and no time pad (every conv2d, and 1x1x1 temporal convs) runs as a
 * 2-D conv over B*T images: oneDNN's 2-D kernels are its best tuned.
 *
 * bf16 convs (conv_dnnl_*_bf16; CPUs with avx512_core, see bf16_cpu.h) hand oneDNN bf16 x, w, b and y
 * and take float32 gradients back from bf16 operands: its bf16 kernels accumulate in float32.
 *
 * Primitives are kept in a small cache keyed by the geometry, the dtypes and the thread count, so a
 * training step pays for oneDNN's kernel selection and JIT once per shape. Scratch memory (oneDNN's
 * scratchpad and the reordered weights) comes from vaec's allocator, tagged workspace, so the memory
 * report counts it. */
#include <omp.h>
#include <string.h>
#include "core/cpu/cpu.h"
#include "core/cpu/prim_cache.h"  // defines: prim_cache_get, prim_cache_done
#include "core/cpu/dnnl_util.h"   // defines: DNNL_CHECK, dnnl_run, dnnl_md_*
#include "core/cpu/weight_cache.h"   // defines: weight_cache_reordered
#include "core/ops/conv.h"        // defines: conv_geom

typedef enum { KIND_FWD, KIND_BWD_DATA, KIND_BWD_WEIGHTS } conv_kind;

typedef struct {
    int kind, has_bias, nthreads, spatial;
    int x_dt, w_dt, y_dt;   /* dnnl_data_type_t of x (src or diff_src), w (weights or diff_weights), y (dst or diff_dst) */
    int64_t n, c_in, c_out, d, h, w, kd, kh, kw, od, oh, ow;
    int stride[3], pad_l[3], pad_r[3];
} conv_key;

typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src, dst, user_w, bias;   /* vaec's layouts */
    dnnl_memory_desc_t lib_w;                    /* the layout the kernel wants */
    bool reorder_w;
    dnnl_primitive_desc_t rpd;                   /* user_w -> lib_w (fwd, bwd data) or back (bwd weights) */
    dnnl_primitive_t rprim;
} conv_prim;


/* the conv as oneDNN sees it: 2-D over B*T images where time plays no part, else 3-D */
static conv_key make_key(const conv_geom *g, conv_kind kind, bool has_bias, dnnl_data_type_t x_dt,
                         dnnl_data_type_t w_dt, dnnl_data_type_t y_dt) {
    conv_key k;
    memset(&k, 0, sizeof k);   /* the key is compared with memcmp: padding bytes zeroed */
    bool flat = g->kt == 1 && g->st == 1 && !g->pad[0] && !g->pad[1];
    k.kind = kind;
    k.has_bias = has_bias;
    k.x_dt = x_dt, k.w_dt = w_dt, k.y_dt = y_dt;
    k.nthreads = omp_get_max_threads();
    k.spatial = flat ? 2 : 3;
    k.n = flat ? g->B * g->T : g->B;
    k.d = flat ? 1 : g->T;
    k.od = flat ? 1 : g->To;
    k.kd = g->kt;
    k.c_in = g->cin, k.c_out = g->cout, k.h = g->H, k.w = g->W, k.kh = g->kh, k.kw = g->kw;
    k.oh = g->Ho, k.ow = g->Wo;
    k.stride[0] = g->st, k.stride[1] = g->sh, k.stride[2] = g->sw;
    for (int i = 0; i < 3; i++) k.pad_l[i] = g->pad[2 * i], k.pad_r[i] = g->pad[2 * i + 1];
    return k;
}

static void create_reorder(conv_prim *e, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
    e->reorder_w = !dnnl_memory_desc_equal(from, to);
    if (!e->reorder_w) return;
    dnnl_engine_t eng = dnnl_cpu_engine();
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&e->rpd, from, eng, to, eng, NULL), "weight reorder");
    DNNL_CHECK(dnnl_primitive_create(&e->rprim, e->rpd), "weight reorder");
}

static void build(conv_prim *e, const conv_key *k) {
    const int sp = k->spatial, off = sp == 2 ? 1 : 0;   /* 2-D descriptors drop the time entries */
    dnnl_dims_t strides, pl, pr;
    for (int i = 0; i < sp; i++) strides[i] = k->stride[i + off], pl[i] = k->pad_l[i + off], pr[i] = k->pad_r[i + off];
    const dnnl_data_type_t xdt = k->x_dt, wdt = k->w_dt, ydt = k->y_dt;
    dnnl_md_activation(&e->src, xdt, sp, k->n, k->c_in, k->d, k->h, k->w);
    dnnl_md_activation(&e->dst, ydt, sp, k->n, k->c_out, k->od, k->oh, k->ow);
    dnnl_md_conv_weight(&e->user_w, wdt, sp, k->c_out, k->c_in, k->kd, k->kh, k->kw);
    dnnl_md_vector(&e->bias, k->kind == KIND_FWD ? ydt : dnnl_f32, k->c_out);   /* the bias gradient is float32 */
    dnnl_memory_desc_t any_w;
    dnnl_dims_t wdims;
    memcpy(wdims, e->user_w.dims, sizeof wdims);
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&any_w, e->user_w.ndims, wdims, wdt, dnnl_format_tag_any), "weights");
    dnnl_engine_t eng = dnnl_cpu_engine();
    dnnl_primitive_attr_t attr = dnnl_attr_user_scratchpad();
    dnnl_convolution_desc_t fwd;
    if (k->kind == KIND_FWD) {
        DNNL_CHECK(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_inference, dnnl_convolution_direct, &e->src, &any_w,
                                                      k->has_bias ? &e->bias : NULL, &e->dst, strides, pl, pr),
                   "conv forward descriptor");
        DNNL_CHECK(dnnl_primitive_desc_create(&e->pd, &fwd, attr, eng, NULL), "conv forward");
        e->lib_w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
        create_reorder(e, &e->user_w, &e->lib_w);
    } else {
        /* backward primitives are chosen to match a forward one, in the dtype of the output gradient (a bf16
           conv's forward ran all in bf16) */
        dnnl_memory_desc_t hsrc, hdst, hw;
        dnnl_md_activation(&hsrc, ydt, sp, k->n, k->c_in, k->d, k->h, k->w);
        dnnl_md_activation(&hdst, ydt, sp, k->n, k->c_out, k->od, k->oh, k->ow);
        DNNL_CHECK(dnnl_memory_desc_init_by_tag(&hw, e->user_w.ndims, wdims, ydt, dnnl_format_tag_any), "weights");
        DNNL_CHECK(dnnl_convolution_forward_desc_init(&fwd, dnnl_forward_training, dnnl_convolution_direct, &hsrc, &hw,
                                                      k->has_bias ? &e->bias : NULL, &hdst, strides, pl, pr),
                   "conv forward descriptor (hint)");
        dnnl_primitive_desc_t hint;
        DNNL_CHECK(dnnl_primitive_desc_create(&hint, &fwd, NULL, eng, NULL), "conv forward (hint)");
        dnnl_convolution_desc_t bwd;
        if (k->kind == KIND_BWD_DATA) {
            DNNL_CHECK(dnnl_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct, &e->src, &any_w, &e->dst,
                                                                strides, pl, pr),
                       "conv backward-data descriptor");
            DNNL_CHECK(dnnl_primitive_desc_create(&e->pd, &bwd, attr, eng, hint), "conv backward data");
            e->lib_w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
            create_reorder(e, &e->user_w, &e->lib_w);
        } else {
            DNNL_CHECK(dnnl_convolution_backward_weights_desc_init(&bwd, dnnl_convolution_direct, &e->src, &any_w,
                                                                   k->has_bias ? &e->bias : NULL, &e->dst, strides, pl, pr),
                       "conv backward-weights descriptor");
            DNNL_CHECK(dnnl_primitive_desc_create(&e->pd, &bwd, attr, eng, hint), "conv backward weights");
            e->lib_w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_diff_weights_md, 0);
            create_reorder(e, &e->lib_w, &e->user_w);
        }
        dnnl_primitive_desc_destroy(hint);
    }
    dnnl_primitive_attr_destroy(attr);
    DNNL_CHECK(dnnl_primitive_create(&e->prim, e->pd), "conv primitive");
}

static void release(conv_prim *e) {
    dnnl_primitive_destroy(e->prim);
    dnnl_primitive_desc_destroy(e->pd);
    if (e->reorder_w) {
        dnnl_primitive_destroy(e->rprim);
        dnnl_primitive_desc_destroy(e->rpd);
    }
}

/* distinct conv shapes x kinds x dtypes x thread counts of a training step fit */
static prim_cache cache = PRIM_CACHE_INIT(conv_key, conv_prim, 512, build, release);

/* the weights in the kernel's layout: w itself, or a reordered copy (kept between calls while the float32
   weights keep their version: weight_cache.h) held in *blk */
static const void *weights_for_kernel(conv_prim *e, const void *w, uint64_t version, mem_block **blk) {
    *blk = NULL;
    if (!e->reorder_w) return w;
    return weight_cache_reordered(w, version, &e->user_w, &e->lib_w, e->rprim, e->rpd, blk);
}

static void forward(const conv_geom *g, dnnl_data_type_t dt, const void *x, const void *w, const void *b, void *y) {
    conv_key k = make_key(g, KIND_FWD, b != NULL, dt, dt, dt);
    conv_prim *e = prim_cache_get(&cache, &k);
    mem_block *wb;
    const void *wk = weights_for_kernel(e, w, dt == dnnl_f32 ? g->w_version : 0, &wb);
    dnnl_arg a[4] = {{DNNL_ARG_SRC, &e->src, x}, {DNNL_ARG_WEIGHTS, &e->lib_w, wk}, {DNNL_ARG_DST, &e->dst, y},
                     {DNNL_ARG_BIAS, &e->bias, b}};
    dnnl_run(e->prim, e->pd, b ? 4 : 3, a, "conv forward");
    mem_block_release(wb);
    prim_cache_done(&cache);
}

/* gx (float32) from w and gy in dt */
static void backward_data(const conv_geom *g, dnnl_data_type_t dt, const void *w, const void *gy, float *gx) {
    conv_key k = make_key(g, KIND_BWD_DATA, false, dnnl_f32, dt, dt);
    conv_prim *e = prim_cache_get(&cache, &k);
    mem_block *wb;
    const void *wk = weights_for_kernel(e, w, dt == dnnl_f32 ? g->w_version : 0, &wb);
    dnnl_arg a[3] = {{DNNL_ARG_DIFF_DST, &e->dst, gy}, {DNNL_ARG_WEIGHTS, &e->lib_w, wk}, {DNNL_ARG_DIFF_SRC, &e->src, gx}};
    dnnl_run(e->prim, e->pd, 3, a, "conv backward data");
    mem_block_release(wb);
    prim_cache_done(&cache);
}

/* gw and gb (float32; gb may be NULL) from x and gy in dt */
static void backward_weights(const conv_geom *g, dnnl_data_type_t dt, const void *x, const void *gy, float *gw, float *gb) {
    conv_key k = make_key(g, KIND_BWD_WEIGHTS, gb != NULL, dt, dnnl_f32, dt);
    conv_prim *e = prim_cache_get(&cache, &k);
    mem_block *wb = e->reorder_w ? mem_alloc_tagged(dnnl_memory_desc_get_size(&e->lib_w), DEVICE_CPU, MEM_WORKSPACE) : NULL;
    dnnl_arg a[4] = {{DNNL_ARG_SRC, &e->src, x}, {DNNL_ARG_DIFF_DST, &e->dst, gy},
                     {DNNL_ARG_DIFF_WEIGHTS, &e->lib_w, wb ? wb->ptr : gw}, {DNNL_ARG_DIFF_BIAS, &e->bias, gb}};
    dnnl_run(e->prim, e->pd, gb ? 4 : 3, a, "conv backward weights");
    if (wb) {
        dnnl_arg r[2] = {{DNNL_ARG_FROM, &e->lib_w, wb->ptr}, {DNNL_ARG_TO, &e->user_w, gw}};
        dnnl_run(e->rprim, e->rpd, 2, r, "weight-gradient reorder");
        mem_block_release(wb);
    }
    prim_cache_done(&cache);
}

void conv_dnnl_forward(const conv_geom *g, const float *x, const float *w, const float *b, float *y) {
    forward(g, dnnl_f32, x, w, b, y);
}

void conv_dnnl_backward_data(const conv_geom *g, const float *w, const float *gy, float *gx) {
    backward_data(g, dnnl_f32, w, gy, gx);
}

void conv_dnnl_backward_weights(const conv_geom *g, const float *x, const float *gy, float *gw, float *gb) {
    backward_weights(g, dnnl_f32, x, gy, gw, gb);
}

void conv_dnnl_forward_bf16(const conv_geom *g, const uint16_t *x, const uint16_t *w, const uint16_t *b, uint16_t *y) {
    forward(g, dnnl_bf16, x, w, b, y);
}

void conv_dnnl_backward_data_bf16(const conv_geom *g, const uint16_t *w, const uint16_t *gy, float *gx) {
    backward_data(g, dnnl_bf16, w, gy, gx);
}

void conv_dnnl_backward_weights_bf16(const conv_geom *g, const uint16_t *x, const uint16_t *gy, float *gw) {
    backward_weights(g, dnnl_bf16, x, gy, gw, NULL);
}

const char *conv_dnnl_impl_name(const conv_geom *g, int kind, bool bf16) {
    const dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    conv_key k = make_key(g, (conv_kind)kind, false, kind == KIND_BWD_DATA ? dnnl_f32 : dt,
                          kind == KIND_BWD_WEIGHTS ? dnnl_f32 : dt, dt);
    conv_prim *e = prim_cache_get(&cache, &k);
    const char *name = NULL;
    dnnl_primitive_desc_query(e->pd, dnnl_query_impl_info_str, 0, &name);
    prim_cache_done(&cache);
    return name ? name : "?";
}
