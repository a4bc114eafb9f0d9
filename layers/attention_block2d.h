/* attention_block2d.h: the VAE mid-block's single-head self-attention over spatial positions
 * (diffusers Attention with heads = 1, residual connection, bias):
 * h = group_norm(x) as (N, H*W, C); out = to_out(softmax(q k^T / sqrt(C)) v) + x, with q, k, v = Linear(C, C).
 * Keys: group_norm, to_q, to_k, to_v, to_out.0 (older checkpoints: query, key, value, proj_attn). */
#ifndef VAEC_LAYERS_ATTENTION_BLOCK2D_H
#define VAEC_LAYERS_ATTENTION_BLOCK2D_H
#include "layers/basic.h"   // defines: linear_layer, group_norm_layer

typedef struct {
    group_norm_layer norm;
    linear_layer to_q, to_k, to_v, to_out;
    int channels;
} attention_block2d;

void attention_block2d_init(attention_block2d *a, param_list *pl, const char *prefix, int channels, int groups,
                            float eps, rng_state *rng);
tensor *attention_block2d_forward(const attention_block2d *a, tensor *x);

/* diffusers' older attention key names, for params_load */
extern const param_alias attention_block2d_old_names[];

#endif
