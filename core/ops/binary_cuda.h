/* binary_cuda.h: CUDA kernels of broadcasting add/sub/mul/div (binary.cu), on device pointers, driven by
 * the same broadcast plan as the CPU path. The gradient reductions go through sum_to_shape (broadcast.h),
 * which has its own deterministic CUDA kernel. Built only with CUDA. */
#ifndef VAEC_OPS_BINARY_CUDA_H
#define VAEC_OPS_BINARY_CUDA_H
#include "core/ops/binary.h"      // defines: binary_kind
#include "core/ops/broadcast.h"   // defines: bcast_plan

void binary_forward_cuda(binary_kind k, const bcast_plan *p, const float *a, const float *b, float *y);
/* d(result)/d(a) (which 0) or d/d(b) (which 1) times gy, in the result's shape */
void binary_full_grad_cuda(binary_kind k, int which, const bcast_plan *p, const float *a, const float *b,
                           const float *gy, float *out);

#endif
