/* conv_bwd_flip.h: a stride-1 conv's input gradient computed as a forward conv, for oneDNN builds whose
 * backward-data kernel is slower than their forward one (conv_dnnl.c picks per geometry).
 *
 * For stride 1 and dilation 1, dx = conv_forward(dy, W') where W'[ci][k][co] = W[co][K-1-k][ci]: in and out
 * channels swapped and every kernel axis (time, height, width) flipped, with per-side pads K-1-pad_l and
 * K-1-pad_r on each axis. The output is then exactly the input's size (CausalConv3d's front-only time pad
 * (K-1, 0) becomes (0, K-1)). It is the same sum as backward-data's, in another order.
 *
 * conv_dnnl.c holds the flipped problem (flipped_forward_key) and writes W' straight into the forward
 * kernel's blocked layout, one oneDNN reorder per kernel tap from a strided (in/out-swapped) view of W's
 * mirrored tap, all taps in one parallel region: oneDNN takes no negative strides, and this is one pass over
 * the weights instead of a flip into a plain copy and a reorder of that (1.8 against 26 ms, 512x512x3x3, one
 * loaded measurement). The copy is kept like the reordered weights (weight_cache.h: the flip is in its key).
 *
 * Which way runs: VAEC_CONV_BWD_DATA=auto|direct|forward for a run, conv_set_bwd_data_mode from a test.
 * auto (the default) takes the forward way for float32 convs where oneDNN's backward-data kernel for the
 * geometry is not a brgemm one while its forward kernel for the flipped problem is (oneDNN 2.6 on AVX-512: jit
 * against brgconv); bf16 convs stay direct (a tie there); direct always runs backward-data; forward takes the
 * forward way wherever the stride allows, float32 or bf16. */
#ifndef VAEC_CPU_CONV_BWD_FLIP_H
#define VAEC_CPU_CONV_BWD_FLIP_H
#include <stdbool.h>

typedef enum { CONV_BWD_DATA_AUTO, CONV_BWD_DATA_DIRECT, CONV_BWD_DATA_FORWARD } conv_bwd_data_mode;

void conv_set_bwd_data_mode(conv_bwd_data_mode m);   /* AUTO restores VAEC_CONV_BWD_DATA (tests) */
conv_bwd_data_mode conv_current_bwd_data_mode(void);
/* the mode a VAEC_CONV_BWD_DATA value names ("" or NULL: auto); stops with a hint on anything else */
conv_bwd_data_mode conv_bwd_data_mode_parse(const char *value);

#endif
