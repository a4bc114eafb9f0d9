// shape.cu: permute, one thread per output element reading its input element through the permuted strides.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/shape_cuda.h"
#include "core/tensor.h"        // defines: TENSOR_MAX_DIMS
}

typedef struct {
    int ndim;
    int64_t oshape[TENSOR_MAX_DIMS], istride[TENSOR_MAX_DIMS];   // istride[d]: input stride of output dim d
    int64_t n;
} permute_desc;

static __global__ void permute_kernel(permute_desc p, const float *x, float *y) {
    CUDA_FOR(i, p.n) {
        int64_t off = 0, rem = i;
        for (int d = p.ndim - 1; d >= 0; d--) {
            off += (rem % p.oshape[d]) * p.istride[d];
            rem /= p.oshape[d];
        }
        y[i] = x[off];
    }
}

extern "C" void permute_cuda(const float *x, const int64_t *shape, int ndim, const int *perm, float *y) {
    permute_desc p;
    int64_t stride[TENSOR_MAX_DIMS], s = 1;
    for (int d = ndim - 1; d >= 0; d--) { stride[d] = s; s *= shape[d]; }
    p.ndim = ndim;
    p.n = 1;
    for (int d = 0; d < ndim; d++) {
        p.oshape[d] = shape[perm[d]];
        p.istride[d] = stride[perm[d]];
        p.n *= p.oshape[d];
    }
    if (p.n == 0) return;
    permute_kernel<<<cuda_blocks(p.n, 256), 256, 0, vaec_stream()>>>(p, x, y);
    CUDA_CHECK_LAUNCH("permute");
}
