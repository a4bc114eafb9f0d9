/* cpu.h: the index of core/cpu/, the CPU kernels that run through a library (oneDNN) and vaec's own
 * kernels too big or too shared to sit inside one op's file.
 *
 * core/ops/<op>.c keeps each op's checks, dispatch and autograd, and its small loops; the CPU kernels it
 * dispatches to for convolutions and GEMMs are here. Which one runs is chosen at run time from the CPU:
 * cpu_backend_use_dnnl() and dnnl_conv_preferred() (dnnl_util.h; VAEC_CPU_BACKEND=dnnl|own).
 *
 *   conv_cpu.c       conv_forward_cpu / conv_backward_cpu: picks the kernel (conv_uses_dnnl), runs
 *                    vaec's im2col + GEMM and col2im where oneDNN does not run
 *   conv_choice.c    which kernel runs a conv (conv_uses_dnnl, conv_current_algorithm; VAEC_CONV_ALGO)
 *   conv_dnnl.c      conv2d/conv3d forward, input gradient, weight + bias gradient (oneDNN convolution)
 *   weight_cache.c   oneDNN's reordered conv weights kept while the parameters are unchanged weight_cache.h
 *   conv_bwd_flip.c  a stride-1 conv's input gradient as a forward conv on flipped weights   conv_bwd_flip.h
 *   conv_bf16_cpu.c  conv_forward_bf16_path / conv_backward_bf16_path: oneDNN's bf16 kernels, or widen to
 *                    float32, run the float32 conv and round (per pass, as the caller says)
 *   conv_winograd.c  vaec's Winograd F(2x2,3x3) forward and weight gradient (AVX2 CPUs)
 *   gemm.c           gemm_f32: the GEMM of matmul, linear and attention (oneDNN sgemm or OpenBLAS)  gemm.h
 *   gemm_bf16.c      gemm_bf16_path: bf16 operands, float32 result (oneDNN matmul, or widen +
 *                    gemm_f32)                                                                   gemm_bf16.h
 *   bf16_cpu.c       the bf16 path choice per kernel class (bf16_cpu_native_for; VAEC_BF16_KERNELS)
 *                    and the entry points that follow it: conv_*_bf16_cpu, gemm_bf16            bf16_cpu.h
 *   bf16_probe.c     times native and widened bf16 once per process, for that choice           bf16_probe.h
 *   bf16_convert.c   bf16 <-> float32 arrays, the bf16 kernels' operands                        bf16_convert.h
 *   gemm_avx2.c      the AVX2 kernel of the Winograd products                                    gemm_avx2.h
 *   threads.c        the one thread count of OpenMP, oneDNN and OpenBLAS                            threads.h
 *   prim_cache.c     the LRU cache of built oneDNN primitives (convolutions, bf16 GEMMs)        prim_cache.h
 *   dnnl_util.c      oneDNN engine, stream, descriptors, allocator-backed scratch, backend choice  dnnl_util.h
 *   exp_vec.h        8-lane expf (softmax, SiLU); vec8.h: the 8-float vector type they share
 */
#ifndef VAEC_CPU_H
#define VAEC_CPU_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/cpu/bf16_convert.h"   // defines: bf16_operand
#include "core/ops/conv.h"        // defines: conv_geom

/* the CPU conv entry points (core/ops/conv.c dispatches here): oneDNN, Winograd or im2col per
 * conv_uses_dnnl / conv_winograd_applies; any of gx, gw, gb may be NULL (not needed), the others are
 * overwritten */
void conv_forward_cpu(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
void conv_backward_cpu(const conv_geom *g, const float *x, const float *w, const float *gy, float *gx, float *gw,
                       float *gb);
/* gb = column sums of gy (P rows of CO), in double over a fixed partition (deterministic) */
void conv_bias_grad_cpu(const float *gy, int64_t P, int64_t CO, float *gb);
/* the two paths of the bf16 conv, per pass: native (oneDNN's bf16 kernels) or widened (the float32 conv on
 * widened copies, the result rounded); conv_forward_bf16_cpu / conv_backward_bf16_cpu (bf16_cpu.h) run the one
 * chosen for each pass. bf16 x, w, b -> bf16 y (float32 accumulation); gradients float32 from the float32
 * output gradient gy, which is rounded to bf16 for the products as on CUDA (the bias gradient sums gy
 * itself). w and b are bf16, or autocast's float32 master weights rounded here (the widened path rounds and
 * widens them in one pass); b.data NULL: no bias */
void conv_forward_bf16_path(const conv_geom *g, const uint16_t *x, bf16_operand w, bf16_operand b, uint16_t *y,
                            bool native);
void conv_backward_bf16_path(const conv_geom *g, const uint16_t *x, bf16_operand w, const float *gy, float *gx,
                             float *gw, float *gb, bool native_gx, bool native_gw);
/* im2col tile budget (default 32 MiB; 0 restores it). Tests shrink it to force one output row per tile. */
void conv_set_workspace_limit(size_t bytes);
/* Winograd forward for kh = kw = 3, stride 1 in H and W, >= 16 channels in and out, and enough 2x2 output
 * tiles to pay for transforming the weights (see conv_winograd.c) */
bool conv_winograd_applies(const conv_geom *g);
void conv_winograd_forward_cpu(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
/* the weight gradient the same way (overwrites gw) */
void conv_winograd_weight_grad_cpu(const conv_geom *g, const float *x, const float *gy, float *gw);

void conv_dnnl_forward(const conv_geom *g, const float *x, const float *w, const float *b, float *y);
void conv_dnnl_backward_data(const conv_geom *g, const float *w, const float *gy, float *gx);
/* gb may be NULL; gw and gb are overwritten */
void conv_dnnl_backward_weights(const conv_geom *g, const float *x, const float *gy, float *gw, float *gb);
/* the same with bf16 operands (x, w, b, y and gy bf16; gx, gw float32); the bias gradient is the caller's */
void conv_dnnl_forward_bf16(const conv_geom *g, const uint16_t *x, const uint16_t *w, const uint16_t *b, uint16_t *y);
void conv_dnnl_backward_data_bf16(const conv_geom *g, const uint16_t *w, const uint16_t *gy, float *gx);
void conv_dnnl_backward_weights_bf16(const conv_geom *g, const uint16_t *x, const uint16_t *gy, float *gw);
/* float32 x, b and y with bf16 weights (a bf16 conv on the widened path): the weights are widened by the reorder
 * into the kernel's layout, which is kept while their version holds (weight_cache.h), so a frozen module held in
 * bf16 is neither widened nor reordered again at every call */
void conv_dnnl_forward_f32_bf16_weights(const conv_geom *g, const float *x, const uint16_t *w, const float *b, float *y);
/* the oneDNN implementation chosen for g (kind 0 forward, 1 backward data, 2 backward weights), in float32 or
 * bf16: "brgconv:avx512_core", ... */
const char *conv_dnnl_impl_name(const conv_geom *g, int kind, bool bf16);
/* whether g's input gradient runs as a forward conv on flipped weights (conv_bwd_flip.h; VAEC_CONV_BWD_DATA):
 * conv_dnnl_impl_name(g, 1, bf16) then names that forward's kernel */
bool conv_dnnl_bwd_data_as_forward(const conv_geom *g, bool bf16);

#endif
