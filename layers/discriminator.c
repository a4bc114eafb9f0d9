/* discriminator.c: the PatchGAN NLayerDiscriminator (see discriminator.h). */
#include "layers/discriminator.h"
#include <stdio.h>
#include "core/ops.h"   // defines: op_conv2d, op_batch_norm, op_leaky_relu, op_reshape

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f
#define LEAKY_SLOPE 0.2f

static int mult(int n) { return n >= 3 ? 8 : 1 << n; }   /* min(2^n, 8) */

static tensor *param_tensor(int ndim, const int64_t *shape) {
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *t = tensor_empty(ndim, shape);
    mem_set_tag(prev);
    return t;
}

static void batch_norm_init(nlayer_discriminator *d, disc_batch_norm *bn, int index, int channels, rng_state *rng) {
    char prefix[32];
    snprintf(prefix, sizeof prefix, "main.%d", index);
    bn->w = params_add(&d->params, prefix, "weight", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    bn->b = params_add(&d->params, prefix, "bias", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    bn->running_mean = params_add(&d->params, prefix, "running_mean", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    bn->running_var = params_add(&d->params, prefix, "running_var", param_tensor(SHAPE(channels)), PARAM_PLAIN);
    bn->num_batches_tracked = params_add(&d->params, prefix, "num_batches_tracked", param_tensor(0, NULL), PARAM_PLAIN);
    if (d->cfg.init == DISC_INIT_NORMAL) rng_fill_normal(rng, tensor_f32(bn->w), channels, 1.0f, 0.02f);
    else tensor_fill(bn->w, 1.0f);
    tensor_fill(bn->b, 0.0f);
    tensor_fill(bn->running_mean, 0.0f);
    tensor_fill(bn->running_var, 1.0f);
    tensor_fill(bn->num_batches_tracked, 0.0f);
    bn->running_mean->requires_grad = bn->running_var->requires_grad = bn->num_batches_tracked->requires_grad = false;
    bn->batches = 0;
    d->trainable[d->n_trainable++] = bn->w;
    d->trainable[d->n_trainable++] = bn->b;
}

void disc_init(nlayer_discriminator *d, const disc_config *c, rng_state *rng) {
    CHECK(c->input_nc >= 1 && c->ndf >= 1 && c->n_layers >= 1 && c->n_layers <= DISC_MAX_LAYERS,
          "discriminator: input_nc = %d, ndf = %d (>= 1), n_layers = %d (1 to %d)", c->input_nc, c->ndf, c->n_layers,
          DISC_MAX_LAYERS);
    *d = (nlayer_discriminator){.cfg = *c, .n_convs = c->n_layers + 2, .training = true};
    char prefix[32];
    for (int i = 0; i < d->n_convs; i++) {
        /* conv i: in and out channels, stride; its index in upstream's Sequential */
        const bool first = i == 0, last = i == d->n_convs - 1;
        const int cin = first ? c->input_nc : c->ndf * mult(i - 1), cout = last ? 1 : c->ndf * mult(i);
        const int stride = i < c->n_layers ? 2 : 1, index = first ? 0 : 2 + 3 * (i - 1);
        snprintf(prefix, sizeof prefix, "main.%d", index);
        conv2d_layer_init(&d->conv[i], &d->params, prefix, cin, cout, 4, stride, 1, first || last, rng);
        if (c->init == DISC_INIT_NORMAL) rng_fill_normal(rng, tensor_f32(d->conv[i].w), d->conv[i].w->numel, 0.0f, 0.02f);
        d->trainable[d->n_trainable++] = d->conv[i].w;
        if (d->conv[i].b) d->trainable[d->n_trainable++] = d->conv[i].b;
        if (!first && !last) batch_norm_init(d, &d->bn[i], index + 1, cout, rng);
    }
}

void disc_free(nlayer_discriminator *d) { params_free(&d->params); }

void disc_to_device(nlayer_discriminator *d, device_t device) { params_to_device(&d->params, device); }

int64_t disc_trainable_count(const nlayer_discriminator *d) {
    int64_t n = 0;
    for (int i = 0; i < d->n_trainable; i++) n += d->trainable[i]->numel;
    return n;
}

void disc_set_requires_grad(nlayer_discriminator *d, bool on) {
    for (int i = 0; i < d->n_trainable; i++) d->trainable[i]->requires_grad = on;
}

void disc_sync_counters(nlayer_discriminator *d) {
    for (int i = 1; i < d->n_convs - 1; i++) d->bn[i].batches = tensor_item(d->bn[i].num_batches_tracked);
}

int disc_load(nlayer_discriminator *d, const char *path, const char *prefix) {
    /* a file of upstream keys alone, unless the keys sit under a prefix in a larger file */
    if (params_load(&d->params, path, prefix, &(params_load_opts){.allow_extra = prefix[0] != 0}) != 0) return -1;
    disc_sync_counters(d);
    return 0;
}

void disc_output_size(const disc_config *c, int64_t H, int64_t W, int64_t *h, int64_t *w) {
    for (int i = 0; i < c->n_layers + 2; i++) {
        const int s = i < c->n_layers ? 2 : 1;
        H = (H + 2 - 4) / s + 1;   /* k 4, pad 1 */
        W = (W + 2 - 4) / s + 1;
        if (H <= 0 || W <= 0) { H = W = 0; break; }
    }
    *h = H, *w = W;
}

tensor *disc_forward(nlayer_discriminator *d, tensor *x) {
    char xs[96];
    tensor_shape_str(x, xs, sizeof xs);
    CHECK((x->ndim == 4 || x->ndim == 5) && x->shape[x->ndim - 1] == d->cfg.input_nc,
          "discriminator: input must be frames (N,H,W,%d) or a video (B,T,H,W,%d) channels-last, got %s",
          d->cfg.input_nc, d->cfg.input_nc, xs);
    int64_t H = x->shape[x->ndim - 3], W = x->shape[x->ndim - 2], oh, ow;
    disc_output_size(&d->cfg, H, W, &oh, &ow);
    CHECK_HINT(oh > 0 && ow > 0, "use larger frames or a smaller [discriminator] n_layers",
               "discriminator: frames of %lldx%lld are too small for n_layers = %d (input %s)", (long long)H,
               (long long)W, d->cfg.n_layers, xs);
    tensor_scope_begin();
    tensor *h = x->ndim == 5 ? op_reshape(x, 4, (int64_t[]){x->shape[0] * x->shape[1], H, W, x->shape[4]}) : x;
    for (int i = 0; i < d->n_convs; i++) {
        h = conv2d_layer_forward(&d->conv[i], h);
        if (i == d->n_convs - 1) break;
        if (i > 0) {
            disc_batch_norm *bn = &d->bn[i];
            h = op_batch_norm(h, bn->w, bn->b, bn->running_mean, bn->running_var, d->training, BN_MOMENTUM, BN_EPS);
            if (d->training) tensor_fill(bn->num_batches_tracked, (float)++bn->batches);
        }
        h = op_leaky_relu(h, LEAKY_SLOPE);
    }
    return tensor_scope_end(h);
}
