/* region.c: box copy between contiguous tensors (see region.h). */
#include "core/ops/region.h"
#include <string.h>
#include "core/tensor.h"   // defines: TENSOR_MAX_DIMS
#ifdef VAEC_HAVE_CUDA
#include "core/ops/region_cuda.h"   // defines: region_copy_cuda
#endif

void region_copy_cpu(const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                     const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim) {
    if (ndim == 0) { dst[0] = src[0]; return; }
    int64_t ss[TENSOR_MAX_DIMS], ds[TENSOR_MAX_DIMS], rows = 1;
    ss[ndim - 1] = ds[ndim - 1] = 1;
    for (int d = ndim - 2; d >= 0; d--) { ss[d] = ss[d + 1] * sshape[d + 1]; ds[d] = ds[d + 1] * dshape[d + 1]; }
    for (int d = 0; d < ndim - 1; d++) rows *= count[d];
    int64_t inner = count[ndim - 1];
    if (rows == 0 || inner == 0) return;
#pragma omp parallel for if (rows * inner > 32768) schedule(static)
    for (int64_t r = 0; r < rows; r++) {
        int64_t so = src_off[ndim - 1], dof = dst_off[ndim - 1], rem = r;
        for (int d = ndim - 2; d >= 0; d--) {
            int64_t c = rem % count[d];
            rem /= count[d];
            so += (src_off[d] + c) * ss[d];
            dof += (dst_off[d] + c) * ds[d];
        }
        memcpy(dst + dof, src + so, (size_t)inner * sizeof(float));
    }
}

void region_copy(device_t dev, const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                 const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim) {
    switch (dev) {
        case DEVICE_CPU: region_copy_cpu(src, sshape, src_off, dst, dshape, dst_off, count, ndim); break;
#ifdef VAEC_HAVE_CUDA
        case DEVICE_CUDA:
            if (ndim == 0) { device_memcpy(dst, dev, src, dev, sizeof(float)); break; }
            region_copy_cuda(src, sshape, src_off, dst, dshape, dst_off, count, ndim);
            break;
#endif
        default: DEVICE_UNSUPPORTED("region copy", dev);
    }
}

bool region_pairs_ok(const int64_t *sshape, const int64_t *src_off, const int64_t *dshape, const int64_t *dst_off,
                     const int64_t *count, int ndim) {
    if (ndim == 0) return false;
    const int l = ndim - 1;
    return sshape[l] % 2 == 0 && dshape[l] % 2 == 0 && src_off[l] % 2 == 0 && dst_off[l] % 2 == 0 && count[l] % 2 == 0;
}

void region_copy_pairs(device_t dev, const uint16_t *src, const int64_t *sshape, const int64_t *src_off, uint16_t *dst,
                       const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim) {
    CHECK(region_pairs_ok(sshape, src_off, dshape, dst_off, count, ndim),
          "region copy of 16-bit elements: the last dim's extents and offsets must be even (the caller checks "
          "region_pairs_ok)");
    int64_t s2[TENSOR_MAX_DIMS], so2[TENSOR_MAX_DIMS], d2[TENSOR_MAX_DIMS], do2[TENSOR_MAX_DIMS], c2[TENSOR_MAX_DIMS];
    memcpy(s2, sshape, (size_t)ndim * sizeof *s2), memcpy(so2, src_off, (size_t)ndim * sizeof *so2);
    memcpy(d2, dshape, (size_t)ndim * sizeof *d2), memcpy(do2, dst_off, (size_t)ndim * sizeof *do2);
    memcpy(c2, count, (size_t)ndim * sizeof *c2);
    const int l = ndim - 1;
    s2[l] /= 2, so2[l] /= 2, d2[l] /= 2, do2[l] /= 2, c2[l] /= 2;
    /* tensors' storage is allocator-aligned and every offset even: each pair is an aligned 32-bit word */
    region_copy(dev, (const float *)(const void *)src, s2, so2, (float *)(void *)dst, d2, do2, c2, ndim);
}
