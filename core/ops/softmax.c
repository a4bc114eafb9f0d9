/* softmax.c: softmax over the last dim, forward and backward (see softmax.h). */
#include "core/ops/softmax.h"
#include <math.h>
#include <string.h>
#include "core/cpu/exp_vec.h"     // defines: exp8, exp1
#include "core/cpu/vec8.h"        // defines: v8f, v8i, LD8, ST8
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/softmax_cuda.h"   // defines: softmax_forward_cuda, softmax_backward_cuda
#endif

/* one row, 8 lanes at a time (exp_vec.h); the max ignores NaN as fmaxf does, and a NaN logit still
 * comes out NaN through its exp. The sum adds per lane (see below), then across lanes in a fixed order. */
__attribute__((target_clones("avx2", "default")))
void softmax_row_cpu(const float *xr, float *yr, int64_t D) {
    int64_t i = 0;
    float mx = -INFINITY;
    if (D >= 8) {
        v8f m, v;
        LD8(m, xr);
        for (i = 8; i + 8 <= D; i += 8) {
            LD8(v, xr + i);
            const v8i gt = v > m;   /* false for NaN: NaN never becomes the max */
            m = (v8f)(((v8i)v & gt) | ((v8i)m & ~gt));
        }
        for (int l = 0; l < 8; l++) mx = m[l] > mx ? m[l] : mx;
    }
    for (; i < D; i++) mx = xr[i] > mx ? xr[i] : mx;
    /* the exps (each <= 1) add in float vectors over blocks of 128, the blocks in double: converting
     * every lane to double was most of the row's time */
    double lane[8] = {0}, sum = 0;
    for (i = 0; i + 8 <= D;) {
        v8f part = {0};
        for (int64_t end = i + 128 < D ? i + 128 : D; i + 8 <= end; i += 8) {
            v8f v, e;
            LD8(v, xr + i);
            v -= mx;
            exp8(&e, &v);
            ST8(yr + i, e);
            part += e;
        }
        for (int l = 0; l < 8; l++) lane[l] += part[l];
    }
    for (int l = 0; l < 8; l++) sum += lane[l];
    for (; i < D; i++) {
        yr[i] = exp1(xr[i] - mx);
        sum += yr[i];
    }
    const float inv = (float)(1.0 / sum);
    for (i = 0; i + 8 <= D; i += 8) {
        v8f v;
        LD8(v, yr + i);
        v *= inv;
        ST8(yr + i, v);
    }
    for (; i < D; i++) yr[i] *= inv;
}

void softmax_forward_cpu(const float *x, float *y, int64_t rows, int64_t D) {
#pragma omp parallel for schedule(static) if (rows * D > 32768)
    for (int64_t r = 0; r < rows; r++) softmax_row_cpu(x + r * D, y + r * D, D);
}

void softmax_backward_cpu(const float *y, const float *gy, float *gx, int64_t rows, int64_t D) {
#pragma omp parallel for schedule(static) if (rows * D > 32768)
    for (int64_t r = 0; r < rows; r++) {
        const float *yr = y + r * D, *gr = gy + r * D;
        double dot = 0;
        for (int64_t i = 0; i < D; i++) dot += (double)gr[i] * yr[i];
        const float d = (float)dot;
        for (int64_t i = 0; i < D; i++) gx[r * D + i] = yr[i] * (gr[i] - d);
    }
}

static void softmax_backward(ag_node *n) {
    tensor *x = n->inputs[0], *y = n->saved[0], *gy = n->out->grad;
    const int64_t D = x->shape[x->ndim - 1], rows = D ? x->numel / D : 0;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: softmax_backward_cpu(tensor_f32(y), tensor_f32(gy), tensor_f32(gx), rows, D); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: softmax_backward_cuda(tensor_f32(y), tensor_f32(gy), tensor_f32(gx), rows, D); break;
#endif
        default: DEVICE_UNSUPPORTED("softmax_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_softmax(tensor *x) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    CHECK(x->ndim >= 1, "softmax: x must have at least one dim, got a 0-d tensor");
    const int64_t D = x->shape[x->ndim - 1], rows = D ? x->numel / D : 0;
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: softmax_forward_cpu(tensor_f32(x), tensor_f32(y), rows, D); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: softmax_forward_cuda(tensor_f32(x), tensor_f32(y), rows, D); break;
#endif
        default: DEVICE_UNSUPPORTED("softmax", x->device);
    }
    ag_node *n = ag_record("softmax", softmax_backward, y, 1, (tensor *[]){x});
    if (n) ag_save(n, y);   /* backward needs only the output; the node holds it until backward */
    return tensor_autorelease(y);
}
