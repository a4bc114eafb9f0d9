/* conv.h: 2-D and 3-D convolution on channels-last tensors, with stride and per-side zero padding.
 *
 *   op_conv3d: x (B,T,H,W,Cin), w (Cout,kt,kh,kw,Cin), b (Cout) or NULL -> (B,To,Ho,Wo,Cout)
 *   op_conv2d: x (N,H,W,Cin),   w (Cout,kh,kw,Cin),    b (Cout) or NULL -> (N,Ho,Wo,Cout)
 *   To = (T + pad_front + pad_back - kt) / stride_t + 1, likewise H and W.
 *
 * Padding is per side, so CausalConv3d's front-only time pad ({k-1 + 1-stride, 0, ...}) and
 * Downsample2D's (0,1,0,1) need no separate pad op. On the CPU both run through oneDNN where it is the
 * faster (core/cpu/conv_dnnl.c: CPUs with AVX-512), else through vaec's own kernels (core/cpu/conv_cpu.c):
 * im2col over tiles of output positions + cblas_sgemm; 1x1 convs with stride 1 skip im2col; 3x3 kernels
 * with stride 1 in H and W (any kt, any time stride) by Winograd F(2x2,3x3) (core/cpu/conv_winograd.c).
 * On CUDA they run through
 * cuDNN (conv.cu). Both devices take float32, or bf16 x, w, b with a bf16 result (fp32 accumulation; on
 * the CPU oneDNN's bf16 kernels where they measured faster on this CPU, else a float32 conv on widened
 * copies: core/cpu/conv_bf16_cpu.c, core/cpu/bf16_cpu.h); gradients are float32. */
#ifndef VAEC_OPS_CONV_H
#define VAEC_OPS_CONV_H
#include "core/tensor.h"   // defines: tensor

typedef struct { int stride[3]; int pad[6]; } conv3d_args;  /* stride t,h,w; pad t_front,t_back,h_top,h_bottom,w_left,w_right */
typedef struct { int stride[2]; int pad[4]; } conv2d_args;  /* stride h,w; pad top,bottom,left,right */

tensor *op_conv3d(tensor *x, tensor *w, tensor *b, const conv3d_args *a);
tensor *op_conv2d(tensor *x, tensor *w, tensor *b, const conv2d_args *a);

/* the geometry both share; conv2d is T = kt = 1 */
typedef struct {
    int64_t B, T, H, W, cin, cout, kt, kh, kw;
    int st, sh, sw, pad[6];
    int64_t To, Ho, Wo;
    uint64_t w_version;   /* a parameter's weights: their storage's version (mem_block.version), so oneDNN's reordered
                             copy can be kept (core/cpu/weight_cache.h); 0: unknown or temporary weights, never cached
                             (the bf16 kernels zero it where they hand over a rounded or widened copy) */
} conv_geom;

/* Which CPU kernel runs a conv (the kernels: core/cpu/cpu.h). AUTO: oneDNN on CPUs with AVX-512 unless
 * VAEC_CPU_BACKEND=own, otherwise (AVX2 CPUs) vaec's Winograd where it pays and im2col elsewhere; DNNL:
 * oneDNN; IM2COL: vaec's im2col + GEMM only; WINOGRAD: vaec's Winograd wherever the kernel shape allows, at
 * any size, im2col elsewhere (tests). VAEC_CONV_ALGO=auto|dnnl|im2col|winograd sets it for a run;
 * conv_set_algorithm overrides that. This picks the float32 kernel; a bf16 conv runs oneDNN's bf16 kernels
 * where bf16_cpu_native_for() picks them per pass (core/cpu/bf16_cpu.h), else this choice on widened copies. */
typedef enum { CONV_ALGO_AUTO, CONV_ALGO_IM2COL, CONV_ALGO_WINOGRAD, CONV_ALGO_DNNL } conv_algo;
void conv_set_algorithm(conv_algo a);
conv_algo conv_current_algorithm(void);
bool conv_uses_dnnl(const conv_geom *g);
const char *conv_backend_name(void);   /* what AUTO runs on this CPU: "oneDNN" or "vaec's Winograd/im2col" */

#endif
