/* test_step_gan.c: one full generator + discriminator step of train_vae.py with a discriminator, on the
 * tiny pipeline (spatial VAE frozen, pixel L1 + KL, posterior means) against PyTorch (tests/golden/gen_gan.py):
 * the loss terms, the adaptive weight, every temporal-VAE gradient (norms; the last layer's whole), then the
 * discriminator's loss with LeCam, its every gradient and the running statistics of its three passes; and
 * the non-saturating / vanilla pair; and discriminator_start. */
#include <math.h>
#include <stdlib.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/step.h"
#include "train/step_gan.h"

typedef struct { vae_pipeline p; vae_loss l; gan_trainer g; step_config c; } gan_setup;

static void setup(gan_setup *s, gan_loss_type gen, gan_loss_type disc, float lecam, long start) {
    tiny_pipeline_init(&s->p, 17, 1);
    tiny_pipeline_load_golden(&s->p);
    s->p.freeze_vae_2d = true;
    vae_pipeline_setup(&s->p);
    vae_loss_init(&s->l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    adversarial_config ac = {gen, disc, 0.5f, 1.0f, start, lecam, 0.999f};
    gan_trainer_init(&s->g, &(disc_config){3, 4, 2, DISC_INIT_NORMAL}, &ac, (adamw_config){.lr = 1e-3f},
                     s->p.temporal.dec_conv_out.conv.w, DEVICE_CPU, 7);
    char *path = test_path("tests/golden/gan.safetensors");
    EXPECT(disc_load(&s->g.disc, path, "step.disc.") == 0, "%s", vaec_last_error());
    free(path);
    s->c = (step_config){.use_real_rec_loss = true, .grad_clip = 1.0f, .extra_term = gan_generator_term, .extra_ctx = &s->g};
}

static void teardown(gan_setup *s) {
    gan_trainer_free(&s->g);
    vae_loss_free(&s->l);
    tiny_pipeline_free(&s->p);
}

static void expect_close(const char *label, double got, double want, double tol) {
    double e = fabs(got - want) / fmax(fabs(want), 1e-12);
    test_note_error("gan_step.terms", e);
    EXPECT(e < tol, "%s: %.7g, PyTorch %.7g (error %.2e)", label, got, want, e);
}

TEST(test_gan_step_matches_pytorch) {
    golden_file *gf = golden_open("gan");
    gan_setup s;
    setup(&s, GAN_LOSS_HINGE, GAN_LOSS_HINGE, 0.1f, 0);
    tensor *x = golden_get(gf, "step.x");
    step_result r = train_forward_backward(&s.p, &s.l, &s.c, x, NULL);
    tensor *t = golden_get(gf, "step.terms");
    const float *w = tensor_f32(t);
    expect_close("loss", r.loss, w[0], 1e-5);
    expect_close("nll", r.nll, w[1], 1e-5);
    expect_close("kl", r.kl, w[2], 1e-4);
    expect_close("adversarial", s.g.adversarial_loss, w[3], 1e-4);
    expect_close("d_weight", s.g.d_weight, w[4], 1e-4);
    expect_close("generator loss", s.g.generator_loss, w[5], 1e-5);
    printf("    loss %.4f = nll %.4f + kl %.3g + adversarial %.4f (d_weight %.4f) | PyTorch %.4f, d_weight %.4f\n", r.loss,
           r.nll, r.kl, s.g.adversarial_loss, s.g.d_weight, w[0], w[4]);
    tensor_release(t);
    /* the VAE's gradients: every norm, the last layer whole */
    char key[600];
    double worst = 0;
    for (int i = 0; i < s.p.temporal.params.n; i++) {
        const param_entry *p = &s.p.temporal.params.items[i];
        snprintf(key, sizeof key, "step.grad_norm.temporal_vae.%s", p->name);
        tensor *want = golden_get(gf, key);
        EXPECT(p->t->grad != NULL, "%s has no gradient", p->name);
        if (!p->t->grad) { tensor_release(want); continue; }
        double ss = 0;
        for (int64_t k = 0; k < p->t->grad->numel; k++) ss += (double)tensor_f32(p->t->grad)[k] * tensor_f32(p->t->grad)[k];
        double e = fabs(sqrt(ss) - tensor_f32(want)[0]) / fmax(tensor_f32(want)[0], 1e-6);
        worst = fmax(worst, e);
        EXPECT(e < 1e-4, "%s: gradient norm %.7g, PyTorch %.7g", p->name, sqrt(ss), tensor_f32(want)[0]);
        tensor_release(want);
    }
    test_note_error("gan_step.vae_grad_norms", worst);
    golden_check("gan_step.last_layer_grad", s.p.temporal.dec_conv_out.conv.w->grad, gf,
                 "step.grad.temporal_vae.decoder.conv_out.conv.weight", 1e-4);
    EXPECT(s.g.disc.trainable[0]->grad == NULL, "the generator's pass left a gradient in the discriminator");
    /* the discriminator's half, on the detached frames */
    gan_discriminator_backward(&s.g);
    t = golden_get(gf, "step.disc_terms");
    w = tensor_f32(t);
    expect_close("disc loss", s.g.disc_loss, w[0], 1e-5);
    expect_close("lecam", s.g.lecam_loss, w[2], 1e-4);
    expect_close("mean real logit", s.g.logits_real, w[3], 1e-5);
    expect_close("mean fake logit", s.g.logits_fake, w[4], 1e-5);
    tensor_release(t);
    for (int i = 0; i < s.g.disc.params.n; i++) {
        const param_entry *p = &s.g.disc.params.items[i];
        if (p->t->requires_grad) {
            snprintf(key, sizeof key, "step.disc_grad.%s", p->name);
            EXPECT(p->t->grad != NULL, "discriminator %s has no gradient", p->name);
            if (p->t->grad) golden_check("gan_step.disc_grads", p->t->grad, gf, key, 1e-4);
        } else {   /* three training-mode passes: the generator's, then real and fake */
            snprintf(key, sizeof key, "step.disc_after.%s", p->name);
            golden_check("gan_step.disc_running_stats", p->t, gf, key, 1e-5);
        }
    }
    gan_discriminator_apply(&s.g, 1e-3f, 1.0f, 0);
    EXPECT(!s.g.disc_skipped && s.g.opt->step == 1, "the discriminator's AdamW did not step");
    for (int i = 0; i < s.p.temporal.params.n; i++) ag_zero_grad(&s.p.temporal.params.items[i].t, 1);
    tensor_release(x);
    teardown(&s);
    golden_close(gf);
}

TEST(test_gan_step_non_saturating_and_vanilla_match_pytorch) {
    golden_file *gf = golden_open("gan");
    gan_setup s;
    setup(&s, GAN_LOSS_NON_SATURATING, GAN_LOSS_VANILLA, 0.0f, 0);
    tensor *x = golden_get(gf, "step.x");
    step_result r = train_forward_backward(&s.p, &s.l, &s.c, x, NULL);
    gan_discriminator_backward(&s.g);
    tensor *t = golden_get(gf, "step_ns.terms"), *d = golden_get(gf, "step_ns.disc_terms");
    expect_close("loss", r.loss, tensor_f32(t)[0], 1e-5);
    expect_close("adversarial", s.g.adversarial_loss, tensor_f32(t)[3], 1e-4);
    expect_close("d_weight", s.g.d_weight, tensor_f32(t)[4], 1e-4);
    expect_close("disc loss", s.g.disc_loss, tensor_f32(d)[0], 1e-5);
    EXPECT(s.g.lecam_loss == 0, "LeCam is off but gave %g", s.g.lecam_loss);
    tensor_release(t);
    tensor_release(d);
    for (int i = 0; i < s.p.temporal.params.n; i++) ag_zero_grad(&s.p.temporal.params.items[i].t, 1);
    ag_zero_grad(s.g.opt->params, s.g.opt->n);
    tensor_release(x);
    teardown(&s);
    golden_close(gf);
}

/* before discriminator_start: no adversarial term, the same VAE gradients as without a discriminator, and
 * the discriminator's loss weighted 0 (its running statistics still move, as upstream's) */
TEST(test_gan_step_before_discriminator_start_has_no_term) {
    golden_file *gf = golden_open("gan");
    gan_setup s;
    setup(&s, GAN_LOSS_HINGE, GAN_LOSS_HINGE, 0.0f, 10);
    tensor *x = golden_get(gf, "step.x");
    s.g.step = 9;
    step_result r = train_forward_backward(&s.p, &s.l, &s.c, x, NULL);
    tensor *with_gan = tensor_clone(s.p.temporal.dec_conv_out.conv.w->grad);
    EXPECT(s.g.adversarial_loss == 0 && s.g.d_weight == 0 && fabs(r.loss - (r.nll + r.kl)) < 1e-3,
           "step 9 of a discriminator starting at 10: adversarial %g, d_weight %g", s.g.adversarial_loss, s.g.d_weight);
    gan_discriminator_backward(&s.g);
    EXPECT(s.g.disc_loss == 0, "the discriminator's loss before its start: %g", s.g.disc_loss);
    EXPECT(tensor_item(params_find(&s.g.disc.params, "main.3.num_batches_tracked")->t) == 3,
           "the three passes did not count in num_batches_tracked");
    for (int i = 0; i < s.p.temporal.params.n; i++) ag_zero_grad(&s.p.temporal.params.items[i].t, 1);
    ag_zero_grad(s.g.opt->params, s.g.opt->n);
    step_config plain = {.use_real_rec_loss = true, .grad_clip = 1.0f};
    train_forward_backward(&s.p, &s.l, &plain, x, NULL);
    EXPECT(rel_error(with_gan, s.p.temporal.dec_conv_out.conv.w->grad) == 0,
           "the VAE's gradient before discriminator_start differs from a run without a discriminator");
    for (int i = 0; i < s.p.temporal.params.n; i++) ag_zero_grad(&s.p.temporal.params.items[i].t, 1);
    tensor_release(with_gan);
    tensor_release(x);
    teardown(&s);
    golden_close(gf);
}
