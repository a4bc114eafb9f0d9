/* conv.c: op_conv2d / op_conv3d: shape checks, dispatch, autograd node (CPU kernels in core/cpu/, CUDA in conv.cu). */
#include "core/ops/conv.h"
#include "core/cpu/cpu.h"        // defines: conv_forward_cpu, conv_backward_cpu
#include "core/cpu/bf16_cpu.h"   // defines: conv_forward_bf16_cpu, conv_backward_bf16_cpu, bf16_operand
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/grad_f32.h"   // defines: grad_f32
#include "core/autocast.h"       // defines: autocast_on, autocast_operand
#include "core/ops/cast.h"       // defines: op_cast, tensor_cast
#ifdef VAEC_HAVE_CUDA
#include "core/ops/conv_cuda.h"  // defines: conv_forward_cuda, conv_backward_cuda
#endif

/* Under autocast a float32 weight (and bias) is rounded to bf16 into a temporary for each kernel call instead of
   through an op_cast node: the node keeps the float32 master weight it would hold anyway rather than a bf16
   copy of every weight until backward, and its gradient goes to the weight directly (no pass-through copy).
   Returns w itself when it already has x's dtype; the caller releases what it got when it differs. The CPU's bf16
   conv takes the float32 weight as it is and rounds it itself (bf16_operand_of), so that its widened path
   rounds and widens in one pass. */
static tensor *weight_as(const tensor *w, const tensor *x) {
    if (!w || w->dtype == x->dtype) return (tensor *)w;
    return tensor_cast(w, x->dtype);
}

/* a weight or bias for the CPU's bf16 conv: bf16 as it is, or float32 (autocast's master weights), which the
   kernels round themselves (the widened path rounds and widens in one pass instead of two) */
static bf16_operand bf16_operand_of(const tensor *t) {
    if (!t) return (bf16_operand){NULL, false};
    return t->dtype == DTYPE_F32 ? (bf16_operand){tensor_f32_read(t), true} : (bf16_operand){t->data, false};
}

/* the version oneDNN's reordered copy of a CPU weight (float32, or bf16 as a frozen module holds it) is kept
   under (core/cpu/weight_cache.h); 0 for anything else. Only model parameters (tag MEM_PARAMS): they are
   written by the optimizers, checkpoint loads and tensor_f32 / tensor_copy_, each of which changes the
   version, while any tensor could be written through a pointer kept from before (a test's finite
   differences). The kernels read the weights through tensor_f32_read, which leaves the version as it is. */
static uint64_t weight_version(const tensor *w) {
    if (!w || w->device != DEVICE_CPU || !w->block || w->block->tag != MEM_PARAMS) return 0;
    mem_block_note_derived(w->block);
    return w->block->version;
}

static void conv_backward(ag_node *n) {
    conv_geom gv = *(const conv_geom *)n->ctx;
    const conv_geom *g = &gv;
    tensor *x = n->inputs[0], *w_in = n->inputs[1], *b = n->n_inputs > 2 ? n->inputs[2] : NULL;
    const bool cpu_bf16 = x->device == DEVICE_CPU && x->dtype == DTYPE_BF16;   /* rounds float32 weights itself */
    tensor *w = cpu_bf16 ? w_in : weight_as(w_in, x);   /* autocast: a float32 weight, rounded again for the products */
    gv.w_version = weight_version(w);   /* the bf16 kernels keep it only where they get w's own storage */
    tensor *gy = grad_f32(n->out->grad);   /* a bf16 conv may be handed a bf16 gradient */
    /* gradients are float32 whatever the dtype of x and w */
    tensor *gx = ag_needs_grad(n, 0) ? tensor_new(x->ndim, x->shape, DTYPE_F32, x->device) : NULL;
    tensor *gw = ag_needs_grad(n, 1) ? tensor_new(w->ndim, w->shape, DTYPE_F32, w->device) : NULL;
    tensor *gb = b && ag_needs_grad(n, 2) ? tensor_new(b->ndim, b->shape, DTYPE_F32, b->device) : NULL;
    switch (x->device) {
        case DEVICE_CPU:
            if (x->dtype == DTYPE_BF16)
                conv_backward_bf16_cpu(g, x->data, bf16_operand_of(w), tensor_f32(gy), gx ? tensor_f32(gx) : NULL,
                                       gw ? tensor_f32(gw) : NULL, gb ? tensor_f32(gb) : NULL);
            else
                conv_backward_cpu(g, tensor_f32_read(x), tensor_f32_read(w), tensor_f32(gy), gx ? tensor_f32(gx) : NULL,
                                  gw ? tensor_f32(gw) : NULL, gb ? tensor_f32(gb) : NULL);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            conv_backward_cuda(g, x->dtype == DTYPE_BF16, x->data, w->data, tensor_f32(gy), gx ? tensor_f32(gx) : NULL,
                               gw ? tensor_f32(gw) : NULL, gb ? tensor_f32(gb) : NULL);
            break;
#endif
        default: DEVICE_UNSUPPORTED("conv_backward", x->device);
    }
    tensor_release(gy);
    if (w != w_in) tensor_release(w);
    if (gx) ag_grad_add_owned(x, gx);
    if (gw) ag_grad_add_owned(w_in, gw);
    if (gb) ag_grad_add_owned(b, gb);
}

/* x, w are the caller's tensors (4-D or 5-D); g already holds the 5-D geometry. cast_weights (autocast only): a
   float32 w and b with a bf16 x are rounded to bf16 for the kernels (weight_as) and stay float32 in the graph. */
static tensor *conv_run(const char *op, tensor *x, tensor *w, tensor *b, conv_geom *g, int out_ndim, bool cast_weights) {
    CHECK_SAME_DEVICE(op, x, w);
    if (b) CHECK_SAME_DEVICE(op, x, b);
    char sx[96], sw[96];
    tensor_shape_str(x, sx, sizeof sx);
    tensor_shape_str(w, sw, sizeof sw);
    CHECK(g->st > 0 && g->sh > 0 && g->sw > 0, "%s: strides must be positive", op);
    for (int i = 0; i < 6; i++) CHECK(g->pad[i] >= 0, "%s: negative padding", op);
    int64_t tp = g->T + g->pad[0] + g->pad[1], hp = g->H + g->pad[2] + g->pad[3], wp = g->W + g->pad[4] + g->pad[5];
    CHECK(tp >= g->kt && hp >= g->kh && wp >= g->kw, "%s: kernel %s larger than the padded input %s", op, sw, sx);
    g->To = (tp - g->kt) / g->st + 1;
    g->Ho = (hp - g->kh) / g->sh + 1;
    g->Wo = (wp - g->kw) / g->sw + 1;
    if (b) CHECK(b->ndim == 1 && b->shape[0] == g->cout, "%s: bias must be (%lld) for weight %s", op, (long long)g->cout, sw);
    const bool mixed = cast_weights && x->dtype == DTYPE_BF16;
    CHECK_HINT(mixed || (x->dtype == w->dtype && (!b || b->dtype == x->dtype)), "convert them to one dtype (tensor_to_dtype)",
               "%s: x %s, w %s%s must share one dtype, got x %s, w %s%s%s", op, sx, sw, b ? " and b" : "",
               dtype_name(x->dtype), dtype_name(w->dtype), b ? ", b " : "", b ? dtype_name(b->dtype) : "");
    CHECK(x->dtype == DTYPE_F32 || x->dtype == DTYPE_BF16, "%s: dtype %s is not supported (float32 or bf16)", op,
          dtype_name(x->dtype));
    tensor *y = out_ndim == 5 ? tensor_new(SHAPE(g->B, g->To, g->Ho, g->Wo, g->cout), x->dtype, x->device)
                              : tensor_new(SHAPE(g->B, g->Ho, g->Wo, g->cout), x->dtype, x->device);
    /* what the kernels take; the CPU's bf16 conv rounds float32 weights itself (bf16_operand_of) */
    const bool round_here = mixed && x->device != DEVICE_CPU;
    tensor *wk = round_here ? weight_as(w, x) : w, *bk = round_here ? weight_as(b, x) : b;
    g->w_version = weight_version(wk);   /* the bf16 kernels keep it only where they get wk's own storage */
    switch (x->device) {
        case DEVICE_CPU:
            if (x->dtype == DTYPE_BF16) conv_forward_bf16_cpu(g, x->data, bf16_operand_of(wk), bf16_operand_of(bk), y->data);
            else conv_forward_cpu(g, tensor_f32_read(x), tensor_f32_read(wk), bk ? tensor_f32_read(bk) : NULL, tensor_f32(y));
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: conv_forward_cuda(g, x->dtype == DTYPE_BF16, x->data, wk->data, bk ? bk->data : NULL, y->data); break;
#endif
        default: DEVICE_UNSUPPORTED(op, x->device);
    }
    if (wk != w) tensor_release(wk);
    if (bk != b) tensor_release(bk);
    tensor *ins[3] = {x, w, b};
    ag_node *n = ag_record(op, conv_backward, y, b ? 3 : 2, ins);
    if (n) *(conv_geom *)ag_ctx(n, sizeof *g) = *g;
    return tensor_autorelease(y);
}

static tensor *conv3d(tensor *x, tensor *w, tensor *b, const conv3d_args *a, bool cast_weights) {
    char sx[96], sw[96];
    tensor_shape_str(x, sx, sizeof sx);
    tensor_shape_str(w, sw, sizeof sw);
    CHECK(x->ndim == 5 && w->ndim == 5, "conv3d: expects x (B,T,H,W,Cin) and w (Cout,kt,kh,kw,Cin), got %s and %s", sx, sw);
    CHECK(x->shape[4] == w->shape[4], "conv3d: input has %lld channels, weight %s expects %lld (x %s)",
          (long long)x->shape[4], sw, (long long)w->shape[4], sx);
    conv_geom g = {x->shape[0], x->shape[1], x->shape[2], x->shape[3], x->shape[4], w->shape[0], w->shape[1], w->shape[2],
                   w->shape[3], a->stride[0], a->stride[1], a->stride[2],
                   {a->pad[0], a->pad[1], a->pad[2], a->pad[3], a->pad[4], a->pad[5]}, 0, 0, 0};
    return conv_run("conv3d", x, w, b, &g, 5, cast_weights);
}

static tensor *conv2d(tensor *x, tensor *w, tensor *b, const conv2d_args *a, bool cast_weights) {
    char sx[96], sw[96];
    tensor_shape_str(x, sx, sizeof sx);
    tensor_shape_str(w, sw, sizeof sw);
    CHECK(x->ndim == 4 && w->ndim == 4, "conv2d: expects x (N,H,W,Cin) and w (Cout,kh,kw,Cin), got %s and %s", sx, sw);
    CHECK(x->shape[3] == w->shape[3], "conv2d: input has %lld channels, weight %s expects %lld (x %s)",
          (long long)x->shape[3], sw, (long long)w->shape[3], sx);
    conv_geom g = {x->shape[0], 1, x->shape[1], x->shape[2], x->shape[3], w->shape[0], 1, w->shape[1], w->shape[2],
                   1, a->stride[0], a->stride[1], {0, 0, a->pad[0], a->pad[1], a->pad[2], a->pad[3]}, 0, 0, 0};
    return conv_run("conv2d", x, w, b, &g, 4, cast_weights);
}

/* under autocast (core/autocast.h): x cast to bf16, the weights rounded per call (weight_as), a bf16 result
   (as torch.autocast returns); the ops after it take bf16 or widen it on entry (autocast_f32) */
tensor *op_conv3d(tensor *x, tensor *w, tensor *b, const conv3d_args *a) {
    if (!autocast_on()) return conv3d(x, w, b, a, false);
    return conv3d(autocast_operand(x), w, b, a, true);
}

tensor *op_conv2d(tensor *x, tensor *w, tensor *b, const conv2d_args *a) {
    if (!autocast_on()) return conv2d(x, w, b, a, false);
    return conv2d(autocast_operand(x), w, b, a, true);
}
