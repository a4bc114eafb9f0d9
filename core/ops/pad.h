/* pad.h: constant padding, per side of every dim.
 * pads has 2*ndim entries: pads[2d] elements before dim d, pads[2d+1] after (>= 0). Used for the causal
 * time pad of CausalConv3d (front only) and Downsample2D's (0,1,0,1). */
#ifndef VAEC_OPS_PAD_H
#define VAEC_OPS_PAD_H
#include "core/tensor.h"   // defines: tensor

tensor *op_pad(tensor *x, const int64_t *pads, float value);

#endif
