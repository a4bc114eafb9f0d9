/* adversarial.c: generator and discriminator GAN losses, adaptive weight, LeCam (see adversarial.h). */
#include "losses/adversarial.h"
#include <math.h>
#include <string.h>
#include "core/ops.h"   // defines: op_relu, op_mean_all, op_abs, op_exp, op_log, ...

int gan_loss_type_parse(const char *s) {
    if (!strcmp(s, "hinge")) return GAN_LOSS_HINGE;
    if (!strcmp(s, "non-saturating")) return GAN_LOSS_NON_SATURATING;
    if (!strcmp(s, "vanilla")) return GAN_LOSS_VANILLA;
    return -1;
}

const char *gan_loss_type_name(gan_loss_type t) {
    return t == GAN_LOSS_HINGE ? "hinge" : t == GAN_LOSS_NON_SATURATING ? "non-saturating" : "vanilla";
}

float gan_factor_at(float factor, long start, long step) { return step < start ? 0.0f : factor; }

/* log(1 + exp(x)) without overflow: relu(x) + log(1 + exp(-|x|)) */
static tensor *softplus(tensor *x) {
    return op_add(op_relu(x), op_log(op_add_scalar(op_exp(op_neg(op_abs(x))), 1.0f)));
}

tensor *gan_generator_loss(gan_loss_type type, tensor *fake_logits) {
    CHECK(type != GAN_LOSS_VANILLA, "generator_loss_type = vanilla: upstream's AdversarialLoss refuses it (hinge or "
          "non-saturating)");
    if (type == GAN_LOSS_HINGE) return op_neg(op_mean_all(fake_logits));
    return op_mean_all(softplus(op_neg(fake_logits)));
}

static double l2_norm(const tensor *g) {
    tensor_scope_begin();
    double ss = tensor_item(op_sum_all(op_square((tensor *)g)));
    tensor_scope_end(NULL);
    return sqrt(ss);
}

double gan_adaptive_weight(const tensor *g_nll, const tensor *g_gen, float generator_factor) {
    double w = l2_norm(g_nll) / (l2_norm(g_gen) + 1e-4);
    w = w < 0.0 ? 0.0 : w > 1e4 ? 1e4 : w;   /* a NaN stays NaN: the step is then skipped */
    return w * (double)generator_factor;
}

tensor *gan_discriminator_loss(gan_loss_type type, tensor *real_logits, tensor *fake_logits) {
    tensor *r, *f;
    if (type == GAN_LOSS_HINGE) {
        r = op_mean_all(op_relu(op_rsub_scalar(real_logits, 1.0f)));
        f = op_mean_all(op_relu(op_add_scalar(fake_logits, 1.0f)));
    } else {
        r = op_mean_all(softplus(op_neg(real_logits)));
        f = op_mean_all(softplus(fake_logits));
    }
    return op_mul_scalar(op_add(r, f), 0.5f);
}

tensor *gan_lecam_loss(tensor *real_logits, tensor *fake_logits, lecam_ema ema) {
    tensor *a = op_relu(op_add_scalar(op_mean_all(real_logits), -ema.fake));
    tensor *b = op_relu(op_rsub_scalar(op_mean_all(fake_logits), ema.real));
    return op_add(op_square(a), op_square(b));
}

void lecam_ema_update(lecam_ema *e, double mean_real, double mean_fake, float decay) {
    e->real = e->real * decay + (float)mean_real * (1.0f - decay);
    e->fake = e->fake * decay + (float)mean_fake * (1.0f - decay);
}
