/* leaky_relu.c: LeakyReLU forward and backward (see leaky_relu.h). */
#include "core/ops/leaky_relu.h"
#include "autograd/autograd.h"   // defines: ag_record, ag_ctx, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/leaky_relu_cuda.h"  // defines: leaky_relu_forward_cuda, leaky_relu_backward_cuda
#endif

void leaky_relu_forward_cpu(const float *x, float *y, int64_t n, float slope) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void leaky_relu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n, float slope) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) gx[i] = x[i] > 0.0f ? gy[i] : slope * gy[i];
}

typedef struct { float slope; } leaky_relu_ctx;

static void leaky_relu_backward(ag_node *n) {
    tensor *x = n->inputs[0], *gy = n->out->grad;
    const float slope = ((const leaky_relu_ctx *)n->ctx)->slope;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: leaky_relu_backward_cpu(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel, slope); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: leaky_relu_backward_cuda(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel, slope); break;
#endif
        default: DEVICE_UNSUPPORTED("leaky_relu_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_leaky_relu(tensor *x, float slope) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: leaky_relu_forward_cpu(tensor_f32(x), tensor_f32(y), x->numel, slope); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: leaky_relu_forward_cuda(tensor_f32(x), tensor_f32(y), x->numel, slope); break;
#endif
        default: DEVICE_UNSUPPORTED("leaky_relu", x->device);
    }
    ag_node *n = ag_record("leaky_relu", leaky_relu_backward, y, 1, (tensor *[]){x});
    if (n) ((leaky_relu_ctx *)ag_ctx(n, sizeof(leaky_relu_ctx)))->slope = slope;
    return tensor_autorelease(y);
}
