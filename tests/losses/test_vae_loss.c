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
