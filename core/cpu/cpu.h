/* cpu.h: the index of core/cpu/, the CPU kernels that run through a library (oneDNN).
 *
 * core/ops/<op>.c keeps each op's checks, dispatch and autograd; the kernels it dispatches to on the CPU
 * are here (library-backed) or beside it in core/ops/ (vaec's own: im2col, Winograd, loops). Which one
 * runs: cpu_backend_use_dnnl() (dnnl_util.h; VAEC_CPU_BACKEND=dnnl|own).
 *
 *   conv_dnnl.c     conv2d/conv3d forward, input gradient, weight + bias gradient (oneDNN convolution)
 *   matmul_dnnl.c   batched row-major GEMM with transposes (oneDNN matmul)
 *   dnnl_util.c     engine, stream, descriptors, allocator-backed scratch
 */
#ifndef VAEC_CPU_H
#define VAEC_CPU_H
#include <stdbool.h>
#include <stdint.h>
#include "core/ops/conv.h"   // defines: conv_geom

void conv_dnnl_forward(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
void conv_dnnl_backward_data(const conv_geom *g, const float *w, const float *gy, float *gx);
/* gb may be NULL; gw and gb are overwritten */
void conv_dnnl_backward_weights(const conv_geom *g, const float *x, const float *gy, float *gw, float *gb);
/* the oneDNN implementation chosen for g (kind 0 forward, 1 backward data, 2 backward weights): "brgconv:avx512_core", ... */
const char *conv_dnnl_impl_name(const conv_geom *g, int kind);

#endif
