/* test_vae_loss.c: weighted nll (L1/L2, upstream and mean reductions, learnable logvar) and weighted KL
 * against PyTorch, with their gradients. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "losses/vae_loss.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

TEST(test_vae_loss_nll_matches_torch) {
    golden_file *g = golden_open("train");
    const char *kinds[2] = {"l1", "l2"}, *reds[2] = {"up", "mean"};
    for (int k = 0; k < 2; k++)
        for (int r = 0; r < 2; r++) {
            vae_loss l;
            vae_loss_init(&l, (vae_rec_kind)k, (vae_reduction)r, 1e-6f, true);
            tensor_f32(l.logvar)[0] = 0.3f;
            tensor *x = golden_get(g, "nll.x"), *xh = golden_leaf(g, "nll.xh");
            char key[64], label[64];
            tensor_scope_begin();
            tensor *loss = vae_loss_nll(&l, x, xh);
            snprintf(key, sizeof key, "nll_%s_%s.loss", kinds[k], reds[r]);
            snprintf(label, sizeof label, "vae_loss.nll_%s_%s", kinds[k], reds[r]);
            tensor *want = golden_get(g, key);
            EXPECT(fabs(tensor_f32(loss)[0] - tensor_f32(want)[0]) < 1e-5 * fabs(tensor_f32(want)[0]), "%s: %.7g vs torch %.7g",
                   label, tensor_f32(loss)[0], tensor_f32(want)[0]);
            tensor_release(want);
            ag_backward(loss);
            tensor_scope_end(NULL);
            snprintf(key, sizeof key, "nll_%s_%s.gxh", kinds[k], reds[r]);
            golden_check(label, xh->grad, g, key, 1e-5);
            snprintf(key, sizeof key, "nll_%s_%s.glogvar", kinds[k], reds[r]);
            golden_check(label, l.logvar->grad, g, key, 1e-5);
            tensor_release(x);
            tensor_release(xh);
            vae_loss_free(&l);
        }
    golden_close(g);
}

TEST(test_vae_loss_kl_matches_torch) {
    golden_file *g = golden_open("train");
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor *m = golden_leaf(g, "kl.moments");
    tensor_scope_begin();
    diag_gaussian p = posterior_from_moments(m);
    tensor *loss = vae_loss_kl(&l, &p);
    tensor *want = tensor_autorelease(golden_get(g, "kl.loss"));
    EXPECT(fabs(tensor_f32(loss)[0] - tensor_f32(want)[0]) < 1e-5 * fabs(tensor_f32(want)[0]), "weighted kl %.7g vs %.7g",
           tensor_f32(loss)[0], tensor_f32(want)[0]);
    ag_backward(loss);
    tensor_scope_end(NULL);
    golden_check("vae_loss.kl", m->grad, g, "kl.gmoments", 1e-5);
    tensor_release(m);
    vae_loss_free(&l);
    golden_close(g);
}

TEST(test_vae_loss_frozen_logvar_gets_no_gradient) {
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor *x = gc_input(SHAPE(1, 2, 3, 3, 3), 1), *xh = gc_input(SHAPE(1, 2, 3, 3, 3), 2);
    tensor_scope_begin();
    ag_backward(vae_loss_nll(&l, x, xh));
    tensor_scope_end(NULL);
    EXPECT(l.logvar->grad == NULL && xh->grad != NULL, "upstream never trains logvar");
    tensor_release(x);
    tensor_release(xh);
    vae_loss_free(&l);
}

/* upstream's weighted_nll with the perceptual term (rec = L1 + w * LPIPS per frame, broadcast over C,H,W)
   against PyTorch, with hash-filled LPIPS weights; the latent nll (vae_loss_nll) must leave it out */
TEST(test_vae_loss_nll_with_perceptual_term_matches_torch) {
    golden_file *g = golden_open("lpips");
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, true);
    tensor_f32(l.logvar)[0] = 0.3f;
    lpips_net net;
    lpips_init(&net);
    params_fill_deterministic(&net.params);
    net.chunk_images = 1;   /* two frames: two checkpointed segments */
    vae_loss_set_lpips(&l, 20.0f, &net);
    tensor *x = golden_get(g, "ploss.x"), *xh = golden_leaf(g, "ploss.xh"), *want = golden_get(g, "ploss.loss");
    tensor_scope_begin();
    tensor *loss = vae_loss_nll_pixels(&l, x, xh);
    EXPECT(fabs(tensor_f32(loss)[0] - tensor_f32(want)[0]) < 1e-5 * fabs(tensor_f32(want)[0]),
           "nll with perceptual term %.7g vs torch %.7g", tensor_f32(loss)[0], tensor_f32(want)[0]);
    test_note_error("vae_loss.nll_perceptual", fabs(tensor_f32(loss)[0] - tensor_f32(want)[0]) / fabs(tensor_f32(want)[0]));
    ag_backward(loss);
    float plain = tensor_f32(vae_loss_nll(&l, x, xh))[0];
    tensor_scope_end(NULL);
    golden_check("vae_loss.nll_perceptual.gxh", xh->grad, g, "ploss.gxh", 1e-5);
    golden_check("vae_loss.nll_perceptual.glogvar", l.logvar->grad, g, "ploss.glogvar", 1e-5);
    /* the latent losses have no perceptual term: the difference is exactly w * sum(LPIPS) * C*H*W / frames */
    tensor *p = golden_get(g, "ploss.lpips");
    const float *pv = tensor_f32(p);
    double expect = 20.0 * (pv[0] + pv[1]) * (16 * 16 * 3) / 2.0 / exp(0.3);
    EXPECT(fabs((tensor_f32(want)[0] - plain) - expect) < 1e-3 * expect, "plain nll %.7g: the perceptual part %.7g, want %.7g",
           plain, tensor_f32(want)[0] - plain, expect);
    tensor_release(p);
    tensor_release(want);
    tensor_release(x);
    tensor_release(xh);
    vae_loss_free(&l);
    golden_close(g);
}
