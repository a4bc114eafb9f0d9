/* region.h: copy a box of elements between two contiguous tensors of the same rank: the kernel behind
 * pad, slice and concat (and their gradients). Inner rows go through memcpy; outer rows in parallel. */
#ifndef VAEC_OPS_REGION_H
#define VAEC_OPS_REGION_H
#include <stdint.h>
#include "core/device.h"   // defines: device_t

/* copies the box of size `count` at `src_off` in src (shape sshape) to `dst_off` in dst (shape dshape) */
void region_copy_cpu(const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                     const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);
/* the same on the device both pointers live on (CUDA: core/ops/region.cu) */
void region_copy(device_t dev, const float *src, const int64_t *sshape, const int64_t *src_off, float *dst,
                 const int64_t *dshape, const int64_t *dst_off, const int64_t *count, int ndim);

#endif
