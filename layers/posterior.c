/* posterior.c: diagonal Gaussian posterior built from ops (see posterior.h). */
#include "layers/posterior.h"
#include <math.h>
#include "core/ops.h"   // defines: op_slice, op_clamp, op_reparam_sample, ...
#include "core/autocast.h"   // defines: autocast_f32

diag_gaussian posterior_from_moments(tensor *moments) {
    int64_t c = moments->shape[moments->ndim - 1];
    char s[96];
    tensor_shape_str(moments, s, sizeof s);
    CHECK(c % 2 == 0, "posterior: moments %s need an even channel count (mean | logvar)", s);
    /* float32 statistics under autocast too: the KL and the sampling compute in float32, and the latent z
       (a posterior's mean or sample) leaves the model as float32; latent-sized, so the widening is small */
    moments = autocast_f32(moments);
    diag_gaussian p;
    p.mean = op_slice(moments, -1, 0, c / 2);
    p.logvar = op_clamp(op_slice(moments, -1, c / 2, c), -30.0f, 20.0f);
    return p;
}

tensor *posterior_sample(const diag_gaussian *p, rng_state *rng) { return op_reparam_sample(p->mean, p->logvar, rng); }
tensor *posterior_mode(const diag_gaussian *p) { return p->mean; }

/* sum over every dim but the first */
static tensor *sum_per_batch(tensor *x) {
    int dims[TENSOR_MAX_DIMS];
    for (int d = 1; d < x->ndim; d++) dims[d - 1] = d;
    return op_sum(x, x->ndim - 1, dims, false);
}

tensor *posterior_kl(const diag_gaussian *p) {
    tensor *t = op_sub(op_add(op_square(p->mean), op_exp(p->logvar)), op_add_scalar(p->logvar, 1.0f));
    return op_mul_scalar(sum_per_batch(t), 0.5f);
}

tensor *posterior_nll(const diag_gaussian *p, tensor *x) {
    tensor *sq = op_div(op_square(op_sub(x, p->mean)), op_exp(p->logvar));
    tensor *t = op_add(op_add_scalar(p->logvar, (float)log(2.0 * M_PI)), sq);
    return op_mul_scalar(sum_per_batch(t), 0.5f);
}
