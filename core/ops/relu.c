/* relu.c: ReLU forward and backward (see relu.h). */
#include "core/ops/relu.h"
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/relu_cuda.h"  // defines: relu_forward_cuda, relu_backward_cuda
#endif

void relu_forward_cpu(const float *x, float *y, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void relu_backward_cpu(const float *x, const float *gy, float *gx, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) gx[i] = x[i] > 0.0f ? gy[i] : 0.0f;
}

static void relu_backward(ag_node *n) {
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: relu_backward_cpu(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: relu_backward_cuda(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->numel); break;
#endif
        default: DEVICE_UNSUPPORTED("relu_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_relu(tensor *x) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: relu_forward_cpu(tensor_f32(x), tensor_f32(y), x->numel); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: relu_forward_cuda(tensor_f32(x), tensor_f32(y), x->numel); break;
#endif
        default: DEVICE_UNSUPPORTED("relu", x->device);
    }
    ag_record("relu", relu_backward, y, 1, (tensor *[]){x});
    return tensor_autorelease(y);
}
