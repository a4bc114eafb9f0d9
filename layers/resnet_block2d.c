/* resnet_block2d.c: ResnetBlock2D (see resnet_block2d.h). */
#include "layers/resnet_block2d.h"

void resnet_block2d_init(resnet_block2d *r, param_list *pl, const char *prefix, int cin, int cout, int groups, float eps,
                         rng_state *rng) {
    char p[512];
#define SUB(name) (snprintf(p, sizeof p, "%s.%s", prefix, name), p)
    group_norm_layer_init(&r->norm1, pl, SUB("norm1"), cin, groups, eps);
    conv2d_layer_init(&r->conv1, pl, SUB("conv1"), cin, cout, 3, 1, 1, true, rng);
    group_norm_layer_init(&r->norm2, pl, SUB("norm2"), cout, groups, eps);
    conv2d_layer_init(&r->conv2, pl, SUB("conv2"), cout, cout, 3, 1, 1, true, rng);
    r->has_shortcut = cin != cout;
    if (r->has_shortcut) conv2d_layer_init(&r->conv_shortcut, pl, SUB("conv_shortcut"), cin, cout, 1, 1, 0, true, rng);
#undef SUB
}

tensor *resnet_block2d_forward(const resnet_block2d *r, tensor *x) {
    tensor_scope_begin();
    tensor *h = conv2d_layer_forward(&r->conv1, op_silu(group_norm_layer_forward(&r->norm1, x)));
    h = conv2d_layer_forward(&r->conv2, op_silu(group_norm_layer_forward(&r->norm2, h)));
    tensor *skip = r->has_shortcut ? conv2d_layer_forward(&r->conv_shortcut, x) : x;
    return tensor_scope_end(op_add(skip, h));
}
