/* test_conv_weight_cache.c: oneDNN's reordered conv weights kept between calls (core/cpu/weight_cache.h)
 * change no bit of any result, and a weight written between calls (optimizer step, in-place write,
 * tensor_copy_) is never served from a copy of its old values, nor is the input gradient run as a forward conv
 * on flipped weights (conv_bwd_flip.h) from a flipped copy of them; a freed weight takes its copies along; a
 * weight that is not a model parameter is never cached; a bf16 weight on the widened bf16 path is widened by the
 * reorder and kept the same way. */
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_backward, ag_zero_grad
#include "core/cpu/bf16_cpu.h"        // defines: bf16_cpu_force
#include "core/cpu/conv_bwd_flip.h"    // defines: conv_set_bwd_data_mode
#include "core/ops/cast.h"             // defines: tensor_cast, tensor_cast_
#include "core/cpu/weight_cache.h"     // defines: weight_cache_set_limit, weight_cache_get_stats
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d, op_sum_all, op_mul
#include "optim/adamw.h"               // defines: adamw_new, adamw_step
#include "tests/harness/gradcheck.h"   // defines: gc_input
#include "tests/harness/test.h"

static const conv2d_args c2 = {.stride = {1, 1}, .pad = {1, 1, 1, 1}};
static const conv3d_args c3 = {.stride = {1, 1, 1}, .pad = {2, 0, 1, 1, 1, 1}};

/* y = conv(x, w, b); with grads: x, w, b gradients of sum(y * r) */
static tensor *conv(tensor *x, tensor *w, tensor *b) {
    return x->ndim == 4 ? op_conv2d(x, w, b, &c2) : op_conv3d(x, w, b, &c3);
}

static bool same_bits(const tensor *a, const tensor *b) {
    return a && b && a->numel == b->numel && !memcmp(a->data, b->data, (size_t)a->numel * sizeof(float));
}

/* forward (clone) and backward (w's gradient, clone) three times, as micro-batches of a frozen or trained VAE */
static void run3(tensor *x, tensor *w, tensor *b, tensor *y[3], tensor *gw[3]) {
    for (int i = 0; i < 3; i++) {
        tensor_scope_begin();
        tensor *out = conv(x, w, b);
        y[i] = tensor_clone(out);
        tensor *r = gc_input(out->ndim, out->shape, 5);
        r->requires_grad = false;
        ag_backward(op_sum_all(op_mul(out, r)));
        tensor_release(r);
        gw[i] = tensor_clone(w->grad);
        tensor *ps[3] = {x, w, b};
        ag_zero_grad(ps, 3);
        tensor_scope_end(NULL);
    }
}

/* model weights: the cache keeps copies of parameters only (core/ops/conv.c) */
static tensor *param(int ndim, const int64_t *shape, uint64_t seed) {
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *t = gc_input(ndim, shape, seed);
    mem_set_tag(prev);
    return t;
}

static void check_case(const char *name, int ndim) {
    tensor *x = ndim == 4 ? gc_input(SHAPE(2, 12, 10, 32), 1) : gc_input(SHAPE(1, 5, 8, 6, 32), 1);
    tensor *w = ndim == 4 ? param(SHAPE(48, 3, 3, 32), 2) : param(SHAPE(48, 3, 3, 3, 32), 2);
    tensor *b = param(SHAPE(48), 3);
    tensor *y0[3], *g0[3], *y1[3], *g1[3];
    conv_set_algorithm(CONV_ALGO_DNNL);
    weight_cache_set_limit(0);
    weight_cache_stats start;   /* other tests' parameters may still be alive: compare with this */
    weight_cache_get_stats(&start);
    run3(x, w, b, y0, g0);
    weight_cache_set_limit((size_t)64 << 20);
    weight_cache_stats before, after;
    weight_cache_get_stats(&before);
    run3(x, w, b, y1, g1);
    weight_cache_get_stats(&after);
    EXPECT(after.hits > before.hits, "%s: the cache served no call (hits %llu -> %llu)", name,
           (unsigned long long)before.hits, (unsigned long long)after.hits);
    for (int i = 0; i < 3; i++) {
        EXPECT(same_bits(y0[i], y1[i]), "%s: forward %d differs with the cache", name, i);
        EXPECT(same_bits(g0[i], g1[i]), "%s: weight gradient %d differs with the cache", name, i);
        tensor_release(y0[i]), tensor_release(g0[i]), tensor_release(y1[i]), tensor_release(g1[i]);
    }
    tensor_release(x), tensor_release(w), tensor_release(b);
    weight_cache_get_stats(&after);
    EXPECT(after.bytes == start.bytes && after.entries == start.entries,
           "%s: the freed weight left %zu bytes in %d entries (%zu and %d before it)", name, after.bytes, after.entries,
           start.bytes, start.entries);
    conv_set_algorithm(CONV_ALGO_AUTO);
}

TEST(test_conv_weight_cache_skips_non_parameters) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    weight_cache_set_limit((size_t)64 << 20);
    tensor *x = gc_input(SHAPE(1, 8, 8, 16), 1), *w = gc_input(SHAPE(16, 3, 3, 16), 2);
    bool prev = ag_set_grad_enabled(false);
    weight_cache_stats a, b;
    weight_cache_get_stats(&a);
    for (int i = 0; i < 3; i++) {
        tensor_scope_begin();
        conv(x, w, NULL);
        tensor_scope_end(NULL);
    }
    weight_cache_get_stats(&b);
    EXPECT(b.hits == a.hits && b.bytes == 0, "an activation-tagged weight was cached (%zu bytes)", b.bytes);
    ag_set_grad_enabled(prev);
    tensor_release(x), tensor_release(w);
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* a limit smaller than one copy: nothing kept, nothing served, the same results */
TEST(test_conv_weight_cache_limit_holds) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    weight_cache_set_limit(1024);
    tensor *x = gc_input(SHAPE(1, 8, 8, 32), 1), *w = param(SHAPE(32, 3, 3, 32), 2);
    bool prev = ag_set_grad_enabled(false);
    weight_cache_stats a, b;
    weight_cache_get_stats(&a);
    tensor_scope_begin();
    tensor *y0 = conv(x, w, NULL), *y1 = conv(x, w, NULL), *y2 = conv(x, w, NULL);
    weight_cache_get_stats(&b);
    EXPECT(b.hits == a.hits && b.bytes == 0, "a 1 KiB cache kept %zu bytes and served %llu calls", b.bytes,
           (unsigned long long)(b.hits - a.hits));
    EXPECT(same_bits(y0, y1) && same_bits(y0, y2), "the results differ from call to call");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x), tensor_release(w);
    weight_cache_set_limit((size_t)64 << 20);
    conv_set_algorithm(CONV_ALGO_AUTO);
}

TEST(test_conv_weight_cache_same_bits) {
    check_case("conv2d", 4);
    check_case("conv3d", 5);
}

/* the forwards after a write equal a forward on a fresh copy of the written weights (a new block: nothing cached);
   the cache is left as it is, so the next write finds a copy of the old values there */
static void expect_fresh(const char *when, tensor *x, tensor *w) {
    tensor_scope_begin();
    ag_set_grad_enabled(false);
    tensor *cached = tensor_clone(conv(x, w, NULL));
    tensor *cached2 = tensor_clone(conv(x, w, NULL));
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *w_fresh = tensor_clone(w);
    mem_set_tag(prev);
    tensor *plain = tensor_clone(conv(x, w_fresh, NULL));
    tensor_release(w_fresh);
    ag_set_grad_enabled(true);
    EXPECT(same_bits(cached, plain) && same_bits(cached2, plain), "after %s: the conv used stale weights", when);
    tensor_release(cached), tensor_release(cached2), tensor_release(plain);
    tensor_scope_end(NULL);
}

/* every way a weight is written between calls, `check` after each: AdamW steps, an in-place write through
   tensor_f32, tensor_copy_, taking a pointer, a write through a kept pointer marked by its writer */
static void write_every_way(tensor *x, tensor *w, void (*check)(const char *when, tensor *x, tensor *w)) {
    adamw *opt = adamw_new(&w, 1, (adamw_config){.lr = 0.1f});
    for (int step = 0; step < 2; step++) {
        tensor_scope_begin();
        ag_backward(op_sum_all(conv(x, w, NULL)));
        tensor_scope_end(NULL);
        adamw_step(opt);
        tensor *ps[2] = {x, w};
        ag_zero_grad(ps, 2);
        check("an AdamW step", x, w);
    }
    tensor_f32(w)[7] += 1.0f;
    check("an in-place write through tensor_f32", x, w);
    tensor *other = param(w->ndim, w->shape, 9);
    tensor_copy_(w, other);
    check("tensor_copy_", x, w);
    float *held = tensor_f32(w);   /* a pointer kept across convs: its writer marks each write */
    check("taking a pointer", x, w);
    held[3] -= 2.0f;
    tensor_mark_written(w);
    check("a write through a kept pointer", x, w);
    adamw_free(opt);
    tensor_release(other);
}

TEST(test_conv_weight_cache_never_stale) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    weight_cache_set_limit((size_t)64 << 20);
    tensor *x = gc_input(SHAPE(2, 12, 10, 32), 1);
    tensor *w = param(SHAPE(48, 3, 3, 32), 2);
    x->requires_grad = false;
    weight_cache_stats st;
    expect_fresh("the first calls", x, w);   /* the copy exists from here on */
    weight_cache_get_stats(&st);
    EXPECT(st.bytes > 0, "no copy was kept after two calls with one version");
    write_every_way(x, w, expect_fresh);
    tensor_release(x), tensor_release(w);
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* the input gradient of sum(conv(x, w) * r) (r fixed by a seed), a clone; gradients cleared after */
static tensor *input_grad(tensor *x, tensor *w) {
    tensor_scope_begin();
    tensor *y = conv(x, w, NULL);
    tensor *r = gc_input(y->ndim, y->shape, 5);
    r->requires_grad = false;
    ag_backward(op_sum_all(op_mul(y, r)));
    tensor_release(r);
    tensor *gx = tensor_clone(x->grad);
    tensor *ps[2] = {x, w};
    ag_zero_grad(ps, 2);
    tensor_scope_end(NULL);
    return gx;
}

/* the input gradients (twice: the second from the kept flipped copy) and the forward after a write equal those
   of a fresh copy of the written weights */
static void expect_fresh_flipped(const char *when, tensor *x, tensor *w) {
    tensor *g1 = input_grad(x, w), *g2 = input_grad(x, w);
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *w_fresh = tensor_clone(w);
    w_fresh->requires_grad = true;
    mem_set_tag(prev);
    tensor *plain = input_grad(x, w_fresh);
    EXPECT(same_bits(g1, plain) && same_bits(g2, plain), "after %s: the input gradient used stale flipped weights", when);
    tensor_release(w_fresh), tensor_release(g1), tensor_release(g2), tensor_release(plain);
    expect_fresh(when, x, w);   /* the plain copy of a square weight is not mistaken for the flipped one */
}

/* backward data as a forward conv on flipped weights (conv_bwd_flip.h) keeps its flipped copy like the
   reordered one: served while the weights are unchanged, never after a write */
TEST(test_conv_weight_cache_flipped_never_stale) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    conv_set_bwd_data_mode(CONV_BWD_DATA_FORWARD);
    weight_cache_set_limit((size_t)64 << 20);
    for (int d = 2; d <= 3; d++) {
        tensor *x = d == 2 ? gc_input(SHAPE(2, 12, 10, 32), 1) : gc_input(SHAPE(1, 5, 8, 6, 32), 1);
        tensor *w = d == 2 ? param(SHAPE(32, 3, 3, 32), 2) : param(SHAPE(32, 3, 3, 3, 32), 2);
        weight_cache_stats a, b;
        weight_cache_get_stats(&a);
        expect_fresh_flipped("the first calls", x, w);
        weight_cache_get_stats(&b);
        EXPECT(b.hits > a.hits && b.entries >= a.entries + 2,
               "conv%dd: the flipped copy was not kept beside the forward's (hits %llu -> %llu, entries %d -> %d)", d,
               (unsigned long long)a.hits, (unsigned long long)b.hits, a.entries, b.entries);
        write_every_way(x, w, expect_fresh_flipped);
        tensor_release(x), tensor_release(w);
    }
    conv_set_bwd_data_mode(CONV_BWD_DATA_AUTO);
    conv_set_algorithm(CONV_ALGO_AUTO);
}

/* conv(x, w) of bf16 x and w computed by hand on the widened path: both widened (exact), the float32 conv on
   a non-parameter copy (never cached), the result rounded to bf16 */
static tensor *widened_by_hand(tensor *x, tensor *w) {
    tensor *xf = tensor_cast(x, DTYPE_F32), *wf = tensor_cast(w, DTYPE_F32);
    tensor_scope_begin();
    tensor *y = tensor_cast(conv(xf, wf, NULL), DTYPE_BF16);   /* the caller's: not in the scope */
    tensor_scope_end(NULL);
    tensor_release(xf), tensor_release(wf);
    return y;
}

static bool same_bf16(const tensor *a, const tensor *b) {
    return a && b && a->numel == b->numel && !memcmp(a->data, b->data, (size_t)a->numel * sizeof(uint16_t));
}

/* a weight held in bf16 (a frozen module under precision = bf16) on the widened bf16 path: oneDNN widens it in
   the reorder into its layout and keeps that copy (conv_dnnl_forward_f32_bf16_weights): the same bits as
   widening by hand, the third call served from the copy, and a write to the bf16 weight never served stale */
TEST(test_conv_weight_cache_bf16_weight_widened_by_the_reorder) {
    conv_set_algorithm(CONV_ALGO_DNNL);
    bf16_cpu_force(BF16_KERNELS_WIDENED);
    weight_cache_set_limit((size_t)64 << 20);
    tensor *x0 = gc_input(SHAPE(2, 12, 10, 32), 1), *x = tensor_cast(x0, DTYPE_BF16);
    tensor *w = param(SHAPE(48, 3, 3, 32), 2);
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor_cast_(w, DTYPE_BF16);   /* as precision_hold_frozen_bf16 holds a frozen weight */
    mem_set_tag(prev);
    w->requires_grad = false;
    for (int round = 0; round < 2; round++) {
        weight_cache_stats before, after;
        weight_cache_get_stats(&before);
        tensor *want = widened_by_hand(x, w);
        tensor *y[3];   /* the copy is kept from the second call with one version, served from the third */
        for (int i = 0; i < 3; i++) {
            tensor_scope_begin();
            y[i] = tensor_clone(conv(x, w, NULL));
            tensor_scope_end(NULL);
        }
        weight_cache_get_stats(&after);
        EXPECT(y[0]->dtype == DTYPE_BF16 && same_bf16(y[0], want) && same_bf16(y[1], want) && same_bf16(y[2], want),
               "%s: the bf16 weight widened by oneDNN's reorder gives other bits than widening it by hand",
               round ? "after a write" : "first calls");
        EXPECT(after.hits > before.hits, "%s: the third call was not served from the kept copy (hits %llu -> %llu)",
               round ? "after a write" : "first calls", (unsigned long long)before.hits, (unsigned long long)after.hits);
        tensor_release(want), tensor_release(y[0]), tensor_release(y[1]), tensor_release(y[2]);
        uint16_t *h = w->data;   /* new values through a kept pointer, marked as its writer must */
        for (int64_t k = 0; k < w->numel; k += 5) h[k] ^= 0x0040;
        tensor_mark_written(w);
    }
    bf16_cpu_force(BF16_KERNELS_AUTO);
    conv_set_algorithm(CONV_ALGO_AUTO);
    tensor_release(x0), tensor_release(x), tensor_release(w);
}
