/* test_perceptual_step.c: stage 3's pixel loss in a training step (L1 + w * LPIPS inside the nll, KL) and
 * the loss a train_config builds (train_loss_init): LPIPS weights required, named by key when missing. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/loss_setup.h"
#include "train/step.h"

TEST(test_train_step_real_rec_loss_has_the_perceptual_term) {
    vae_pipeline p;
    tiny_pipeline_init(&p, 17, 3);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    lpips_net net;
    lpips_init(&net);
    params_fill_deterministic(&net.params);
    vae_loss_set_lpips(&l, 20.0f, &net);
    tensor *x = gc_input_scaled(SHAPE(1, 5, 16, 16, 3), 21, 0.5f);
    x->requires_grad = false;
    step_config c = {.use_real_rec_loss = true, .grad_clip = 1.0f};

    step_result with = train_forward_backward(&p, &l, &c, x, NULL);
    EXPECT(p.temporal.params.items[0].t->grad && p.spatial.vae.params.items[0].t->grad, "the VAE got no gradient");
    for (int i = 0; i < l.lpips->params.n; i++)
        EXPECT(!l.lpips->params.items[i].t->grad, "LPIPS parameter %s got a gradient", l.lpips->params.items[i].name);
    /* the same nll computed by hand from the same reconstruction (no sampling: deterministic) */
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    pipeline_encoded e = vae_pipeline_encode(&p, x, NULL);
    tensor *x_rec = vae2d_decode(&p.spatial, vae_pipeline_decode_latent(&p, e.z, e.x_z->shape[1]));
    double want = tensor_f32(vae_loss_nll_pixels(&l, x, x_rec))[0], plain = tensor_f32(vae_loss_nll(&l, x, x_rec))[0];
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    EXPECT(fabs(with.nll - want) <= 1e-5 * fabs(want), "step nll %.7g, the pixel nll of its reconstruction %.7g", with.nll, want);
    EXPECT(fabs(want - plain) > 1e-3 * fabs(plain), "the perceptual term is missing: %.7g with, %.7g without", want, plain);
    EXPECT(fabs(with.loss - (with.nll + with.kl)) <= 1e-5 * fabs(with.loss), "loss %.7g != nll %.7g + kl %.7g", with.loss,
           with.nll, with.kl);
    tensor_release(x);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
}

static void init_missing_weights(void *ctx) {
    train_config t = {.perceptual_loss_weight = 0.1f, .kl_loss_weight = 1e-6f, .lpips_path = "/nonexistent/lpips.safetensors"};
    vae_loss l;
    train_loss_init(&l, &t);
}

TEST(test_train_loss_init_needs_the_lpips_file) {
    EXPECT(test_expect_fatal(init_missing_weights, NULL, "[train] lpips_path = '/nonexistent/lpips.safetensors': no such"),
           "missing LPIPS weights did not stop with a message naming the key");
    train_config t = {.perceptual_loss_weight = 0, .kl_loss_weight = 1e-6f, .lpips_path = "/nonexistent/lpips.safetensors"};
    vae_loss l;
    train_loss_init(&l, &t);
    EXPECT(!l.lpips && l.perceptual_weight == 0 && l.kl_weight == 1e-6f, "weight 0 must not load LPIPS");
    vae_loss_free(&l);
}
