/* silu.c: SiLU forward and backward (the template every op file follows, see README.md). */
#include "core/ops/silu.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#ifdef VAEC_HAVE_CUDA
#include "core/ops/silu_cuda.h"  // defines: silu_forward_cuda, silu_backward_cuda
#endif

void silu_forward_cpu(const float *x, float *y, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + expf(-x[i]));
}

/* d/dx x*s(x) = s(x) * (1 + x * (1 - s(x))) */
void silu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        float s = 1.0f / (1.0f + expf(-x[i]));
        gx[i] = gy[i] * s * (1.0f + x[i] * (1.0f - s));
    }
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
