/* pointwise.c: elementwise forward/backward kernels and node for unary and scalar ops. */
#include "core/ops/pointwise.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned

static const char *pw_names[PW_COUNT] = {"abs", "square", "exp", "log", "sqrt", "neg", "clamp",
                                         "add_scalar", "mul_scalar", "rsub_scalar", "pow_scalar"};

static inline float pw_forward(pointwise_kind k, float x, float p0, float p1) {
    switch (k) {
        case PW_ABS: return fabsf(x);
        case PW_SQUARE: return x * x;
        case PW_EXP: return expf(x);
        case PW_LOG: return logf(x);
        case PW_SQRT: return sqrtf(x);
        case PW_NEG: return -x;
        case PW_CLAMP: return x < p0 ? p0 : x > p1 ? p1 : x;
        case PW_ADD_SCALAR: return x + p0;
        case PW_MUL_SCALAR: return x * p0;
        case PW_RSUB_SCALAR: return p0 - x;
        default: return powf(x, p0);
    }
}

/* dy/dx, given x and y = f(x) */
static inline float pw_derivative(pointwise_kind k, float x, float y, float p0, float p1) {
    switch (k) {
        case PW_ABS: return x > 0 ? 1.0f : x < 0 ? -1.0f : 0.0f;
        case PW_SQUARE: return 2.0f * x;
        case PW_EXP: return y;
        case PW_LOG: return 1.0f / x;
        case PW_SQRT: return 0.5f / y;
        case PW_NEG: return -1.0f;
        case PW_CLAMP: return (x >= p0 && x <= p1) ? 1.0f : 0.0f;
        case PW_ADD_SCALAR: return 1.0f;
        case PW_MUL_SCALAR: return p0;
        case PW_RSUB_SCALAR: return -1.0f;
        default: return p0 == 0 ? 0.0f : p0 * powf(x, p0 - 1.0f);
    }
}

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
        default: DEVICE_UNSUPPORTED(pw_names[c->kind], x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *pointwise_op(pointwise_kind k, tensor *x, float p0, float p1) {
    tensor *y = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU: pointwise_forward_cpu(k, tensor_f32(x), tensor_f32(y), x->numel, p0, p1); break;
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
