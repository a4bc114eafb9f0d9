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
 * The input gradient of a stride-1 conv can run as a forward conv of the output gradient with the weights
 * flipped and in/out swapped (conv_bwd_flip.h): oneDNN 2.6 has a brgemm kernel (brgconv) for the forward and
 * only its older jit one for backward data. VAEC_CONV_BWD_DATA picks per run, auto per geometry from the
 * kernels' names; the flipped weights are written per tap into the forward kernel's layout and kept like the
 * reordered ones.
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
#include "core/cpu/conv_bwd_flip.h"   // defines: conv_current_bwd_data_mode, CONV_BWD_DATA_*
#include "core/cpu/dnnl_util.h"       // defines: DNNL_CHECK, dnnl_run, dnnl_md_*
#include "core/cpu/prim_cache.h"      // defines: prim_cache_get, prim_cache_done
#include "core/cpu/weight_cache.h"    // defines: weight_cache_reordered, weight_reorder
#include "core/ops/conv.h"            // defines: conv_geom

typedef enum { KIND_FWD, KIND_BWD_DATA, KIND_BWD_WEIGHTS } conv_kind;

#define MAX_TAPS 27   /* kernel taps a conv may have to run backward data as a forward conv (3x3x3) */

typedef struct {
    int kind, has_bias, nthreads, spatial;
    int bwd_mode;           /* backward data: the conv_bwd_data_mode asked for (auto, direct, forward); else 0 */
    int flip_w;             /* forward of a backward data's flipped problem: takes the original conv's weights */
    int x_dt, w_dt, y_dt;   /* dnnl_data_type_t of x (src or diff_src), w (weights or diff_weights), y (dst or diff_dst) */
    int user_w_dt;          /* the dtype of the weights as handed over: w_dt, or bf16 for a float32 forward (the
                               widened bf16 path): the reorder into the kernel's layout widens them as well */
    int64_t n, c_in, c_out, d, h, w, kd, kh, kw, od, oh, ow;
    int stride[3], pad_l[3], pad_r[3];
} conv_key;

typedef struct {
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
    dnnl_memory_desc_t src, dst, user_w, bias;   /* vaec's layouts */
    dnnl_memory_desc_t lib_w;                    /* the layout the kernel wants */
    bool reorder_w;
    bool as_forward;   /* backward data that runs as the flipped forward conv (conv_bwd_flip.h): pd is that
                          forward's (kept for its name), prim and the reorder are not made */
    dnnl_primitive_desc_t rpd;                   /* user_w -> lib_w (fwd, bwd data) or back (bwd weights); flip_w: */
    dnnl_primitive_t rprim;                      /* one tap, tap_from -> tap_to */
    /* flip_w: the original weight's tap taps-1-t, in and out swapped by strides (tap_from), goes to tap t of
       lib_w (tap_to: tap 0's sub-memory), src_bytes[t] and dst_bytes[t] into them */
    int taps;
    bool padded;                                 /* lib_w has padding the taps do not write */
    dnnl_memory_desc_t tap_from, tap_to;
    int64_t src_bytes[MAX_TAPS], dst_bytes[MAX_TAPS];
} conv_prim;


/* the conv as oneDNN sees it: 2-D over B*T images where time plays no part, else 3-D */
static conv_key make_key(const conv_geom *g, conv_kind kind, bool has_bias, dnnl_data_type_t x_dt,
                         dnnl_data_type_t w_dt, dnnl_data_type_t y_dt) {
    conv_key k;
    memset(&k, 0, sizeof k);   /* the key is compared with memcmp: padding bytes zeroed */
    bool flat = g->kt == 1 && g->st == 1 && !g->pad[0] && !g->pad[1];
    k.kind = kind;
    k.has_bias = has_bias;
    k.x_dt = x_dt, k.w_dt = w_dt, k.y_dt = y_dt, k.user_w_dt = w_dt;
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
    if (kind == KIND_BWD_DATA) k.bwd_mode = (int)conv_current_bwd_data_mode();
    return k;
}

/* the forward conv (dy in, dx out) that gives backward-data key k's result (conv_bwd_flip.h); false where k
   has a stride above 1 or a pad above K-1. Flattened 2-D keys stay 2-D: no time kernel, no time pad. */
static bool flipped_forward_key(const conv_key *k, conv_key *f) {
    const int64_t ks[3] = {k->kd, k->kh, k->kw};
    if (k->kd * k->kh * k->kw > MAX_TAPS) return false;
    for (int i = 0; i < 3; i++)
        if (k->stride[i] != 1 || k->pad_l[i] > ks[i] - 1 || k->pad_r[i] > ks[i] - 1) return false;
    *f = *k;
    f->kind = KIND_FWD, f->bwd_mode = 0, f->has_bias = 0, f->flip_w = 1;
    f->x_dt = k->y_dt, f->y_dt = k->x_dt;   /* dy in its dtype in, float32 dx out */
    f->c_in = k->c_out, f->c_out = k->c_in;
    f->d = k->od, f->h = k->oh, f->w = k->ow;
    f->od = k->d, f->oh = k->h, f->ow = k->w;
    for (int i = 0; i < 3; i++) f->pad_l[i] = (int)(ks[i] - 1 - k->pad_l[i]), f->pad_r[i] = (int)(ks[i] - 1 - k->pad_r[i]);
    return true;
}

/* the strides and pads of key k as oneDNN's 2-D or 3-D arrays */
static void key_dims(const conv_key *k, dnnl_dims_t strides, dnnl_dims_t pl, dnnl_dims_t pr) {
    const int off = k->spatial == 2 ? 1 : 0;   /* 2-D descriptors drop the time entries */
    for (int i = 0; i < k->spatial; i++)
        strides[i] = k->stride[i + off], pl[i] = k->pad_l[i + off], pr[i] = k->pad_r[i + off];
}

/* the forward primitive descriptor oneDNN picks for key k (weights in the layout it likes) */
static dnnl_primitive_desc_t forward_pd(const conv_key *k, dnnl_prop_kind_t prop, dnnl_primitive_attr_t attr,
                                        const dnnl_memory_desc_t *bias) {
    dnnl_memory_desc_t src, dst, w;
    dnnl_dims_t strides, pl, pr, wdims;
    key_dims(k, strides, pl, pr);
    dnnl_md_activation(&src, k->x_dt, k->spatial, k->n, k->c_in, k->d, k->h, k->w);
    dnnl_md_activation(&dst, k->y_dt, k->spatial, k->n, k->c_out, k->od, k->oh, k->ow);
    dnnl_md_conv_weight(&w, k->w_dt, k->spatial, k->c_out, k->c_in, k->kd, k->kh, k->kw);
    memcpy(wdims, w.dims, sizeof wdims);
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&w, w.ndims, wdims, k->w_dt, dnnl_format_tag_any), "weights");
    dnnl_convolution_desc_t d;
    DNNL_CHECK(dnnl_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &src, &w, bias, &dst, strides, pl, pr),
               "conv forward descriptor");
    dnnl_primitive_desc_t pd;
    DNNL_CHECK(dnnl_primitive_desc_create(&pd, &d, attr, dnnl_cpu_engine(), NULL), "conv forward");
    return pd;
}

static bool is_brgemm(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name);
    return name && strstr(name, "brg");
}

/* backward data key k runs as the flipped forward: asked for, or (auto, float32) where oneDNN's backward-data
   kernel is not a brgemm one and the flipped forward's is (oneDNN 2.6 on AVX-512: jit against brgconv, 5-19%
   faster, docs/performance.md). bf16 stays direct in auto: there the two were a tie, each ahead on some shapes.
   Returns the flipped forward's descriptor then (its weights layout and name), else NULL. */
static dnnl_primitive_desc_t choose_as_forward(const conv_key *k, const_dnnl_primitive_desc_t direct,
                                               dnnl_primitive_attr_t attr) {
    conv_key f;
    if (k->bwd_mode == CONV_BWD_DATA_DIRECT || (k->bwd_mode == CONV_BWD_DATA_AUTO && k->w_dt != dnnl_f32) ||
        !flipped_forward_key(k, &f))
        return NULL;
    dnnl_primitive_desc_t pd = forward_pd(&f, dnnl_forward_inference, attr, NULL);
    if (k->bwd_mode == CONV_BWD_DATA_FORWARD || (!is_brgemm(direct) && is_brgemm(pd))) return pd;
    dnnl_primitive_desc_destroy(pd);
    return NULL;
}

static void create_reorder(conv_prim *e, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to) {
    e->reorder_w = !dnnl_memory_desc_equal(from, to);
    if (!e->reorder_w) return;
    dnnl_engine_t eng = dnnl_cpu_engine();
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&e->rpd, from, eng, to, eng, NULL), "weight reorder");
    DNNL_CHECK(dnnl_primitive_create(&e->rprim, e->rpd), "weight reorder");
}

/* e's weight copy made from the original conv's weight (co, taps, ci), one reorder run per tap: tap t of the
   flipped weight (ci, taps, co) is tap taps-1-t of the original with in and out swapped, which strides express
   (oneDNN has no negative strides for the flip itself) */
static void create_tap_reorder(conv_prim *e, const conv_key *k) {
    const int sp = k->spatial, nd = e->lib_w.ndims;
    const int64_t taps = k->kd * k->kh * k->kw, ci = k->c_out, co = k->c_in;   /* the original conv's */
    const size_t elem = k->w_dt == dnnl_f32 ? 4 : 2;
    dnnl_dims_t dims = {ci, co, 1, 1, 1}, strides = {1, taps * ci, taps * ci * co, taps * ci * co, taps * ci * co};
    dnnl_dims_t zero = {0};
    DNNL_CHECK(dnnl_memory_desc_init_by_strides(&e->tap_from, nd, dims, k->w_dt, strides), "flipped weight tap");
    DNNL_CHECK(dnnl_memory_desc_init_submemory(&e->tap_to, &e->lib_w, dims, zero), "flipped weight tap");
    e->taps = (int)taps;
    for (int64_t t = 0; t < taps; t++) {
        dnnl_dims_t at = {0, 0, 0, 0, 0};
        const int64_t d = t / (k->kh * k->kw), h = t / k->kw % k->kh, w = t % k->kw;
        if (sp == 3) at[2] = d, at[3] = h, at[4] = w;
        else at[2] = h, at[3] = w;
        dnnl_memory_desc_t sub;
        DNNL_CHECK(dnnl_memory_desc_init_submemory(&sub, &e->lib_w, dims, at), "flipped weight tap");
        e->src_bytes[t] = (taps - 1 - t) * ci * (int64_t)elem;
        e->dst_bytes[t] = (sub.offset0 - e->tap_to.offset0) * (int64_t)elem;
    }
    e->padded = false;
    for (int i = 0; i < nd; i++) e->padded |= e->lib_w.padded_dims[i] != e->lib_w.dims[i];
    e->reorder_w = true;
    dnnl_engine_t eng = dnnl_cpu_engine();
    dnnl_primitive_attr_t attr = dnnl_attr_user_scratchpad();   /* taps run side by side: a scratchpad each */
    DNNL_CHECK(dnnl_reorder_primitive_desc_create(&e->rpd, &e->tap_from, eng, &e->tap_to, eng, attr), "flipped weight reorder");
    dnnl_primitive_attr_destroy(attr);
    DNNL_CHECK(dnnl_primitive_create(&e->rprim, e->rpd), "flipped weight reorder");
}

static void build(conv_prim *e, const conv_key *k) {
    dnnl_dims_t strides, pl, pr;
    key_dims(k, strides, pl, pr);
    const int sp = k->spatial;
    const dnnl_data_type_t xdt = k->x_dt, wdt = k->w_dt, ydt = k->y_dt;
    dnnl_md_activation(&e->src, xdt, sp, k->n, k->c_in, k->d, k->h, k->w);
    dnnl_md_activation(&e->dst, ydt, sp, k->n, k->c_out, k->od, k->oh, k->ow);
    dnnl_md_conv_weight(&e->user_w, k->user_w_dt, sp, k->c_out, k->c_in, k->kd, k->kh, k->kw);
    dnnl_md_vector(&e->bias, k->kind == KIND_FWD ? ydt : dnnl_f32, k->c_out);   /* the bias gradient is float32 */
    e->as_forward = false;
    e->prim = NULL;
    dnnl_memory_desc_t any_w;
    dnnl_dims_t wdims;
    memcpy(wdims, e->user_w.dims, sizeof wdims);
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&any_w, e->user_w.ndims, wdims, wdt, dnnl_format_tag_any), "weights");
    dnnl_primitive_attr_t attr = dnnl_attr_user_scratchpad();
    if (k->kind == KIND_FWD) {
        e->pd = forward_pd(k, dnnl_forward_inference, attr, k->has_bias ? &e->bias : NULL);
        e->lib_w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
        if (k->flip_w)
            create_tap_reorder(e, k);
        else
            create_reorder(e, &e->user_w, &e->lib_w);
    } else {
        /* backward primitives are chosen to match a forward one, in the dtype of the output gradient (a bf16
           conv's forward ran all in bf16) */
        conv_key hk = *k;
        hk.x_dt = hk.w_dt = hk.y_dt = ydt;
        dnnl_primitive_desc_t hint = forward_pd(&hk, dnnl_forward_training, NULL, k->has_bias ? &e->bias : NULL);
        dnnl_engine_t eng = dnnl_cpu_engine();
        dnnl_convolution_desc_t bwd;
        if (k->kind == KIND_BWD_DATA) {
            DNNL_CHECK(dnnl_convolution_backward_data_desc_init(&bwd, dnnl_convolution_direct, &e->src, &any_w, &e->dst,
                                                                strides, pl, pr),
                       "conv backward-data descriptor");
            DNNL_CHECK(dnnl_primitive_desc_create(&e->pd, &bwd, attr, eng, hint), "conv backward data");
            dnnl_primitive_desc_t fwd = choose_as_forward(k, e->pd, attr);
            if (fwd) {   /* the flipped forward runs from its own cache entry: keep only its name here */
                dnnl_primitive_desc_destroy(e->pd);
                e->pd = fwd;
                e->as_forward = true;
                e->reorder_w = false;
            } else {
                e->lib_w = *dnnl_primitive_desc_query_md(e->pd, dnnl_query_weights_md, 0);
                create_reorder(e, &e->user_w, &e->lib_w);
            }
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
    if (!e->as_forward) DNNL_CHECK(dnnl_primitive_create(&e->prim, e->pd), "conv primitive");
}

static void release(conv_prim *e) {
    if (e->prim) dnnl_primitive_destroy(e->prim);
    dnnl_primitive_desc_destroy(e->pd);
    if (e->reorder_w) {
        dnnl_primitive_destroy(e->rprim);
        dnnl_primitive_desc_destroy(e->rpd);
    }
}

/* distinct conv shapes x kinds x dtypes x thread counts of a training step fit */
static prim_cache cache = PRIM_CACHE_INIT(conv_key, conv_prim, 512, build, release);

/* the weights in the kernel's layout: w itself, or a reordered copy (kept between calls while the float32
   weights keep their version: weight_cache.h) held in *blk; a flip_w entry's copy is the flipped weights */
static const void *weights_for_kernel(conv_prim *e, bool flip_w, const void *w, uint64_t version, mem_block **blk) {
    *blk = NULL;
    if (!e->reorder_w) return w;
    weight_reorder r = {e->rprim, e->rpd, &e->user_w, &e->lib_w, 1, NULL, NULL, false};
    if (flip_w) r = (weight_reorder){e->rprim, e->rpd, &e->tap_from, &e->tap_to, e->taps, e->src_bytes, e->dst_bytes, e->padded};
    return weight_cache_reordered(w, version, &e->lib_w, flip_w, &r, blk);
}

/* the forward conv of key k (b may be NULL; flip_w keys: w is the original conv's weight) */
static void run_forward(const conv_key *k, const void *x, const void *w, uint64_t version, const void *b, void *y) {
    conv_prim *e = prim_cache_get(&cache, k);
    mem_block *wb;
    const void *wk = weights_for_kernel(e, k->flip_w, w, version, &wb);
    dnnl_arg a[4] = {{DNNL_ARG_SRC, &e->src, x}, {DNNL_ARG_WEIGHTS, &e->lib_w, wk}, {DNNL_ARG_DST, &e->dst, y},
                     {DNNL_ARG_BIAS, &e->bias, b}};
    dnnl_run(e->prim, e->pd, b ? 4 : 3, a, "conv forward");
    mem_block_release(wb);
    prim_cache_done(&cache);
}

/* g->w_version: the version of w's own storage, or 0 (a temporary, as a float32 weight rounded for a bf16 conv) */
static void forward(const conv_geom *g, dnnl_data_type_t dt, const void *x, const void *w, const void *b, void *y) {
    conv_key k = make_key(g, KIND_FWD, b != NULL, dt, dt, dt);
    run_forward(&k, x, w, g->w_version, b, y);
}

/* gx (float32) from w and gy in dt: oneDNN's backward-data kernel, or a forward conv of gy with the flipped
   weights where that is faster (build: choose_as_forward) */
static void backward_data(const conv_geom *g, dnnl_data_type_t dt, const void *w, const void *gy, float *gx) {
    conv_key k = make_key(g, KIND_BWD_DATA, false, dnnl_f32, dt, dt);
    const uint64_t version = g->w_version;
    conv_prim *e = prim_cache_get(&cache, &k);
    if (e->as_forward) {
        prim_cache_done(&cache);   /* the forward's entry is taken next: the cache's lock is not recursive */
        conv_key f;
        flipped_forward_key(&k, &f);
        run_forward(&f, gy, w, version, NULL, gx);
        return;
    }
    mem_block *wb;
    const void *wk = weights_for_kernel(e, false, w, version, &wb);
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

void conv_dnnl_forward_f32_bf16_weights(const conv_geom *g, const float *x, const uint16_t *w, const float *b, float *y) {
    conv_key k = make_key(g, KIND_FWD, b != NULL, dnnl_f32, dnnl_f32, dnnl_f32);
    k.user_w_dt = dnnl_bf16;
    run_forward(&k, x, w, g->w_version, b, y);
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

bool conv_dnnl_bwd_data_as_forward(const conv_geom *g, bool bf16) {
    const dnnl_data_type_t dt = bf16 ? dnnl_bf16 : dnnl_f32;
    conv_key k = make_key(g, KIND_BWD_DATA, false, dnnl_f32, dt, dt);
    conv_prim *e = prim_cache_get(&cache, &k);
    const bool as_forward = e->as_forward;
    prim_cache_done(&cache);
    return as_forward;
}
