/* reduce.c: sum/mean over dims and over everything, forward and backward. */
#include "core/ops/reduce.h"
#include <string.h>
#include "autograd/autograd.h"     // defines: ag_record, ag_grad_add_owned
#include "core/ops/broadcast.h"    // defines: sum_to_shape, bcast_plan
#include "core/autocast.h"   // defines: autocast_f32
#ifdef VAEC_HAVE_CUDA
#include "core/ops/reduce_cuda.h"  // defines: sum_all_cuda, divide_by_count_cuda, reduce_backward_cuda
#endif

#define SUM_CHUNKS 256   /* fixed partition: the same additions in the same order on any thread count */

double sum_all_cpu(const float *x, int64_t n) {
    double part[SUM_CHUNKS];
    int64_t chunk = (n + SUM_CHUNKS - 1) / SUM_CHUNKS;
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int c = 0; c < SUM_CHUNKS; c++) {
        double s = 0;
        int64_t end = (int64_t)(c + 1) * chunk < n ? (int64_t)(c + 1) * chunk : n;
        for (int64_t i = (int64_t)c * chunk; i < end; i++) s += x[i];
        part[c] = s;
    }
    double s = 0;
    for (int c = 0; c < SUM_CHUNKS; c++) s += part[c];
    return s;
}

typedef struct {
    int ndim;                          /* input rank */
    int64_t kshape[TENSOR_MAX_DIMS];   /* keepdim shape of the result */
    float scale;                       /* 1 for sum, 1/count for mean */
} reduce_ctx;

/* gx = broadcast of gy (seen in the keepdim shape) to x's shape, times scale */
static void reduce_backward(ag_node *n) {
    reduce_ctx *c = n->ctx;
    tensor *x = n->inputs[0], *gy = n->out->grad;
    tensor gk = *gy;   /* the same data seen in the keepdim shape */
    gk.ndim = c->ndim;
    memcpy(gk.shape, c->kshape, sizeof c->kshape);
    tensor *gx = tensor_empty_like(x);
    bcast_plan p;
    bcast_plan_init(&p, x, &gk, "sum_backward");
    const float *g = tensor_f32(gy);
    float *o = tensor_f32(gx);
    int64_t nx = x->numel;
    float s = c->scale;
    switch (x->device) {
        case DEVICE_CPU: break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            reduce_backward_cuda(&p, g, o, s);
            ag_grad_add_owned(x, gx);
            return;
#endif
        default: DEVICE_UNSUPPORTED("sum_backward", x->device);
    }
#pragma omp parallel for if (nx > 32768) schedule(static)
    for (int64_t i = 0; i < nx; i++) o[i] = g[bcast_offset(&p, i, 1)] * s;
    ag_grad_add_owned(x, gx);
}

static tensor *reduce(tensor *x, int n_dims, const int *dims, bool keepdim, bool mean, const char *name) {
    x = autocast_f32(x);   /* a bf16 op's result: widened, as torch promotes (core/autocast.h) */
    bool red[TENSOR_MAX_DIMS] = {0};
    for (int i = 0; i < n_dims; i++) {
        int d = dims[i] < 0 ? dims[i] + x->ndim : dims[i];
        CHECK(d >= 0 && d < x->ndim, "%s: dim %d out of range for a %d-dim tensor", name, dims[i], x->ndim);
        red[d] = true;
    }
    reduce_ctx c = {.ndim = x->ndim, .scale = 1.0f};
    int64_t count = 1, oshape[TENSOR_MAX_DIMS] = {0};
    int ond = 0;
    for (int d = 0; d < x->ndim; d++) {
        c.kshape[d] = red[d] ? 1 : x->shape[d];
        if (red[d]) count *= x->shape[d];
        if (!red[d] || keepdim) oshape[ond++] = c.kshape[d];
    }
    if (mean) {
        CHECK(count > 0, "%s over an empty dim", name);
        c.scale = 1.0f / (float)count;
    }
    if (x->device != DEVICE_CPU && !(device_cuda_compiled() && x->device == DEVICE_CUDA))
        DEVICE_UNSUPPORTED(name, x->device);
    tensor *y;
    int64_t nout = 1;
    for (int d = 0; d < x->ndim; d++) nout *= c.kshape[d];
    if (nout == 1) {
        y = tensor_new(ond, oshape, DTYPE_F32, x->device);
        double scale = mean ? 1.0 / (double)count : 1.0;
#ifdef VAEC_HAVE_CUDA
        if (x->device == DEVICE_CUDA) sum_all_cuda(tensor_f32(x), x->numel, 0, scale, tensor_f32(y), NULL);
        else
#endif
        tensor_f32(y)[0] = (float)(sum_all_cpu(tensor_f32(x), x->numel) * scale);
    } else {
        tensor *k = sum_to_shape(x, x->ndim, c.kshape);   /* CPU or CUDA */
#ifdef VAEC_HAVE_CUDA
        if (mean && k->device == DEVICE_CUDA) divide_by_count_cuda(tensor_f32(k), k->numel, count);
        else
#endif
        if (mean) {
            float *d = tensor_f32(k);
            for (int64_t i = 0; i < k->numel; i++) d[i] = (float)((double)d[i] / (double)count);
        }
        y = tensor_view(k, ond, oshape);
        tensor_release(k);
    }
    ag_node *n = ag_record(name, reduce_backward, y, 1, (tensor *[]){x});
    if (n) *(reduce_ctx *)ag_ctx(n, sizeof c) = c;
    return tensor_autorelease(y);
}

tensor *op_sum(tensor *x, int n_dims, const int *dims, bool keepdim) { return reduce(x, n_dims, dims, keepdim, false, "sum"); }
tensor *op_mean(tensor *x, int n_dims, const int *dims, bool keepdim) { return reduce(x, n_dims, dims, keepdim, true, "mean"); }

static tensor *reduce_all(tensor *x, bool mean) {
    int dims[TENSOR_MAX_DIMS];
    for (int d = 0; d < x->ndim; d++) dims[d] = d;
    return reduce(x, x->ndim, dims, false, mean, mean ? "mean_all" : "sum_all");
}

tensor *op_sum_all(tensor *x) { return reduce_all(x, false); }
tensor *op_mean_all(tensor *x) { return reduce_all(x, true); }
