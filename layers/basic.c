/* basic.c: conv2d, conv3d, group norm and linear layers (see basic.h). */
#include "layers/basic.h"

/* parameters live under the parameters tag so mem_report() separates them from activations */
static tensor *param_tensor(int ndim, const int64_t *shape) {
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *t = tensor_empty(ndim, shape);
    mem_set_tag(prev);
    return t;
}

void conv2d_layer_init(conv2d_layer *l, param_list *pl, const char *prefix, int cin, int cout, int k, int stride,
                       int pad, bool bias, rng_state *rng) {
    l->w = params_add(pl, prefix, "weight", param_tensor(SHAPE(cout, k, k, cin)), PARAM_CONV);
    params_init_uniform(l->w, (int64_t)cin * k * k, rng);
    l->b = NULL;
    if (bias) {
        l->b = params_add(pl, prefix, "bias", param_tensor(SHAPE(cout)), PARAM_PLAIN);
        params_init_uniform(l->b, (int64_t)cin * k * k, rng);
    }
    l->args = (conv2d_args){{stride, stride}, {pad, pad, pad, pad}};
}

tensor *conv2d_layer_forward(const conv2d_layer *l, tensor *x) { return op_conv2d(x, l->w, l->b, &l->args); }

void conv3d_layer_init(conv3d_layer *l, param_list *pl, const char *prefix, int cin, int cout, const int k[3],
                       const conv3d_args *args, bool bias, rng_state *rng) {
    int64_t fan_in = (int64_t)cin * k[0] * k[1] * k[2];
    l->w = params_add(pl, prefix, "weight", param_tensor(SHAPE(cout, k[0], k[1], k[2], cin)), PARAM_CONV);
    params_init_uniform(l->w, fan_in, rng);
    l->b = NULL;
    if (bias) {
        l->b = params_add(pl, prefix, "bias", param_tensor(SHAPE(cout)), PARAM_PLAIN);
        params_init_uniform(l->b, fan_in, rng);
    }
    l->args = *args;
}

tensor *conv3d_layer_forward(const conv3d_layer *l, tensor *x) { return op_conv3d(x, l->w, l->b, &l->args); }

void group_norm_layer_init(group_norm_layer *l, param_list *pl, const char *prefix, int channels, int groups, float eps) {
    CHECK(groups > 0 && channels % groups == 0, "%s: %d channels cannot be split into %d groups (norm_num_groups / "
          "num_groups must divide every channel count)", prefix, channels, groups);
    l->w = params_add(pl, prefix, "weight", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    l->b = params_add(pl, prefix, "bias", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    tensor_fill(l->w, 1.0f);
    tensor_fill(l->b, 0.0f);
    l->groups = groups;
    l->eps = eps;
}

tensor *group_norm_layer_forward(const group_norm_layer *l, tensor *x) {
    return op_group_norm(x, l->w, l->b, l->groups, l->eps);
}

void linear_layer_init(linear_layer *l, param_list *pl, const char *prefix, int in, int out, bool bias, rng_state *rng) {
    l->w = params_add(pl, prefix, "weight", param_tensor(SHAPE(out, in)), PARAM_PLAIN);
    params_init_uniform(l->w, in, rng);
    l->b = NULL;
    if (bias) {
        l->b = params_add(pl, prefix, "bias", param_tensor(SHAPE(out)), PARAM_PLAIN);
        params_init_uniform(l->b, in, rng);
    }
}

tensor *linear_layer_forward(const linear_layer *l, tensor *x) { return op_linear(x, l->w, l->b); }
