/* test_adversarial.c: the GAN losses of losses/adversarial.c against PyTorch goldens (value and gradients:
 * generator hinge and non-saturating, discriminator hinge, vanilla and non-saturating, LeCam), their
 * finite-difference gradients, the adaptive weight's formula and clamp, adopt_weight, the LeCam EMA, and
 * the refusal of a vanilla generator loss. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "losses/adversarial.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { int kind; lecam_ema ema; } loss_case;   /* kind: 0 gen hinge, 1 gen ns, 2..4 disc, 5 lecam */

static tensor *loss_fn(void *ctx, tensor **in) {
    const loss_case *c = ctx;
    switch (c->kind) {
        case 0: return gan_generator_loss(GAN_LOSS_HINGE, in[1]);
        case 1: return gan_generator_loss(GAN_LOSS_NON_SATURATING, in[1]);
        case 2: return gan_discriminator_loss(GAN_LOSS_HINGE, in[0], in[1]);
        case 3: return gan_discriminator_loss(GAN_LOSS_VANILLA, in[0], in[1]);
        case 4: return gan_discriminator_loss(GAN_LOSS_NON_SATURATING, in[0], in[1]);
        default: return gan_lecam_loss(in[0], in[1], c->ema);
    }
}

/* the generator's losses, on the fake logits alone */
static tensor *gen_fn(void *ctx, tensor **in) {
    const loss_case *c = ctx;
    return gan_generator_loss(c->kind ? GAN_LOSS_NON_SATURATING : GAN_LOSS_HINGE, in[0]);
}

static const char *const names[6] = {"gen_hinge", "gen_ns", "disc_hinge", "disc_vanilla", "disc_ns", "lecam"};

TEST(test_adversarial_losses_match_torch) {
    golden_file *g = golden_open("gan");
    for (int k = 0; k < 6; k++) {
        loss_case c = {k, {0.3f, -0.2f}};
        tensor *real = golden_leaf(g, "loss.real"), *fake = golden_leaf(g, "loss.fake");
        tensor_scope_begin();
        tensor *v = loss_fn(&c, (tensor *[]){real, fake});
        char key[64], label[64];
        snprintf(key, sizeof key, "loss.%s", names[k]);
        snprintf(label, sizeof label, "gan_loss.%s", names[k]);
        tensor *flat = op_reshape(v, 1, (int64_t[]){1});
        golden_check(label, flat, g, key, 1e-6);
        ag_backward(v);
        tensor_scope_end(NULL);
        snprintf(key, sizeof key, "loss.%s.gfake", names[k]);
        golden_check(label, fake->grad, g, key, 1e-6);
        if (k >= 2) {
            snprintf(key, sizeof key, "loss.%s.greal", names[k]);
            golden_check(label, real->grad, g, key, 1e-6);
        } else {
            EXPECT(real->grad == NULL, "%s: the real logits got a gradient", names[k]);
        }
        tensor_release(real);
        tensor_release(fake);
    }
    golden_close(g);
}

TEST(test_adversarial_losses_grad) {
    for (int k = 0; k < 6; k++) {
        loss_case c = {k, {0.3f, -0.2f}};
        tensor *real = gc_input_scaled(SHAPE(2, 3, 3, 1), 110 + (uint64_t)k, 1.5f);
        tensor *fake = gc_input_scaled(SHAPE(2, 3, 3, 1), 120 + (uint64_t)k, 1.5f);
        for (int i = 0; i < 18; i++) {   /* away from the hinge kinks at +-1 and the relu/abs kinks at 0 */
            float *r = tensor_f32(real) + i, *f = tensor_f32(fake) + i;
            if (fabsf(fabsf(*r) - 1) < 0.05f || fabsf(*r) < 0.05f) *r += 0.1f;
            if (fabsf(fabsf(*f) - 1) < 0.05f || fabsf(*f) < 0.05f) *f += 0.1f;
        }
        char label[64];
        snprintf(label, sizeof label, "gan_loss_grad.%s", names[k]);
        if (k < 2) gradcheck(label, gen_fn, &c, 1, &fake, &(gc_opts){.eps = 1e-3});   /* fake logits alone */
        else gradcheck(label, loss_fn, &c, 2, (tensor *[]){real, fake}, &(gc_opts){.eps = 1e-3});
        tensor_release(real);
        tensor_release(fake);
    }
}

TEST(test_adversarial_weight_and_schedule) {
    tensor *a = tensor_zeros(SHAPE(2, 2)), *b = tensor_zeros(SHAPE(2, 2));
    tensor_f32(a)[0] = 3, tensor_f32(a)[3] = 4;   /* ||a|| = 5 */
    tensor_f32(b)[1] = 2;                         /* ||b|| = 2 */
    double w = gan_adaptive_weight(a, b, 0.5f);
    EXPECT(fabs(w - 0.5 * 5.0 / (2.0 + 1e-4)) < 1e-9, "adaptive weight %.9g, want %.9g", w, 0.5 * 5.0 / 2.0001);
    tensor_fill(b, 0.0f);   /* ||b|| = 0: 5 / 1e-4 = 5e4, clamped to 1e4 */
    w = gan_adaptive_weight(a, b, 0.5f);
    EXPECT(w == 0.5 * 1e4, "clamped adaptive weight %.9g, want 5000", w);
    EXPECT(gan_factor_at(1.0f, 5, 4) == 0.0f && gan_factor_at(1.0f, 5, 5) == 1.0f && gan_factor_at(0.7f, -1, 0) == 0.7f,
           "adopt_weight: 0 before discriminator_start, the factor from it on");
    lecam_ema e = {0, 0};
    lecam_ema_update(&e, 2.0, -1.0, 0.999f);
    EXPECT(fabsf(e.real - 0.002f) < 1e-7f && fabsf(e.fake + 0.001f) < 1e-7f, "LeCam EMA after one update: %g %g", e.real,
           e.fake);
    EXPECT(gan_loss_type_parse("hinge") == GAN_LOSS_HINGE && gan_loss_type_parse("non-saturating") == GAN_LOSS_NON_SATURATING &&
           gan_loss_type_parse("vanilla") == GAN_LOSS_VANILLA && gan_loss_type_parse("hing") == -1, "loss type names");
    tensor_release(a);
    tensor_release(b);
}

static void vanilla_generator(void *ctx) {
    (void)ctx;
    tensor *f = tensor_zeros(SHAPE(2, 1, 1, 1));
    gan_generator_loss(GAN_LOSS_VANILLA, f);
}

TEST(test_adversarial_vanilla_generator_loss_is_refused) {
    EXPECT(test_expect_fatal(vanilla_generator, NULL, "generator_loss_type = vanilla"),
           "a vanilla generator loss did not stop with a clear message");
}
