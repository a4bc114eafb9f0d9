/* basic.h: the leaf layers models are built from: conv2d, conv3d, group norm, linear.
 * Each holds its parameters (registered in a param_list under its PyTorch key prefix) and its fixed
 * arguments; *_forward runs the op. Init follows PyTorch's defaults (U(+-1/sqrt(fan_in)); norm 1/0). */
#ifndef VAEC_LAYERS_BASIC_H
#define VAEC_LAYERS_BASIC_H
#include "core/ops.h"        // defines: op_conv2d, op_group_norm, op_linear
#include "layers/params.h"   // defines: param_list

typedef struct { tensor *w, *b; conv2d_args args; } conv2d_layer;
typedef struct { tensor *w, *b; conv3d_args args; } conv3d_layer;
typedef struct { tensor *w, *b; int groups; float eps; } group_norm_layer;
typedef struct { tensor *w, *b; } linear_layer;

/* k x k conv, symmetric padding `pad` (Downsample2D passes its own asymmetric args after init) */
void conv2d_layer_init(conv2d_layer *l, param_list *pl, const char *prefix, int cin, int cout, int k, int stride,
                       int pad, bool bias, rng_state *rng);
tensor *conv2d_layer_forward(const conv2d_layer *l, tensor *x);

/* kt x kh x kw conv with the given padding and stride */
void conv3d_layer_init(conv3d_layer *l, param_list *pl, const char *prefix, int cin, int cout, const int k[3],
                       const conv3d_args *args, bool bias, rng_state *rng);
tensor *conv3d_layer_forward(const conv3d_layer *l, tensor *x);

void group_norm_layer_init(group_norm_layer *l, param_list *pl, const char *prefix, int channels, int groups, float eps);
tensor *group_norm_layer_forward(const group_norm_layer *l, tensor *x);

void linear_layer_init(linear_layer *l, param_list *pl, const char *prefix, int in, int out, bool bias, rng_state *rng);
tensor *linear_layer_forward(const linear_layer *l, tensor *x);

#endif
