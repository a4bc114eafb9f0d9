/* pointwise.c: elementwise forward/backward kernels and node for unary and scalar ops. */
#include "core/ops/pointwise.h"
#include "autograd/autograd.h"          // defines: ag_record, ag_grad_add_owned
#include "core/ops/pointwise_math.h"    // defines: pw_forward, pw_derivative
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/pointwise_cuda.h"    // defines: pointwise_forward_cuda, pointwise_backward_cuda
#endif

static const char *pw_names[PW_COUNT] = {"abs", "square", "exp", "log", "sqrt", "neg", "clamp",
                                         "add_scalar", "mul_scalar", "rsub_scalar", "pow_scalar"};

void pointwise_forward_cpu(pointwise_kind k, const float *x, float *y, int64_t n, float p0, float p1) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) y[i] = pw_forward(k, x[i], p0, p1);
}

void pointwise_backward_cpu(pointwise_kind k, const float *x, const float *y, const float *gy, float *gx,
                            int64_t n, float p0, float p1) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) gx[i] = gy[i] * pw_derivative(k, x[i], y ? y[i] : 0.0f, p0, p1);
}

typedef struct { pointwise_kind kind; float p0, p1; } pw_ctx;

static void pointwise_backward(ag_node *n) {
    pw_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *y = n->n_saved ? n->saved[0] : NULL;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU:
            pointwise_backward_cpu(c->kind, tensor_f32(x), y ? tensor_f32(y) : NULL, tensor_f32(gy), tensor_f32(gx),
                                   x->numel, c->p0, c->p1);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            pointwise_backward_cuda(c->kind, tensor_f32(x), y ? tensor_f32(y) : NULL, tensor_f32(gy), tensor_f32(gx),
                                    x->numel, c->p0, c->p1);
            break;
#endif
        default: DEVICE_UNSUPPORTED(pw_names[c->kind], x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *pointwise_op(pointwise_kind k, tensor *x, float p0, float p1) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: pointwise_forward_cpu(k, tensor_f32(x), tensor_f32(y), x->numel, p0, p1); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA: pointwise_forward_cuda(k, tensor_f32(x), tensor_f32(y), x->numel, p0, p1); break;
#endif
        default: DEVICE_UNSUPPORTED(pw_names[k], x->device);
    }
    ag_node *n = ag_record(pw_names[k], pointwise_backward, y, 1, (tensor *[]){x});
    if (n) {
        pw_ctx *c = ag_ctx(n, sizeof *c);
        *c = (pw_ctx){k, p0, p1};
        if (k == PW_EXP || k == PW_SQRT) ag_save(n, y);   /* derivative reuses the output */
    }
    return tensor_autorelease(y);
}
