/* upsample.c: nearest-neighbour 2x upsampling of H and W, forward and backward (see upsample.h). */
#include "core/ops/upsample.h"
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/upsample_cuda.h"   // defines: upsample_nearest2x_forward_cuda, ..._backward_cuda
#endif

/* one task per input row (frame, h): it writes output rows 2h and 2h+1 */
void upsample_nearest2x_forward_cpu(const float *x, float *y, int64_t P, int64_t H, int64_t W, int64_t C) {
    const int64_t Wo = 2 * W;
#pragma omp parallel for schedule(static) if (P * H * W * C > 32768)
    for (int64_t ph = 0; ph < P * H; ph++) {
        const float *xr = x + ph * W * C;
        float *y0 = y + 2 * ph * Wo * C;   /* row 2h of frame p: (p*2H + 2h) == 2*ph */
        for (int64_t w = 0; w < W; w++) {
            memcpy(y0 + (2 * w) * C, xr + w * C, (size_t)C * sizeof(float));
            memcpy(y0 + (2 * w + 1) * C, xr + w * C, (size_t)C * sizeof(float));
        }
        memcpy(y0 + Wo * C, y0, (size_t)(Wo * C) * sizeof(float));
    }
}

void upsample_nearest2x_backward_cpu(const float *gy, float *gx, int64_t P, int64_t H, int64_t W, int64_t C) {
    const int64_t Wo = 2 * W;
#pragma omp parallel for schedule(static) if (P * H * W * C > 32768)
    for (int64_t ph = 0; ph < P * H; ph++) {
        const float *g0 = gy + 2 * ph * Wo * C, *g1 = g0 + Wo * C;
        float *gr = gx + ph * W * C;
        for (int64_t w = 0; w < W; w++)
            for (int64_t c = 0; c < C; c++) {
                const int64_t a = (2 * w) * C + c, b = a + C;
                gr[w * C + c] = (g0[a] + g0[b]) + (g1[a] + g1[b]);
            }
    }
}

static void upsample_dims(const tensor *x, int64_t *P, int64_t *H, int64_t *W, int64_t *C) {
    const int d = x->ndim;
    *H = x->shape[d - 3];
    *W = x->shape[d - 2];
    *C = x->shape[d - 1];
    *P = 1;
    for (int i = 0; i < d - 3; i++) *P *= x->shape[i];
}

static void upsample_backward(ag_node *n) {
    tensor *x = n->inputs[0], *gy = n->out->grad;
    int64_t P, H, W, C;
    upsample_dims(x, &P, &H, &W, &C);
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: upsample_nearest2x_backward_cpu(tensor_f32(gy), tensor_f32(gx), P, H, W, C); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: upsample_nearest2x_backward_cuda(tensor_f32(gy), tensor_f32(gx), P, H, W, C); break;
#endif
        default: DEVICE_UNSUPPORTED("upsample_nearest2x_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_upsample_nearest2x(tensor *x) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    char xs[96];
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(x->ndim == 4 || x->ndim == 5, "upsample_nearest2x: x must be (N,H,W,C) or (B,T,H,W,C), got %s", xs);
    int64_t P, H, W, C;
    upsample_dims(x, &P, &H, &W, &C);
    int64_t shape[TENSOR_MAX_DIMS];
    for (int i = 0; i < x->ndim; i++) shape[i] = x->shape[i];
    shape[x->ndim - 3] *= 2;
    shape[x->ndim - 2] *= 2;
    tensor *y = tensor_new(x->ndim, shape, DTYPE_F32, x->device);
    switch (x->device) {
        case DEVICE_CPU: upsample_nearest2x_forward_cpu(tensor_f32(x), tensor_f32(y), P, H, W, C); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: upsample_nearest2x_forward_cuda(tensor_f32(x), tensor_f32(y), P, H, W, C); break;
#endif
        default: DEVICE_UNSUPPORTED("upsample_nearest2x", x->device);
    }
    ag_record("upsample_nearest2x", upsample_backward, y, 1, (tensor *[]){x});
    return tensor_autorelease(y);
}
