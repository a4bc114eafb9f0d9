/* conv_case.h: one convolution test case (shape, kernel, stride, per-side pads), shared by the CPU conv
 * tests (tests/ops/test_conv.c, test_conv_winograd.c) and their CUDA twins (tests/cuda/test_cuda_conv.c).
 *
 *   conv_case_fn(case, in)                 -> op_conv2d / op_conv3d of in[0] (x) and in[1] (w), with in[2]
 *                                             (b) when the case has a bias; a gc_fn for gradcheck and twins
 *   conv_case_inputs(case, seed, ws, in)   -> in[0..2] = x ~ N(0,1), w ~ N(0,ws^2), b ~ N(0,1) from seeds
 *                                             seed, seed+1, seed+2, each requiring grad (caller releases) */
#ifndef VAEC_TESTS_CONV_CASE_H
#define VAEC_TESTS_CONV_CASE_H
#include <stdint.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    const char *name;
    int dims;                 /* 2 or 3 */
    int64_t x[5];             /* channels-last */
    int cout, k[3], stride[3], pad[6];   /* pad: t_front,t_back,h_top,h_bottom,w_left,w_right */
    int bias;
} conv_case;

tensor *conv_case_fn(void *ctx, tensor **in);
void conv_case_inputs(const conv_case *c, uint64_t seed, float w_scale, tensor **in);

#endif
