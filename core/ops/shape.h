/* shape.h: reshape (a view), permute (a copy), and the temporal decoder's depth-to-time.
 *
 * op_depth_to_time: (B,T,H,W,C*ts) -> (B,T*ts,H,W,C): channel c*ts+s of frame t becomes channel c of frame
 * t*ts+s. This is einops "B (C ts) T H W -> B C (T ts) H W" of Open-Sora's temporal decoder, written on
 * vaec's channels-last layout. */
#ifndef VAEC_OPS_SHAPE_H
#define VAEC_OPS_SHAPE_H
#include "core/tensor.h"   // defines: tensor

tensor *op_reshape(tensor *x, int ndim, const int64_t *shape);   /* one dim may be -1; shares storage */
tensor *op_permute(tensor *x, const int *perm);                   /* out dim d = in dim perm[d] */
tensor *op_depth_to_time(tensor *x, int ts);
void permute_cpu(const float *x, const int64_t *shape, int ndim, const int *perm, float *y);
/* layout conversion where vaec meets PyTorch (no autograd, CPU): (N,C,...) <-> (N,...,C). The same move
   turns a PyTorch conv weight (Cout,Cin,k...) into vaec's (Cout,k...,Cin) and back. */
tensor *permute_channels_last(const tensor *t);
tensor *permute_channels_first(const tensor *t);

#endif
