/* test_discriminator.c: the PatchGAN NLayerDiscriminator against PyTorch (training-mode forward, the input
 * and every weight gradient, the running statistics it leaves; eval mode), its input gradient by finite
 * differences, upstream's key names and parameter count, the weight init, and the errors of a weights file
 * with wrong keys or shapes. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "layers/discriminator.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static void load_golden_disc(nlayer_discriminator *d, const disc_config *c) {
    rng_state rng = rng_seed(1);
    disc_init(d, c, &rng);
    char *path = test_path("tests/golden/gan.safetensors");
    EXPECT(disc_load(d, path, "disc.") == 0, "load: %s", vaec_last_error());
    free(path);
}

static tensor *disc_fn(void *ctx, tensor **in) { return disc_forward(ctx, in[0]); }

TEST(test_discriminator_matches_torch) {
    golden_file *g = golden_open("gan");
    nlayer_discriminator d;
    const disc_config c = {3, 4, 3, DISC_INIT_NORMAL};
    load_golden_disc(&d, &c);
    tensor *x = golden_leaf(g, "disc_train.x"), *gy = golden_get(g, "disc_train.gy");
    disc_set_requires_grad(&d, true);
    tensor_scope_begin();
    tensor *y = disc_forward(&d, x);
    golden_check("disc_train.fwd", y, g, "disc_train.y", 1e-5);
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
    golden_check("disc_train.bwd_x", x->grad, g, "disc_train.gx", 1e-5);
    char key[256];
    int checked = 0, buffers = 0;
    for (int i = 0; i < d.params.n; i++) {
        const param_entry *p = &d.params.items[i];
        if (p->t->requires_grad) {   /* a weight: its gradient */
            snprintf(key, sizeof key, "disc_train.grad.%s", p->name);
            EXPECT(p->t->grad != NULL, "%s has no gradient", p->name);
            if (p->t->grad) golden_check("disc_train.bwd_weights", p->t->grad, g, key, 1e-5), checked++;
        } else {                      /* a buffer: moved by the training-mode forward as PyTorch's */
            snprintf(key, sizeof key, "disc_train.after.%s", p->name);
            golden_check("disc_train.running_stats", p->t, g, key, 1e-6);
            buffers++;
        }
    }
    EXPECT(checked == 13 && buffers == 9, "checked %d weight gradients (want 13) and %d buffers (want 9)", checked, buffers);
    tensor_release(x);
    tensor_release(gy);
    disc_free(&d);
    /* eval mode: the file's running statistics normalise, nothing moves */
    load_golden_disc(&d, &c);
    d.training = false;
    golden_check_op(g, "disc_eval", disc_fn, &d, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-5);
    EXPECT(tensor_item(params_find(&d.params, "main.3.num_batches_tracked")->t) == 3.0, "eval mode counted a batch");
    disc_free(&d);
    golden_close(g);
}

TEST(test_discriminator_input_grad) {
    nlayer_discriminator d;
    rng_state rng = rng_seed(5);
    disc_init(&d, &(disc_config){3, 2, 2, DISC_INIT_PYTORCH}, &rng);
    for (int training = 1; training >= 0; training--) {
        d.training = training;
        tensor *x = gc_input(SHAPE(2, 16, 16, 3), 90 + (uint64_t)training);
        gradcheck(training ? "discriminator.train" : "discriminator.eval", disc_fn, &d, 1, &x,
                  &(gc_opts){.eps = 1e-3, .rtol = 5e-2, .atol = 5e-3, .max_elems = 96});
        tensor_release(x);
    }
    disc_free(&d);
}

TEST(test_discriminator_keys_and_size_are_upstreams) {
    nlayer_discriminator d;
    rng_state rng = rng_seed(2);
    disc_init(&d, &(disc_config){3, 64, 3, DISC_INIT_NORMAL}, &rng);
    const char *want[] = {"main.0.weight", "main.0.bias", "main.2.weight", "main.3.weight", "main.3.bias",
                          "main.3.running_mean", "main.3.running_var", "main.3.num_batches_tracked", "main.5.weight",
                          "main.6.weight", "main.6.bias", "main.6.running_mean", "main.6.running_var",
                          "main.6.num_batches_tracked", "main.8.weight", "main.9.weight", "main.9.bias",
                          "main.9.running_mean", "main.9.running_var", "main.9.num_batches_tracked", "main.11.weight",
                          "main.11.bias"};
    const int n = (int)(sizeof want / sizeof *want);
    EXPECT(d.params.n == n, "%d keys, upstream has %d", d.params.n, n);
    for (int i = 0; i < n; i++) EXPECT(params_find(&d.params, want[i]) != NULL, "no key %s", want[i]);
    int64_t trainable = 0;
    for (int i = 0; i < d.n_trainable; i++) trainable += d.trainable[i]->numel;
    EXPECT(trainable == 2765633, "%lld trainable values, PyTorch's NLayerDiscriminator(3, 64, 3) has 2765633",
           (long long)trainable);
    /* n_layer_disc_weights_init: conv weights N(0, 0.02), BatchNorm weights N(1, 0.02), biases 0 */
    double s = 0, ss = 0, bn = 0;
    const tensor *w = params_find(&d.params, "main.8.weight")->t, *bw = params_find(&d.params, "main.9.weight")->t;
    for (int64_t i = 0; i < w->numel; i++) s += tensor_f32(w)[i], ss += tensor_f32(w)[i] * tensor_f32(w)[i];
    for (int64_t i = 0; i < bw->numel; i++) bn += tensor_f32(bw)[i];
    const double mean = s / (double)w->numel, sd = sqrt(ss / (double)w->numel - mean * mean);
    EXPECT(fabs(mean) < 1e-3 && fabs(sd - 0.02) < 1e-3 && fabs(bn / (double)bw->numel - 1) < 5e-3,
           "init: conv mean %.4g sd %.4g (want 0, 0.02), BatchNorm weight mean %.4g (want 1)", mean, sd, bn / (double)bw->numel);
    EXPECT(tensor_item(params_find(&d.params, "main.9.running_var")->t) == 1.0, "running_var starts at 1");
    int64_t h, wd;
    disc_output_size(&d.cfg, 256, 256, &h, &wd);
    EXPECT(h == 30 && wd == 30, "256x256 frames give %lldx%lld logits, PyTorch 30x30", (long long)h, (long long)wd);
    disc_free(&d);
}

TEST(test_discriminator_load_names_wrong_keys_and_shapes) {
    rng_state rng = rng_seed(3);
    nlayer_discriminator a, b;
    disc_init(&a, &(disc_config){3, 4, 2, DISC_INIT_NORMAL}, &rng);
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_disc_wrong_%d.safetensors", (int)getpid());
    EXPECT(params_save(&a.params, path, "", NULL) == 0, "save: %s", vaec_last_error());
    disc_init(&b, &(disc_config){3, 8, 2, DISC_INIT_NORMAL}, &rng);   /* another ndf: shapes differ */
    EXPECT(disc_load(&b, path, "") != 0 && strstr(vaec_last_error(), "main.0.weight") && strstr(vaec_last_error(), path),
           "a file of ndf 4 into ndf 8: '%s' does not name the file and the key", vaec_last_error());
    disc_free(&b);
    disc_init(&b, &(disc_config){3, 4, 3, DISC_INIT_NORMAL}, &rng);   /* another n_layers: keys missing */
    EXPECT(disc_load(&b, path, "") != 0 && strstr(vaec_last_error(), "main."), "n_layers 2 into 3: '%s'", vaec_last_error());
    disc_free(&b);
    disc_init(&b, &(disc_config){3, 4, 2, DISC_INIT_NORMAL}, &rng);
    EXPECT(disc_load(&b, path, "") == 0, "the same config does not load back: %s", vaec_last_error());
    EXPECT(rel_error(params_find(&b.params, "main.5.weight")->t, params_find(&a.params, "main.5.weight")->t) == 0,
           "weights changed on the way through the file");
    disc_free(&b);
    disc_free(&a);
    remove(path);
}
