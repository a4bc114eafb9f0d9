/* step.c: one training step on the pipeline's cal_loss path (see step.h). */
#include "train/step.h"
#include <math.h>
#include "autograd/autograd.h"   // defines: ag_backward, ag_zero_grad, ag_tape_clear
#include "core/ops.h"            // defines: op_add
#include "optim/clip.h"          // defines: grad_global_norm, clip_grad_coef
#include "core/autocast.h"       // defines: autocast_set

static tensor *add_term(tensor *total, tensor *term) { return total ? op_add(total, term) : term; }

step_result train_forward_backward(const vae_pipeline *p, const vae_loss *l, const step_config *c, tensor *x,
                                   rng_state *rng) {
    CHECK(c->use_real_rec_loss || c->use_z_rec_loss || c->use_image_identity_loss,
          "training: every loss is switched off (use_real_rec_loss, use_z_rec_loss, use_image_identity_loss)");
    step_result r = {0};
    /* backward too: a checkpointed segment (LPIPS) is recomputed there and must compute as it did forward */
    const bool prev_autocast = autocast_set(c->bf16);
    tensor_scope_begin();
    pipeline_encoded e = vae_pipeline_encode(p, x, rng);
    int64_t frames = e.x_z->shape[1];
    tensor *x_z_rec = vae_pipeline_decode_latent(p, e.z, frames), *loss = NULL;
    tensor *x_rec = NULL, *nll = NULL;
    if (c->use_real_rec_loss || c->extra_term) {
        x_rec = vae2d_decode(&p->spatial, x_z_rec);
        nll = vae_loss_nll_pixels(l, x, x_rec);
        r.nll = tensor_item(nll);
    }
    if (c->use_real_rec_loss) {
        tensor *kl = vae_loss_kl(l, &e.posterior);
        r.kl = tensor_item(kl);
        loss = add_term(add_term(loss, nll), kl);
    }
    if (c->use_z_rec_loss) {
        tensor *z_nll = vae_loss_nll(l, e.x_z, x_z_rec);
        r.z_nll = tensor_item(z_nll);
        loss = add_term(loss, z_nll);
    }
    if (c->use_image_identity_loss && frames == 1) {
        tensor *id = vae_loss_nll(l, e.x_z, e.z);
        r.identity = tensor_item(id);
        loss = add_term(loss, id);
    }
    if (c->extra_term) {
        tensor *extra = c->extra_term(c->extra_ctx, x, x_rec, nll);
        if (extra) loss = add_term(loss, extra);
    }
    r.loss = loss ? tensor_item(loss) : 0;
    if (loss && isfinite(r.loss) && loss->requires_grad) ag_backward(loss);
    else ag_tape_clear();
    tensor_scope_end(NULL);
    autocast_set(prev_autocast);
    return r;
}

/* clipping is folded into the update (adamw_step_scaled): the same numbers as clip_grad_norm then adamw_step,
   one pass over the gradients fewer (2.5 GB of reads and writes a stage-1 step) */
void train_apply(adamw *opt, const step_config *c, step_result *r) {
    r->grad_norm = grad_global_norm(opt->params, opt->n);
    r->skipped = !isfinite(r->loss) || !isfinite(r->grad_norm);
    if (!r->skipped) adamw_step_scaled(opt, c->grad_clip > 0 ? clip_grad_coef(r->grad_norm, c->grad_clip) : 1.0);
    ag_zero_grad(opt->params, opt->n);
}

step_result train_step(const vae_pipeline *p, const vae_loss *l, adamw *opt, const step_config *c, tensor *x,
                       rng_state *rng) {
    step_result r = train_forward_backward(p, l, c, x, rng);
    train_apply(opt, c, &r);
    return r;
}
