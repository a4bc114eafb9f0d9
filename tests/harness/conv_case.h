/* conv_case.h: one convolution test case (shape, kernel, stride, per-side pads), shared by the CPU conv
 * tests (tests/ops/test_conv.c) and their CUDA twins (tests/cuda/test_cuda_conv.c). */
#ifndef VAEC_TESTS_CONV_CASE_H
#define VAEC_TESTS_CONV_CASE_H
#include <stdint.h>

typedef struct {
    const char *name;
    int dims;                 /* 2 or 3 */
    int64_t x[5];             /* channels-last */
    int cout, k[3], stride[3], pad[6];   /* pad: t_front,t_back,h_top,h_bottom,w_left,w_right */
    int bias;
} conv_case;

#endif
