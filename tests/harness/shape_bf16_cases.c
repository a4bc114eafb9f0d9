/* shape_bf16_cases.c: see shape_bf16_cases.h. */
#include "tests/harness/shape_bf16_cases.h"
#include "autograd/autograd.h"   // defines: ag_set_grad_enabled
#include "core/ops.h"            // defines: op_permute, op_slice, op_concat, op_pad, op_reshape, op_depth_to_time
#include "core/ops/cast.h"       // defines: tensor_cast
#include "core/rng.h"            // defines: rng_seed, rng_fill_normal

static tensor *depth_to_time(tensor **x) { return op_depth_to_time(x[0], 2); }   /* the last dim moves */
static tensor *permute_keep_last(tensor **x) { return op_permute(x[0], (int[]){0, 2, 1, 3}); }
static tensor *reshape_fn(tensor **x) { return op_reshape(x[0], 2, (int64_t[]){-1, 6}); }
static tensor *slice_frames(tensor **x) { return op_slice(x[0], 1, 1, 4); }
static tensor *slice_channels(tensor **x) { return op_slice(x[0], -1, 2, 6); }   /* even: pairs */
static tensor *slice_odd(tensor **x) { return op_slice(x[0], -1, 1, 4); }        /* odd: widened */
static tensor *concat_frames(tensor **x) { return op_concat(2, x, 1); }
static tensor *pad_causal(tensor **x) { return op_pad(x[0], (int64_t[]){0, 0, 2, 0, 1, 1, 0, 0}, 0.0f); }
static tensor *pad_value(tensor **x) { return op_pad(x[0], (int64_t[]){0, 0, 1, 0, 0, 0, 0, 0}, 0.5f); }

const shape_bf16_case shape_bf16_cases[] = {
    {"depth_to_time", depth_to_time, 1, 5, {{2, 3, 4, 5, 8}}, true},
    {"permute_keep_last", permute_keep_last, 1, 4, {{2, 5, 3, 6}}, true},
    {"reshape", reshape_fn, 1, 4, {{2, 5, 3, 6}}, true},
    {"slice_frames", slice_frames, 1, 4, {{2, 5, 3, 6}}, true},
    {"slice_channels", slice_channels, 1, 4, {{2, 5, 3, 8}}, true},
    {"slice_odd", slice_odd, 1, 4, {{2, 5, 3, 8}}, false},
    {"concat_frames", concat_frames, 2, 4, {{2, 5, 3, 6}, {2, 2, 3, 6}}, true},
    {"pad_causal", pad_causal, 1, 4, {{2, 5, 3, 6}}, true},
    {"pad_value", pad_value, 1, 4, {{2, 5, 3, 6}}, false},
};
const int N_SHAPE_BF16_CASES = (int)(sizeof shape_bf16_cases / sizeof *shape_bf16_cases);

tensor *shape_bf16_grad_seed(const shape_bf16_case *c, uint64_t seed) {
    tensor *x[2];
    for (int i = 0; i < c->n; i++) x[i] = tensor_zeros(c->ndim, c->shape[i]);
    const bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor *y = c->f(x);   /* for its shape only */
    tensor *g = tensor_empty(y->ndim, y->shape);
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    for (int i = 0; i < c->n; i++) tensor_release(x[i]);
    rng_state s = rng_seed(seed);
    rng_fill_normal(&s, tensor_f32(g), g->numel, 0.0f, 1.0f);
    return g;
}
