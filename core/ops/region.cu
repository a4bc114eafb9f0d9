// region.cu: box copy between contiguous tensors, one thread per copied element.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/region_cuda.h"
#include "core/tensor.h"        // defines: TENSOR_MAX_DIMS
}

typedef struct {
    int ndim;
    int64_t count[TENSOR_MAX_DIMS];
    int64_t ss[TENSOR_MAX_DIMS], ds[TENSOR_MAX_DIMS];   // element strides of src and dst
    int64_t src_base, dst_base;                         // offsets of the box's first element
    int64_t n;
} region_desc;

static __global__ void region_kernel(region_desc r, const float *src, float *dst) {
    CUDA_FOR(i, r.n) {
        int64_t so = r.src_base, dof = r.dst_base, rem = i;
        for (int d = r.ndim - 1; d >= 0; d--) {
            int64_t c = rem % r.count[d];
            rem /= r.count[d];
            so += c * r.ss[d];
            dof += c * r.ds[d];
        }
        dst[dof] = src[so];
    }
}

extern "C" void region_copy_cuda(const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                                 const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim) {
    region_desc r;
    r.ndim = ndim;
    r.n = 1;
    r.src_base = r.dst_base = 0;
    int64_t ss = 1, ds = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        r.count[d] = count[d];
        r.ss[d] = ss;
        r.ds[d] = ds;
        r.src_base += src_off[d] * ss;
        r.dst_base += dst_off[d] * ds;
        r.n *= count[d];
        ss *= sshape[d];
        ds *= dshape[d];
    }
    if (r.n == 0) return;
    region_kernel<<<cuda_blocks(r.n, 256), 256, 0, vaec_stream()>>>(r, src, dst);
    CUDA_CHECK_LAUNCH("region copy (pad/slice/concat)");
}
