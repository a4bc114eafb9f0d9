/* resnet_block2d.h: diffusers' ResnetBlock2D as the SDXL VAE uses it (no time embedding, no dropout,
 * output scale 1): h = conv2(silu(norm2(conv1(silu(norm1(x)))))), out = h + (conv_shortcut(x) if the
 * channel count changes else x). 3x3 convs with bias, 1x1 shortcut with bias, x channels-last (N,H,W,C). */
#ifndef VAEC_LAYERS_RESNET_BLOCK2D_H
#define VAEC_LAYERS_RESNET_BLOCK2D_H
#include "layers/basic.h"   // defines: conv2d_layer, group_norm_layer

typedef struct {
    group_norm_layer norm1, norm2;
    conv2d_layer conv1, conv2, conv_shortcut;
    bool has_shortcut;
} resnet_block2d;

void resnet_block2d_init(resnet_block2d *r, param_list *pl, const char *prefix, int cin, int cout, int groups, float eps,
                         rng_state *rng);
tensor *resnet_block2d_forward(const resnet_block2d *r, tensor *x);

#endif
