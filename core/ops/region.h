/* region.h: copy a box of elements between two contiguous tensors of the same rank: the kernel behind
 * pad, slice and concat (and their gradients). Inner rows go through memcpy; outer rows in parallel. */
#ifndef VAEC_OPS_REGION_H
#define VAEC_OPS_REGION_H
#include <stdbool.h>
#include <stdint.h>
#include "core/device.h"   // defines: device_t

/* copies the box of size `count` at `src_off` in src (shape sshape) to `dst_off` in dst (shape dshape) */
void region_copy_cpu(const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                     const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);
/* the same on the device both pointers live on (CUDA: core/ops/region.cu) */
void region_copy(device_t dev, const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                 const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);

/* the same for 16-bit elements (bf16 carried through pad, slice, concat under autocast) on either device:
   two elements move as one 32-bit word through region_copy, so every last-dim extent and offset (both
   shapes, both offsets, count) must be even (region_pairs_ok); 0-d is not */
bool region_pairs_ok(const int64_t *sshape, const int64_t *src_off, const int64_t *dshape, const int64_t *dst_off,
                     const int64_t *count, int ndim);
void region_copy_pairs(device_t dev, const uint16_t *src, const int64_t *sshape, const int64_t *src_off, uint16_t *dst,
                       const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);

#endif
