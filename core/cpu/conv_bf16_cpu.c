/* conv_bf16_cpu.c: the two paths of a bf16 convolution on the CPU (see cpu.h): oneDNN's bf16 kernels
 * ("native"), or the float32 conv on widened copies with the result rounded to bf16 ("widened"). Either way
 * the products of bf16 values accumulate in float32, so both paths compute the same thing up to the order
 * of the sums (and, for y, the rounding of results that land near a bf16 tie). Which path runs is the
 * caller's: bf16_cpu.c's entry points pass bf16_cpu_native_for's choice, the probe each in turn. */
#include "core/cpu/cpu.h"
#include "core/cpu/bf16_convert.h"   // defines: bf16_operand_*, bf16_widened, bf16_rounded(_widened)

static int64_t numel_x(const conv_geom *g) { return g->B * g->T * g->H * g->W * g->cin; }
static int64_t numel_w(const conv_geom *g) { return g->cout * g->kt * g->kh * g->kw * g->cin; }
static int64_t rows_y(const conv_geom *g) { return g->B * g->To * g->Ho * g->Wo; }

/* g with w_version kept only where the kernel gets w's own storage (a bf16 weight as it is): a rounded or
   widened temporary must never be cached under the weight's version (weight_cache.h) */
static conv_geom geom_for(const conv_geom *g, bool own_storage) {
    conv_geom c = *g;
    if (!own_storage) c.w_version = 0;
    return c;
}

void conv_forward_bf16_path(const conv_geom *g, const uint16_t *x, bf16_operand w, bf16_operand b, uint16_t *y,
                            bool native) {
    const int64_t ny = rows_y(g) * g->cout;
    if (ny == 0) return;
    if (native) {
        mem_block *wt, *bt;
        const conv_geom gk = geom_for(g, !w.f32);
        conv_dnnl_forward_bf16(&gk, x, bf16_operand_bf16(w, numel_w(g), &wt), bf16_operand_bf16(b, g->cout, &bt), y);
        mem_block_release(wt);
        mem_block_release(bt);
        return;
    }
    mem_block *xf = bf16_widened(x, numel_x(g)), *bf = bf16_operand_widened(b, g->cout), *yf = bf16_f32_scratch(ny);
    if (!w.f32 && g->w_version && conv_uses_dnnl(g)) {
        /* a weight held in bf16 (a frozen module): oneDNN widens it in the reorder into its layout and keeps that
           copy, instead of a widening pass and a reorder at every call (500 ms of a stage-1 step on this path) */
        conv_dnnl_forward_f32_bf16_weights(g, xf->ptr, w.data, bf ? bf->ptr : NULL, yf->ptr);
        bf16_round_array(yf->ptr, y, ny);
        mem_block_release(xf);
        mem_block_release(bf);
        mem_block_release(yf);
        return;
    }
    mem_block *wf = bf16_operand_widened(w, numel_w(g));
    const conv_geom gt = geom_for(g, false);
    conv_forward_cpu(&gt, xf->ptr, wf->ptr, bf ? bf->ptr : NULL, yf->ptr);
    bf16_round_array(yf->ptr, y, ny);
    mem_block_release(xf);
    mem_block_release(wf);
    mem_block_release(bf);
    mem_block_release(yf);
}

void conv_backward_bf16_path(const conv_geom *g, const uint16_t *x, bf16_operand w, const float *gy, float *gx,
                             float *gw, float *gb, bool native_gx, bool native_gw) {
    const int64_t P = rows_y(g), ny = P * g->cout;
    if (gb) conv_bias_grad_cpu(gy, P, g->cout, gb);   /* from the float32 gradient, as cuDNN's path does */
    if (!gx && !gw) return;
    /* each pass takes its own path; a native pass gets gy rounded to bf16 (cuDNN takes one dtype; the same
       here), a widened one the same values as float32, rounded and widened in one pass */
    const bool nat_x = gx && ny > 0 && native_gx;
    const bool nat_w = gw && ny > 0 && native_gw;
    float *wide_gx = nat_x ? NULL : gx, *wide_gw = nat_w ? NULL : gw;
    if (nat_x || nat_w) {
        mem_block *gyb = bf16_rounded(gy, ny), *wt = NULL;
        const conv_geom gk = geom_for(g, !w.f32);
        if (nat_x) conv_dnnl_backward_data_bf16(&gk, bf16_operand_bf16(w, numel_w(g), &wt), gyb->ptr, gx);
        if (nat_w) conv_dnnl_backward_weights_bf16(g, x, gyb->ptr, gw);
        mem_block_release(gyb);
        mem_block_release(wt);
    }
    if (!wide_gx && !wide_gw) return;
    /* the input gradient reads only w, the weight gradient only x: widen what the passes read */
    mem_block *gyf = bf16_rounded_widened(gy, ny);
    mem_block *wf = wide_gx ? bf16_operand_widened(w, numel_w(g)) : NULL, *xf = wide_gw ? bf16_widened(x, numel_x(g)) : NULL;
    const conv_geom gt = geom_for(g, false);
    conv_backward_cpu(&gt, xf ? xf->ptr : NULL, wf ? wf->ptr : NULL, gyf->ptr, wide_gx, wide_gw, NULL);
    mem_block_release(xf);
    mem_block_release(wf);
    mem_block_release(gyf);
}
