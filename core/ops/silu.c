/* silu.c: SiLU forward and backward (the template every op file follows, see README.md). */
#include "core/ops/silu.h"
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/cpu/exp_vec.h"    // defines: exp8, exp1
#include "core/cpu/vec8.h"       // defines: v8f, v8i, LD8, ST8
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/silu_cuda.h"  // defines: silu_forward_cuda, silu_backward_cuda
#endif

/* spans of SPAN elements a thread; inside, 8 lanes at a time with exp_vec.h's expf (libm's scalar expf
 * was most of the op's time) */
#define SPAN 8192

__attribute__((target_clones("avx2", "default")))
static void silu_forward_span(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v, e;
        LD8(v, x + i);
        const v8f nv = -v;
        exp8(&e, &nv);
        v = v / (1.0f + e);
        ST8(y + i, v);
    }
    for (; i < n; i++) y[i] = x[i] / (1.0f + exp1(-x[i]));
}

/* d/dx x*s(x) = s(x) * (1 + x * (1 - s(x))) */
__attribute__((target_clones("avx2", "default")))
static void silu_backward_span(const float *x, const float *gy, float *gx, int64_t n) {
    int64_t i = 0;
    for (; i + 8 <= n; i += 8) {
        v8f v, g, e;
        LD8(v, x + i);
        LD8(g, gy + i);
        const v8f nv = -v;
        exp8(&e, &nv);
        const v8f sg = 1.0f / (1.0f + e);
        g = g * sg * (1.0f + v * (1.0f - sg));
        ST8(gx + i, g);
    }
    for (; i < n; i++) {
        const float sg = 1.0f / (1.0f + exp1(-x[i]));
        gx[i] = gy[i] * sg * (1.0f + x[i] * (1.0f - sg));
    }
}

void silu_forward_cpu(const float *x, float *y, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i += SPAN) silu_forward_span(x + i, y + i, n - i < SPAN ? n - i : SPAN);
}

void silu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i += SPAN) silu_backward_span(x + i, gy + i, gx + i, n - i < SPAN ? n - i : SPAN);
}

static void silu_backward(ag_node *n) {
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: silu_backward_cpu(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: silu_backward_cuda(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel); break;
#endif
        default: DEVICE_UNSUPPORTED("silu_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_silu(tensor *x) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: silu_forward_cpu(tensor_f32(x), tensor_f32(y), x->numel); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: silu_forward_cuda(tensor_f32(x), tensor_f32(y), x->numel); break;
#endif
        default: DEVICE_UNSUPPORTED("silu", x->device);
    }
    ag_record("silu", silu_backward, y, 1, (tensor *[]){x});
    return tensor_autorelease(y);
}
