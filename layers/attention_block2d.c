/* attention_block2d.c: mid-block attention (see attention_block2d.h). */
#include "layers/attention_block2d.h"
#include <math.h>

const param_alias attention_block2d_old_names[] = {
    {"to_q.weight", "query.weight"},         {"to_q.bias", "query.bias"},
    {"to_k.weight", "key.weight"},           {"to_k.bias", "key.bias"},
    {"to_v.weight", "value.weight"},         {"to_v.bias", "value.bias"},
    {"to_out.0.weight", "proj_attn.weight"}, {"to_out.0.bias", "proj_attn.bias"},
    {NULL, NULL},
};

void attention_block2d_init(attention_block2d *a, param_list *pl, const char *prefix, int channels, int groups,
                            float eps, rng_state *rng) {
    char p[512];
#define SUB(name) (snprintf(p, sizeof p, "%s.%s", prefix, name), p)
    group_norm_layer_init(&a->norm, pl, SUB("group_norm"), channels, groups, eps);
    linear_layer_init(&a->to_q, pl, SUB("to_q"), channels, channels, true, rng);
    linear_layer_init(&a->to_k, pl, SUB("to_k"), channels, channels, true, rng);
    linear_layer_init(&a->to_v, pl, SUB("to_v"), channels, channels, true, rng);
    linear_layer_init(&a->to_out, pl, SUB("to_out.0"), channels, channels, true, rng);
#undef SUB
    a->channels = channels;
}

tensor *attention_block2d_forward(const attention_block2d *a, tensor *x) {
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(x->ndim == 4 && x->shape[3] == a->channels, "attention block: expects (N,H,W,%d), got %s", a->channels, s);
    int64_t n = x->shape[0], h = x->shape[1], w = x->shape[2], c = x->shape[3];
    tensor_scope_begin();
    /* channels-last (N,H,W,C) is already (N, H*W, C): a view, no transpose */
    tensor *seq = op_reshape(group_norm_layer_forward(&a->norm, x), SHAPE(n, h * w, c));
    tensor *q = linear_layer_forward(&a->to_q, seq), *k = linear_layer_forward(&a->to_k, seq);
    tensor *v = linear_layer_forward(&a->to_v, seq);
    tensor *o = linear_layer_forward(&a->to_out, op_attention(q, k, v, 1.0f / sqrtf((float)c)));
    return tensor_scope_end(op_add(op_reshape(o, SHAPE(n, h, w, c)), x));
}
