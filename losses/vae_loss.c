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
    l->perceptual_weight = 0;
    l->lpips = NULL;
}

void vae_loss_free(vae_loss *l) {
    tensor_release(l->logvar);
    if (l->lpips) lpips_free(l->lpips);
    free(l->lpips);
    l->lpips = NULL;
}

void vae_loss_set_lpips(vae_loss *l, float weight, lpips_net *net) {
    if (l->lpips) lpips_free(l->lpips);
    free(l->lpips);
    l->lpips = malloc(sizeof *l->lpips);
    CHECK(l->lpips, "out of host memory");
    *l->lpips = *net;
    l->perceptual_weight = weight;
}

void vae_loss_load_lpips(vae_loss *l, float weight, const char *path) {
    lpips_net net;
    lpips_init(&net);
    CHECK_HINT(lpips_load(&net, path) == 0, "write the file with scripts/convert_lpips.py (see docs/training.md)",
               "LPIPS weights: %s", vaec_last_error());
    vae_loss_set_lpips(l, weight, &net);
}

/* frames in a (B,T,H,W,C) video, or N for (N,H,W,C) images */
static int64_t frames_of(const tensor *x) { return x->ndim == 5 ? x->shape[0] * x->shape[1] : x->shape[0]; }

/* weight * LPIPS(x, x_hat) per frame: (B,T,1,1,1) for video, (N,1,1,1) for images; 1-channel frames are
   repeated to 3 channels, as upstream does */
static tensor *perceptual_term(const vae_loss *l, tensor *x, tensor *x_hat) {
    const int64_t C = x->shape[x->ndim - 1], frames = frames_of(x);
    CHECK(C == 3 || C == 1, "perceptual loss: LPIPS needs 1 or 3 channels, the input has %lld", (long long)C);
    const int64_t img[4] = {frames, x->shape[x->ndim - 3], x->shape[x->ndim - 2], C};
    tensor *a = op_reshape(x, 4, img), *b = op_reshape(x_hat, 4, img);
    if (C == 1) {
        a = op_concat(3, (tensor *[]){a, a, a}, 3);
        b = op_concat(3, (tensor *[]){b, b, b}, 3);
    }
    tensor *p = lpips_forward(l->lpips, a, b);   /* (frames,1,1,1) */
    if (x->ndim == 5) p = op_reshape(p, 5, (int64_t[]){x->shape[0], x->shape[1], 1, 1, 1});
    return op_mul_scalar(p, l->perceptual_weight);
}

static tensor *weighted_nll(const vae_loss *l, tensor *x, tensor *x_hat, bool perceptual) {
    char a[96], b[96];
    tensor_shape_str(x, a, sizeof a);
    tensor_shape_str(x_hat, b, sizeof b);
    CHECK(tensor_same_shape(x, x_hat) && (x->ndim == 4 || x->ndim == 5),
          "reconstruction loss: input %s and reconstruction %s must be one (B,T,H,W,C) or (N,H,W,C) shape", a, b);
    tensor *d = op_sub(x, x_hat);
    tensor *rec = l->rec == VAE_REC_L1 ? op_abs(d) : op_square(d);
    if (perceptual && l->lpips && l->perceptual_weight > 0) rec = op_add(rec, perceptual_term(l, x, x_hat));
    tensor *nll = op_add(op_div(rec, op_exp(l->logvar)), l->logvar);
    if (l->reduction == VAE_REDUCE_MEAN) return op_mean_all(nll);
    return op_mul_scalar(op_sum_all(nll), 1.0f / (float)frames_of(x));
}

tensor *vae_loss_nll(const vae_loss *l, tensor *x, tensor *x_hat) { return weighted_nll(l, x, x_hat, false); }
tensor *vae_loss_nll_pixels(const vae_loss *l, tensor *x, tensor *x_hat) { return weighted_nll(l, x, x_hat, true); }

tensor *vae_loss_kl(const vae_loss *l, const diag_gaussian *posterior) {
    tensor *kl = posterior_kl(posterior);   /* (B) */
    return op_mul_scalar(op_sum_all(kl), l->kl_weight / (float)kl->shape[0]);
}
