/* test_step.c: a tiny stage-1 run (frozen spatial VAE, latent and identity losses, AdamW, clipping)
 * against the same run in PyTorch: every step's loss terms and gradient norm, and the first step's
 * gradients (what --dump-grads writes); plus NaN handling. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "optim/clip.h"
#include "train/step.h"

/* the tiny pipeline with the golden weights, spatial VAE frozen, one temporal chunk */
static void stage1_pipeline(vae_pipeline *p) {
    tiny_pipeline_init(p, 17, 1);
    tiny_pipeline_load_golden(p);
    p->freeze_vae_2d = true;
    vae_pipeline_setup(p);
}

static int trainable(vae_pipeline *p, tensor **out) {
    int n = 0;
    for (int i = 0; i < p->temporal.params.n; i++) out[n++] = p->temporal.params.items[i].t;
    return n;
}

TEST(test_train_stage1_five_steps_match_pytorch) {
    golden_file *g = golden_open("stage1");
    vae_pipeline p;
    stage1_pipeline(&p);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor *params[256];
    int n = trainable(&p, params);
    adamw *opt = adamw_new(params, n, (adamw_config){.lr = 1e-3f, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f});
    step_config c = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1.0f};
    for (int s = 0; s < 5; s++) {
        char k[32];
        snprintf(k, sizeof k, "x%d", s);
        tensor *x = golden_get(g, k);
        step_result r;
        if (s == 0) {   /* the first step's gradients, as --dump-grads writes them, then the update */
            r = train_forward_backward(&p, &l, &c, x, NULL);
            golden_check_param_grads("train.stage1_step0_grads", &p.temporal.params, g, "grad0.temporal_vae.", 1e-4);
            EXPECT(p.spatial.vae.params.items[0].t->grad == NULL, "the frozen spatial VAE got a gradient");
            r.grad_norm = clip_grad_norm(opt->params, opt->n, 1.0);
            adamw_step(opt);
            ag_zero_grad(opt->params, opt->n);
        } else {
            r = train_step(&p, &l, opt, &c, x, NULL);
        }
        snprintf(k, sizeof k, "step%d", s);
        tensor *want = golden_get(g, k);
        const float *w = tensor_f32(want);
        double got[4] = {r.loss, r.z_nll, r.identity, r.grad_norm};
        const char *names[4] = {"loss", "z_nll", "identity", "grad_norm"};
        for (int i = 0; i < 4; i++) {
            double e = fabs(got[i] - w[i]) / fmax(fabs(w[i]), 1e-12);
            if (w[i] == 0) e = fabs(got[i]);
            test_note_error("train.stage1_losses", e);
            EXPECT(e < 1e-4, "step %d %s: %.7g, PyTorch %.7g", s, names[i], got[i], w[i]);
        }
        printf("    step %d: loss %.4f (z_nll %.4f identity %.4f) grad norm %.4f | PyTorch %.4f\n", s, r.loss, r.z_nll,
               r.identity, r.grad_norm, w[0]);
        EXPECT(!r.skipped, "step %d skipped", s);
        tensor_release(want);
        tensor_release(x);
    }
    adamw_free(opt);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
    golden_close(g);
}

TEST(test_train_step_skips_nan_and_keeps_weights) {
    vae_pipeline p;
    stage1_pipeline(&p);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor *params[256];
    int n = trainable(&p, params);
    adamw *opt = adamw_new(params, n, (adamw_config){.lr = 1e-3f});
    tensor *before = tensor_clone(params[0]);
    tensor *x = tensor_full(SHAPE(1, 5, 8, 8, 3), NAN);
    step_config c = {.use_z_rec_loss = true, .grad_clip = 1.0f};
    step_result r = train_step(&p, &l, opt, &c, x, NULL);
    EXPECT(r.skipped && isnan(r.loss), "a NaN batch must be reported and skipped");
    EXPECT(memcmp(before->data, params[0]->data, (size_t)before->numel * 4) == 0, "a skipped step changed the weights");
    EXPECT(opt->step == 0 && params[0]->grad == NULL, "a skipped step advanced the optimizer or kept gradients");
    tensor_release(before);
    tensor_release(x);
    adamw_free(opt);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
}
