/* reduce_cuda.h: CUDA kernels behind sum/mean (reduce.cu) and the gradient norm (optim/clip.c).
 * Sums over everything cut x into a fixed number of chunks (from n alone), each summed in double by one
 * block with a fixed tree, the chunks then added in order by one thread: deterministic. Reductions over
 * some dims go through sum_to_shape (broadcast_cuda.h). Built only with CUDA. */
#ifndef VAEC_OPS_REDUCE_CUDA_H
#define VAEC_OPS_REDUCE_CUDA_H
#include <stdint.h>
#include "core/ops/broadcast.h"   // defines: bcast_plan

/* sum of x (squares: sum of x^2) times scale; written as float to out_f and/or double to out_d (device
   pointers, either may be NULL) */
void sum_all_cuda(const float *x, int64_t n, int squares, double scale, float *out_f, double *out_d);
/* d[i] = (float)((double)d[i] / count) */
void divide_by_count_cuda(float *d, int64_t n, int64_t count);
/* gx[i] = g[offset of i in g through plan p (g is input b)] * scale: the backward of sum/mean */
void reduce_backward_cuda(const bcast_plan *p, const float *g, float *gx, float scale);

#endif
