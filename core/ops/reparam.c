/* reparam.c: z = mean + exp(logvar/2) * eps, forward and backward. */
#include "core/ops/reparam.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/reparam_cuda.h"   // defines: reparam_forward_cuda, reparam_backward_cuda
#endif

void reparam_forward_cpu(const float *mean, const float *logvar, const float *eps, float *z, int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) z[i] = mean[i] + expf(0.5f * logvar[i]) * eps[i];
}

void reparam_backward_cpu(const float *logvar, const float *eps, const float *gz, float *gmean, float *glogvar,
                          int64_t n) {
#pragma omp parallel for if (n > 32768) schedule(static)
    for (int64_t i = 0; i < n; i++) {
        if (gmean) gmean[i] = gz[i];
        if (glogvar) glogvar[i] = gz[i] * 0.5f * expf(0.5f * logvar[i]) * eps[i];
    }
}

static void reparam_backward(ag_node *n) {
    tensor *mean = n->inputs[0], *logvar = n->inputs[1], *eps = n->saved[0], *gz = n->out->grad;
    tensor *gm = ag_needs_grad(n, 0) ? tensor_empty_like(mean) : NULL;
    tensor *gl = ag_needs_grad(n, 1) ? tensor_empty_like(logvar) : NULL;
    switch (mean->device) {
        case DEVICE_CPU:
            reparam_backward_cpu(tensor_f32(logvar), tensor_f32(eps), tensor_f32(gz), gm ? tensor_f32(gm) : NULL,
                                 gl ? tensor_f32(gl) : NULL, mean->numel);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            reparam_backward_cuda(tensor_f32(logvar), tensor_f32(eps), tensor_f32(gz), gm ? tensor_f32(gm) : NULL,
                                  gl ? tensor_f32(gl) : NULL, mean->numel);
            break;
#endif
        default: DEVICE_UNSUPPORTED("reparam_backward", mean->device);
    }
    if (gm) ag_grad_add_owned(mean, gm);
    if (gl) ag_grad_add_owned(logvar, gl);
}

tensor *op_reparam_sample_eps(tensor *mean, tensor *logvar, tensor *eps) {
    mean = autocast_f32(mean), logvar = autocast_f32(logvar);   /* bf16 moments: widened (core/autocast.h) */
    char a[96], b[96], c[96];
    tensor_shape_str(mean, a, sizeof a);
    tensor_shape_str(logvar, b, sizeof b);
    tensor_shape_str(eps, c, sizeof c);
    CHECK(tensor_same_shape(mean, logvar) && tensor_same_shape(mean, eps),
          "reparam_sample: mean %s, logvar %s and eps %s must have one shape", a, b, c);
    CHECK_SAME_DEVICE("reparam_sample", mean, logvar);
    CHECK_SAME_DEVICE("reparam_sample", mean, eps);
    tensor *z = tensor_empty_like(mean);
    switch (mean->device) {
        case DEVICE_CPU:
            reparam_forward_cpu(tensor_f32(mean), tensor_f32(logvar), tensor_f32(eps), tensor_f32(z), mean->numel);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            reparam_forward_cuda(tensor_f32(mean), tensor_f32(logvar), tensor_f32(eps), tensor_f32(z), mean->numel);
            break;
#endif
        default: DEVICE_UNSUPPORTED("reparam_sample", mean->device);
    }
    ag_node *n = ag_record("reparam_sample", reparam_backward, z, 2, (tensor *[]){mean, logvar});
    if (n) ag_save(n, eps);
    return tensor_autorelease(z);
}

tensor *op_reparam_sample(tensor *mean, tensor *logvar, rng_state *rng) {
    mean = autocast_f32(mean), logvar = autocast_f32(logvar);
    tensor *eps = tensor_empty(mean->ndim, mean->shape);
    rng_fill_normal(rng, tensor_f32(eps), eps->numel, 0.0f, 1.0f);
    if (mean->device != DEVICE_CPU) {   /* the same numbers on every device */
        tensor *d = tensor_to(eps, mean->device);
        tensor_release(eps);
        eps = d;
    }
    tensor *z = op_reparam_sample_eps(mean, logvar, eps);
    tensor_release(eps);   /* the node keeps it if it needs it */
    return z;
}
