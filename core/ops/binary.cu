// binary.cu: broadcasting elementwise ops, one thread per result element; offsets into a and b come
// from the plan's strides (0 on broadcast dims), as bcast_offset does on the CPU.
#include "core/cuda_util.cuh"   // defines: CUDA_FOR, CUDA_CHECK_LAUNCH, vaec_stream, cuda_blocks
extern "C" {
#include "core/ops/binary_cuda.h"
}

static __device__ __forceinline__ void offsets(const bcast_plan &p, int64_t i, int64_t *oa, int64_t *ob) {
    int64_t a = 0, b = 0;
    for (int d = p.ndim - 1; d >= 0 && i > 0; d--) {
        int64_t n = p.shape[d], c = i % n;
        a += c * p.sa[d];
        b += c * p.sb[d];
        i /= n;
    }
    *oa = a;
    *ob = b;
}

static __device__ __forceinline__ float apply(binary_kind k, float a, float b) {
    switch (k) {
        case BINARY_ADD: return a + b;
        case BINARY_SUB: return a - b;
        case BINARY_MUL: return a * b;
        default: return a / b;
    }
}

static __global__ void binary_forward_kernel(binary_kind k, bcast_plan p, const float *a, const float *b, float *y) {
    CUDA_FOR(i, p.numel) {
        int64_t oa = i, ob = i;
        if (!p.same) offsets(p, i, &oa, &ob);
        y[i] = apply(k, a[oa], b[ob]);
    }
}

static __global__ void binary_grad_kernel(binary_kind k, int which, bcast_plan p, const float *a, const float *b,
                                          const float *gy, float *out) {
    CUDA_FOR(i, p.numel) {
        int64_t oa = i, ob = i;
        if (!p.same) offsets(p, i, &oa, &ob);
        float av = a[oa], bv = b[ob], d;
        switch (k) {
            case BINARY_ADD: d = 1.0f; break;
            case BINARY_SUB: d = which ? -1.0f : 1.0f; break;
            case BINARY_MUL: d = which ? av : bv; break;
            default: d = which ? -av / (bv * bv) : 1.0f / bv; break;
        }
        out[i] = gy[i] * d;
    }
}

extern "C" void binary_forward_cuda(binary_kind k, const bcast_plan *p, const float *a, const float *b, float *y) {
    if (p->numel == 0) return;
    binary_forward_kernel<<<cuda_blocks(p->numel, 256), 256, 0, vaec_stream()>>>(k, *p, a, b, y);
    CUDA_CHECK_LAUNCH("binary forward");
}

extern "C" void binary_full_grad_cuda(binary_kind k, int which, const bcast_plan *p, const float *a, const float *b,
                                      const float *gy, float *out) {
    if (p->numel == 0) return;
    binary_grad_kernel<<<cuda_blocks(p->numel, 256), 256, 0, vaec_stream()>>>(k, which, *p, a, b, gy, out);
    CUDA_CHECK_LAUNCH("binary backward");
}
