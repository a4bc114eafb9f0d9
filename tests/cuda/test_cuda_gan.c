/* test_cuda_gan.c: the adversarial pieces on CUDA against the CPU: BatchNorm in training and eval mode
 * (output, every gradient, and the running statistics the training mode moves; sizes that reach several
 * parts of the deterministic sums and channel counts that are not a multiple of the 32-channel tile),
 * LeakyReLU, the GAN losses, the discriminator (output, input and weight gradients), and three full
 * generator + discriminator steps on the tiny pipeline (loss terms, adaptive weight, both models' weights).
 * Skipped, loudly, without a GPU; VAEC_CUDA_TWIN_ON_CPU=1 runs them CPU-vs-CPU to check the tests. */
#include <math.h>
#include <stdlib.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "losses/adversarial.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/step.h"
#include "train/step_gan.h"

/* the second device of the manual comparisons: the GPU, or the CPU under VAEC_CUDA_TWIN_ON_CPU */
static device_t twin(void) {
    const char *e = getenv("VAEC_CUDA_TWIN_ON_CPU");
    return e && *e && *e != '0' ? DEVICE_CPU : DEVICE_CUDA;
}

typedef struct { bool training; tensor *rm, *rv; } bn_case;

static tensor *bn_fn(void *ctx, tensor **in) {
    const bn_case *c = ctx;
    tensor *rm = c->rm ? cuda_twin_arg(c->rm) : NULL, *rv = c->rv ? cuda_twin_arg(c->rv) : NULL;
    return op_batch_norm(in[0], in[1], in[2], rm, rv, c->training, 0.1f, 1e-5f);
}

TEST(test_cuda_batch_norm_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    int64_t shapes[][4] = {{3, 4, 5, 6}, {4, 40, 40, 24}, {2, 9, 9, 40}, {16, 16, 16, 64}};
    for (int k = 0; k < 4; k++) {
        const int64_t C = shapes[k][3];
        tensor *x = gc_input_scaled(4, shapes[k], 500 + (uint64_t)k, 2.0f);
        for (int64_t i = 0; i < x->numel; i++) tensor_f32(x)[i] += 0.7f;
        tensor *w = gc_input(SHAPE(C), 510 + (uint64_t)k), *b = gc_input(SHAPE(C), 520 + (uint64_t)k);
        tensor *rm = gc_input_scaled(SHAPE(C), 530 + (uint64_t)k, 0.3f), *rv = tensor_full(SHAPE(C), 1.5f);
        rm->requires_grad = false;
        for (int training = 1; training >= 0; training--) {
            bn_case c = {training, training ? NULL : rm, training ? NULL : rv};
            char label[64];
            snprintf(label, sizeof label, "cuda_batch_norm.%s%d", training ? "train" : "eval", k);
            cuda_twin_check(label, bn_fn, &c, 3, (tensor *[]){x, w, b}, NULL);
        }
        /* the running statistics a training-mode pass moves */
        tensor *rm_c = tensor_clone(rm), *rv_c = tensor_clone(rv), *rm_g = tensor_to(rm, twin()), *rv_g = tensor_to(rv, twin());
        tensor *xg = tensor_to(x, twin()), *wg = tensor_to(w, twin()), *bg = tensor_to(b, twin());
        bool prev = ag_set_grad_enabled(false);
        tensor_scope_begin();
        op_batch_norm(x, w, b, rm_c, rv_c, true, 0.1f, 1e-5f);
        op_batch_norm(xg, wg, bg, rm_g, rv_g, true, 0.1f, 1e-5f);
        tensor_scope_end(NULL);
        ag_set_grad_enabled(prev);
        tensor *a = tensor_to(rm_g, DEVICE_CPU), *v = tensor_to(rv_g, DEVICE_CPU);
        EXPECT(rel_error(a, rm_c) < 1e-6 && rel_error(v, rv_c) < 1e-6, "case %d: running statistics differ: mean %.3g, var %.3g",
               k, rel_error(a, rm_c), rel_error(v, rv_c));
        tensor *all[] = {x, w, b, rm, rv, rm_c, rv_c, rm_g, rv_g, xg, wg, bg, a, v};
        for (size_t i = 0; i < sizeof all / sizeof *all; i++) tensor_release(all[i]);
    }
}

static tensor *leaky_fn(void *ctx, tensor **in) { (void)ctx; return op_leaky_relu(in[0], 0.2f); }

TEST(test_cuda_leaky_relu_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(4, 33, 17, 8), 540);
    cuda_twin_check("cuda_leaky_relu", leaky_fn, NULL, 1, &x, &(cuda_twin_opts){.tol = 1e-30});   /* bit for bit */
    tensor_release(x);
}

static tensor *losses_fn(void *ctx, tensor **in) {
    (void)ctx;
    tensor *t = op_add(gan_generator_loss(GAN_LOSS_NON_SATURATING, in[1]), gan_generator_loss(GAN_LOSS_HINGE, in[1]));
    t = op_add(t, gan_discriminator_loss(GAN_LOSS_HINGE, in[0], in[1]));
    t = op_add(t, gan_discriminator_loss(GAN_LOSS_VANILLA, in[0], in[1]));
    return op_add(t, gan_lecam_loss(in[0], in[1], (lecam_ema){0.3f, -0.2f}));
}

TEST(test_cuda_gan_losses_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *r = gc_input_scaled(SHAPE(6, 30, 30, 1), 550, 2.0f), *f = gc_input_scaled(SHAPE(6, 30, 30, 1), 551, 2.0f);
    cuda_twin_check("cuda_gan_losses", losses_fn, NULL, 2, (tensor *[]){r, f}, NULL);
    tensor_release(r);
    tensor_release(f);
}

/* the harness runs the closure once on the CPU, then once on the twin device: each run its own copy */
typedef struct { nlayer_discriminator *cpu, *gpu; int calls; } disc_pair;

static tensor *disc_fn(void *ctx, tensor **in) {
    disc_pair *d = ctx;
    return disc_forward(d->calls++ % 2 == 0 ? d->cpu : d->gpu, in[0]);
}

TEST(test_cuda_discriminator_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    nlayer_discriminator a, b;
    rng_state r1 = rng_seed(9), r2 = rng_seed(9);
    const disc_config c = {3, 16, 3, DISC_INIT_NORMAL};
    disc_init(&a, &c, &r1);
    disc_init(&b, &c, &r2);
    disc_to_device(&b, twin());
    disc_pair p = {&a, &b, 0};
    disc_set_requires_grad(&a, true);
    disc_set_requires_grad(&b, true);
    tensor *x = gc_input(SHAPE(6, 64, 64, 3), 560);
    for (int training = 1; training >= 0; training--) {
        a.training = b.training = training;
        cuda_twin_check(training ? "cuda_discriminator.train" : "cuda_discriminator.eval", disc_fn, &p, 1, &x, NULL);
    }
    /* the weight gradients (both passes accumulated), and the running statistics of the training pass */
    for (int i = 0; i < a.params.n; i++) {
        tensor *ta = a.params.items[i].t, *tb = b.params.items[i].t;
        tensor *h = tensor_to(ta->requires_grad ? tb->grad : tb, DEVICE_CPU);
        double e = rel_error(h, ta->requires_grad ? ta->grad : ta);
        EXPECT(e < 1e-4, "%s: %s differs by %.3g", a.params.items[i].name, ta->requires_grad ? "gradient" : "buffer", e);
        tensor_release(h);
    }
    tensor_release(x);
    disc_free(&a);
    disc_free(&b);
}

typedef struct { double loss, adv, d_weight, disc_loss; } step_values;

/* three steps of the tiny pipeline with the discriminator of gen_gan.py's full step, on `dev`; returns the
 * weights of both models after them (CPU copies) */
static int run_gan(device_t dev, step_values out[3], tensor **w) {
    tiny_train t;
    tiny_train_init(&t, dev);
    gan_trainer g;
    adversarial_config ac = {GAN_LOSS_HINGE, GAN_LOSS_HINGE, 0.5f, 1.0f, 0, 0.1f, 0.999f};
    gan_trainer_init(&g, &(disc_config){3, 4, 2, DISC_INIT_NORMAL}, &ac, (adamw_config){.lr = 1e-3f},
                     t.p.temporal.dec_conv_out.conv.w, dev, 7);
    char *path = test_path("tests/golden/gan.safetensors");
    EXPECT(disc_load(&g.disc, path, "step.disc.") == 0, "%s", vaec_last_error());
    free(path);
    step_config c = {.use_real_rec_loss = true, .grad_clip = 1.0f, .extra_term = gan_generator_term, .extra_ctx = &g};
    golden_file *gf = golden_open("gan");
    tensor *x = golden_get(gf, "step.x");
    tensor_move_(x, dev);
    for (int s = 0; s < 3; s++) {
        g.step = s;
        step_result r = train_step(&t.p, &t.loss, t.opt, &c, x, NULL);
        gan_discriminator_step(&g, 1e-3f, 1.0f, 0);
        out[s] = (step_values){r.loss, g.adversarial_loss, g.d_weight, g.disc_loss};
    }
    tensor_release(x);
    golden_close(gf);
    int k = 0;
    for (int i = 0; i < t.n; i++) w[k++] = tensor_to(t.params[i], DEVICE_CPU);
    for (int i = 0; i < g.disc.params.n; i++) w[k++] = tensor_to(g.disc.params.items[i].t, DEVICE_CPU);
    gan_trainer_free(&g);
    tiny_train_free(&t);
    return k;
}

TEST(test_cuda_gan_step_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    step_values a[3], b[3];
    tensor *wa[512], *wb[512];
    int n = run_gan(DEVICE_CPU, a, wa);
    EXPECT(run_gan(twin(), b, wb) == n, "different parameter counts");
    for (int s = 0; s < 3; s++) {
        const double x[4] = {a[s].loss, a[s].adv, a[s].d_weight, a[s].disc_loss}, y[4] = {b[s].loss, b[s].adv, b[s].d_weight,
                                                                                              b[s].disc_loss};
        for (int i = 0; i < 4; i++)
            EXPECT(fabs(x[i] - y[i]) <= 1e-4 * fmax(fabs(x[i]), 1e-6), "step %d value %d: cpu %.8g cuda %.8g", s, i, x[i], y[i]);
    }
    double worst = 0;
    for (int i = 0; i < n; i++) {
        worst = fmax(worst, rel_error(wb[i], wa[i]));
        tensor_release(wa[i]);
        tensor_release(wb[i]);
    }
    EXPECT(worst < 1e-4, "weights of both models after 3 steps: worst relative difference %.3g", worst);
    test_note_error("cuda_gan_step_vs_cpu", worst);
}
