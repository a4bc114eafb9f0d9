/* softmax.c: softmax over the last dim, forward and backward (see softmax.h). */
#include "core/ops/softmax.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#ifdef VAEC_HAVE_CUDA
#include "core/ops/softmax_cuda.h"   // defines: softmax_forward_cuda, softmax_backward_cuda
#endif

void softmax_forward_cpu(const float *x, float *y, int64_t rows, int64_t D) {
#pragma omp parallel for schedule(static) if (rows * D > 32768)
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * D;
        float *yr = y + r * D;
        float mx = -INFINITY;
        for (int64_t i = 0; i < D; i++) mx = fmaxf(mx, xr[i]);
        double sum = 0;
        for (int64_t i = 0; i < D; i++) { yr[i] = expf(xr[i] - mx); sum += yr[i]; }
        const float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < D; i++) yr[i] *= inv;
    }
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
