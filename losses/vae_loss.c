/* vae_loss.c: reconstruction nll with a learnable logvar, and the weighted KL (see vae_loss.h). */
#include "losses/vae_loss.h"
#include "core/ops.h"   // defines: op_abs, op_square, op_exp, op_sum_all, ...

void vae_loss_init(vae_loss *l, vae_rec_kind rec, vae_reduction reduction, float kl_weight, bool train_logvar) {
    l->rec = rec;
    l->reduction = reduction;
    l->kl_weight = kl_weight;
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    l->logvar = tensor_zeros(SHAPE(1));
    mem_set_tag(prev);
    tensor_set_name(l->logvar, "loss.logvar");
    l->logvar->requires_grad = train_logvar;
}

void vae_loss_free(vae_loss *l) { tensor_release(l->logvar); }

/* frames in a (B,T,H,W,C) video, or N for (N,H,W,C) images */
static int64_t frames_of(const tensor *x) { return x->ndim == 5 ? x->shape[0] * x->shape[1] : x->shape[0]; }

tensor *vae_loss_nll(const vae_loss *l, tensor *x, tensor *x_hat) {
    char a[96], b[96];
    tensor_shape_str(x, a, sizeof a);
    tensor_shape_str(x_hat, b, sizeof b);
    CHECK(tensor_same_shape(x, x_hat) && (x->ndim == 4 || x->ndim == 5),
          "reconstruction loss: input %s and reconstruction %s must be one (B,T,H,W,C) or (N,H,W,C) shape", a, b);
    tensor *d = op_sub(x, x_hat);
    tensor *rec = l->rec == VAE_REC_L1 ? op_abs(d) : op_square(d);
    tensor *nll = op_add(op_div(rec, op_exp(l->logvar)), l->logvar);
    if (l->reduction == VAE_REDUCE_MEAN) return op_mean_all(nll);
    return op_mul_scalar(op_sum_all(nll), 1.0f / (float)frames_of(x));
}

tensor *vae_loss_kl(const vae_loss *l, const diag_gaussian *posterior) {
    tensor *kl = posterior_kl(posterior);   /* (B) */
    return op_mul_scalar(op_sum_all(kl), l->kl_weight / (float)kl->shape[0]);
}
