/* step_gan.c: the generator's adversarial term and the discriminator's update (see step_gan.h). */
#include "train/step_gan.h"
#include <math.h>
#include <stdio.h>
#include "autograd/autograd.h"   // defines: ag_grad_of, ag_backward, ag_zero_grad, ag_tape_clear
#include "core/ops.h"            // defines: op_mul_scalar, op_mean_all
#include "optim/clip.h"          // defines: clip_grad_norm, grad_global_norm
#include "train/dist.h"          // defines: dist_allreduce_grads, dist_allreduce_sum_f64, dist_world

void gan_trainer_init(gan_trainer *g, const disc_config *dc, const adversarial_config *ac, adamw_config opt,
                      tensor *last_layer, device_t dev, uint64_t seed) {
    *g = (gan_trainer){.cfg = *ac, .last_layer = last_layer};
    rng_state rng = rng_seed(seed ^ 0xD15C0000D15Cull);   /* its own stream: the VAE's init is unchanged */
    disc_init(&g->disc, dc, &rng);
    disc_to_device(&g->disc, dev);
    g->opt = adamw_new(g->disc.trainable, g->disc.n_trainable, opt);
}

void gan_trainer_free(gan_trainer *g) {
    tensor_release(g->real);
    tensor_release(g->fake);
    adamw_free(g->opt);
    disc_free(&g->disc);
}

/* the frames of a video as a tensor without gradient history (storage shared) */
static tensor *detached(tensor *x) { return tensor_view(x, x->ndim, x->shape); }

tensor *gan_generator_term(void *ctx, tensor *x, tensor *x_rec, tensor *nll) {
    gan_trainer *g = ctx;
    tensor_release(g->real);
    tensor_release(g->fake);
    g->real = detached(x);
    g->fake = detached(x_rec);
    g->adversarial_loss = g->generator_loss = g->d_weight = 0;
    const float factor = gan_factor_at(g->cfg.discriminator_factor, g->cfg.discriminator_start, g->step);
    disc_set_requires_grad(&g->disc, false);   /* upstream's D grads from this pass are zeroed before D's step */
    if (factor <= 0.0f) {   /* no term: D still sees the reconstruction, so its running statistics move as upstream's */
        const bool prev = ag_set_grad_enabled(false);
        tensor_scope_begin();
        g->generator_loss = tensor_item(gan_generator_loss(g->cfg.generator_loss_type, disc_forward(&g->disc, g->fake)));
        tensor_scope_end(NULL);
        ag_set_grad_enabled(prev);
        return NULL;
    }
    tensor *gen = gan_generator_loss(g->cfg.generator_loss_type, disc_forward(&g->disc, x_rec));
    g->generator_loss = tensor_item(gen);
    tensor *grads[2];
    ag_grad_of(nll, 1, &g->last_layer, &grads[0]);
    ag_grad_of(gen, 1, &g->last_layer, &grads[1]);
    g->d_weight = gan_adaptive_weight(grads[0], grads[1], g->cfg.generator_factor);
    tensor_release(grads[0]);
    tensor_release(grads[1]);
    tensor *term = op_mul_scalar(gen, (float)(g->d_weight * (double)factor));
    g->adversarial_loss = tensor_item(term);
    return term;
}

void gan_discriminator_backward(gan_trainer *g) {
    CHECK(g->real && g->fake, "discriminator step without the frames of a generator step");
    nlayer_discriminator *d = &g->disc;
    disc_set_requires_grad(d, true);
    const float factor = gan_factor_at(g->cfg.discriminator_factor, g->cfg.discriminator_start, g->step);
    tensor_scope_begin();
    tensor *real = disc_forward(d, g->real), *fake = disc_forward(d, g->fake);
    tensor *loss = op_mul_scalar(gan_discriminator_loss(g->cfg.discriminator_loss_type, real, fake), factor);
    double means[2] = {tensor_item(op_mean_all(real)), tensor_item(op_mean_all(fake))};
    const int world = dist_world();
    if (world > 1) {   /* every rank's EMA the same: the means over the global batch */
        dist_allreduce_sum_f64(means, 2, "the discriminator's mean logits");
        means[0] /= world, means[1] /= world;
    }
    g->logits_real = means[0], g->logits_fake = means[1];
    lecam_ema_update(&g->ema, means[0], means[1], g->cfg.lecam_decay);
    g->lecam_loss = 0;
    if (g->cfg.lecam_loss_weight > 0) {
        tensor *lecam = op_mul_scalar(gan_lecam_loss(real, fake, g->ema), g->cfg.lecam_loss_weight);
        g->lecam_loss = tensor_item(lecam);
        loss = op_add(loss, lecam);
    }
    g->disc_loss = tensor_item(loss);
    if (isfinite(g->disc_loss)) ag_backward(loss);
    else ag_tape_clear();
    tensor_scope_end(NULL);
    tensor_release(g->real);
    tensor_release(g->fake);
    g->real = g->fake = NULL;
}

void gan_discriminator_apply(gan_trainer *g, float lr, float grad_clip, size_t bucket_bytes) {
    adamw *opt = g->opt;
    const int world = dist_world();
    if (world > 1) {
        dist_allreduce_grads(opt->params, opt->n, 1.0f / (float)world, bucket_bytes);
        double v = g->disc_loss;
        dist_allreduce_sum_f64(&v, 1, "the discriminator loss");
        g->disc_loss = v / world;
    }
    g->disc_grad_norm = grad_clip > 0 ? clip_grad_norm(opt->params, opt->n, grad_clip) : grad_global_norm(opt->params, opt->n);
    g->disc_skipped = !isfinite(g->disc_loss) || !isfinite(g->disc_grad_norm);
    if (g->disc_skipped && dist_rank() == 0)
        fprintf(stderr, "vaec: step %ld: discriminator loss %g, gradient norm %g: not finite, its step skipped\n",
                g->step + 1, g->disc_loss, g->disc_grad_norm);
    opt->cfg.lr = lr;
    if (!g->disc_skipped) adamw_step(opt);
    ag_zero_grad(opt->params, opt->n);
    disc_set_requires_grad(&g->disc, false);
}

void gan_discriminator_step(gan_trainer *g, float lr, float grad_clip, size_t bucket_bytes) {
    gan_discriminator_backward(g);
    gan_discriminator_apply(g, lr, grad_clip, bucket_bytes);
}

void gan_log(const gan_trainer *g, char *part, size_t part_n, char *json, size_t json_n) {
    snprintf(part, part_n, "  adv %.4f  d_weight %.4g  disc %.4f", g->adversarial_loss, g->d_weight, g->disc_loss);
    snprintf(json, json_n, ", \"adversarial_loss\": %.9g, \"d_weight\": %.9g, \"disc_loss\": %.9g, \"lecam_loss\": %.9g, "
             "\"lecam_ema_real\": %.9g, \"lecam_ema_fake\": %.9g, \"logits_real\": %.9g, \"logits_fake\": %.9g, "
             "\"disc_grad_norm\": %.9g, \"disc_skipped\": %s", g->adversarial_loss, g->d_weight, g->disc_loss,
             g->lecam_loss, (double)g->ema.real, (double)g->ema.fake, g->logits_real, g->logits_fake, g->disc_grad_norm,
             g->disc_skipped ? "true" : "false");
}
