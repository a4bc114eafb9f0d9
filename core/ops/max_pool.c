/* max_pool.c: 2x2 / stride-2 max pooling, forward and backward (see max_pool.h). */
#include "core/ops/max_pool.h"
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_record, ag_grad_add_owned
#include "core/ops/max_pool_math.h"  // defines: max_pool_window_argmax
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/max_pool_cuda.h"  // defines: max_pool2d_forward_cuda, max_pool2d_backward_cuda
#endif

/* one task per output row (image, ho) */
void max_pool2d_forward_cpu(const float *x, float *y, int64_t N, int64_t H, int64_t W, int64_t C) {
    const int64_t Ho = H / 2, Wo = W / 2;
#pragma omp parallel for schedule(static) if (N * Ho * Wo * C > 32768)
    for (int64_t r = 0; r < N * Ho; r++) {
        const int64_t n = r / Ho, ho = r % Ho;
        for (int64_t wo = 0; wo < Wo; wo++) {
            const float *p = x + ((n * H + 2 * ho) * W + 2 * wo) * C;
            float *q = y + (r * Wo + wo) * C;
            for (int64_t c = 0; c < C; c++) q[c] = p[c + max_pool_window_argmax(p + c, W * C, C)];
        }
    }
}

/* windows do not overlap: each input element receives at most one output's gradient */
void max_pool2d_backward_cpu(const float *x, const float *gy, float *gx, int64_t N, int64_t H, int64_t W, int64_t C) {
    const int64_t Ho = H / 2, Wo = W / 2;
    memset(gx, 0, (size_t)(N * H * W * C) * sizeof(float));
#pragma omp parallel for schedule(static) if (N * Ho * Wo * C > 32768)
    for (int64_t r = 0; r < N * Ho; r++) {
        const int64_t n = r / Ho, ho = r % Ho;
        for (int64_t wo = 0; wo < Wo; wo++) {
            const int64_t base = ((n * H + 2 * ho) * W + 2 * wo) * C;
            const float *g = gy + (r * Wo + wo) * C;
            for (int64_t c = 0; c < C; c++) gx[base + c + max_pool_window_argmax(x + base + c, W * C, C)] = g[c];
        }
    }
}

static void max_pool2d_backward(ag_node *n) {
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor *gx = tensor_empty_like(x);
    switch (x->device) {
        case DEVICE_CPU:
            max_pool2d_backward_cpu(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->shape[0], x->shape[1], x->shape[2],
                                    x->shape[3]);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            max_pool2d_backward_cuda(tensor_f32(x), tensor_f32(gy), tensor_f32(gx), x->shape[0], x->shape[1], x->shape[2],
                                     x->shape[3]);
            break;
#endif
        default: DEVICE_UNSUPPORTED("max_pool2d_backward", x->device);
    }
    ag_grad_add_owned(x, gx);
}

tensor *op_max_pool2d(tensor *x) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    char xs[96];
    tensor_shape_str(x, xs, sizeof xs);
    CHECK(x->ndim == 4 && x->shape[1] >= 2 && x->shape[2] >= 2,
          "max_pool2d: x must be (N,H,W,C) with H and W at least 2, got %s", xs);
    tensor *y = tensor_new(SHAPE(x->shape[0], x->shape[1] / 2, x->shape[2] / 2, x->shape[3]), DTYPE_F32, x->device);
    switch (x->device) {
        case DEVICE_CPU:
            max_pool2d_forward_cpu(tensor_f32(x), tensor_f32(y), x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
            break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            max_pool2d_forward_cuda(tensor_f32(x), tensor_f32(y), x->shape[0], x->shape[1], x->shape[2], x->shape[3]);
            break;
#endif
        default: DEVICE_UNSUPPORTED("max_pool2d", x->device);
    }
    ag_record("max_pool2d", max_pool2d_backward, y, 1, (tensor *[]){x});
    return tensor_autorelease(y);
}
