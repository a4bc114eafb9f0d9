/* gan_config.c: [discriminator] and the adversarial [train] keys to a gan_config (see gan_config.h). */
#include "train/gan_config.h"
#include <stdio.h>
#include <string.h>
#include "core/check.h"   // defines: CHECK, CHECK_HINT

static gan_loss_type loss_type(const config *c, const char *key, bool generator) {
    const char *v = config_str(c, "train", key, "hinge");
    int t = gan_loss_type_parse(v);
    CHECK(t >= 0, "config %s: [train] %s = '%s' (%s)", c->path, key, v,
          generator ? "hinge or non-saturating" : "hinge, vanilla or non-saturating");
    CHECK_HINT(!generator || t != GAN_LOSS_VANILLA, "use hinge or non-saturating (upstream's AdversarialLoss raises "
               "'Generator loss vanilla not supported')", "config %s: [train] %s = vanilla is not a generator loss",
               c->path, key);
    return (gan_loss_type)t;
}

gan_config gan_config_from(const config *c, int image_size, int grad_accum_steps) {
    gan_config g = {0};
    const char *p = c->path, *type = config_str(c, "discriminator", "type", NULL);
    const double gp = config_float(c, "train", "gradient_penalty_loss_weight", 0.0);
    CHECK_HINT(gp <= 0, "remove the key (v1.2.0's train_vae.py never adds the penalty to the loss either)",
               "config %s: [train] gradient_penalty_loss_weight = %g: the gradient penalty needs the gradient of a "
               "gradient (double backward), which vaec's autograd does not compute", p, gp);
    if (!type) {
        static const char *const loss_keys[] = {"generator_factor", "discriminator_factor", "discriminator_start",
                                                "generator_loss_type", "discriminator_loss_type", "lecam_loss_weight", NULL};
        for (int i = 0; loss_keys[i]; i++)
            if (config_str(c, "train", loss_keys[i], NULL))
                fprintf(stderr, "vaec: warning: config %s: [train] %s has no effect without a discriminator "
                        "([discriminator] type = NLayerDiscriminator)\n", p, loss_keys[i]);
        return g;
    }
    CHECK_HINT(!strcmp(type, "NLayerDiscriminator"), "the PatchGAN of train_vae.py: type = NLayerDiscriminator",
               "config %s: [discriminator] type = '%s' is not a discriminator vaec has", p, type);
    g.enabled = true;
    g.disc.input_nc = config_int(c, "discriminator", "input_nc", 3);
    g.disc.ndf = config_int(c, "discriminator", "ndf", 64);
    g.disc.n_layers = config_int(c, "discriminator", "n_layers", 3);
    const char *init = config_str(c, "discriminator", "init", "normal");
    CHECK(!strcmp(init, "normal") || !strcmp(init, "pytorch"), "config %s: [discriminator] init = '%s' (normal or pytorch)",
          p, init);
    g.disc.init = !strcmp(init, "normal") ? DISC_INIT_NORMAL : DISC_INIT_PYTORCH;
    CHECK(g.disc.input_nc == 3, "config %s: [discriminator] input_nc = %d: it judges RGB frames (3)", p, g.disc.input_nc);
    CHECK(g.disc.ndf >= 1 && g.disc.n_layers >= 1 && g.disc.n_layers <= DISC_MAX_LAYERS,
          "config %s: [discriminator] ndf = %d (>= 1), n_layers = %d (1 to %d)", p, g.disc.ndf, g.disc.n_layers,
          DISC_MAX_LAYERS);
    int64_t h, w;
    disc_output_size(&g.disc, image_size, image_size, &h, &w);
    CHECK_HINT(h > 0, "lower [discriminator] n_layers or raise [train] image_size",
               "config %s: [discriminator] n_layers = %d leaves no logits on %dx%d frames", p, g.disc.n_layers, image_size,
               image_size);
    g.checkpoint = config_str(c, "discriminator", "checkpoint", NULL);
    adversarial_config *a = &g.loss;
    a->generator_factor = (float)config_float(c, "train", "generator_factor", 0.5);
    a->discriminator_factor = (float)config_float(c, "train", "discriminator_factor", 1.0);
    a->discriminator_start = config_int(c, "train", "discriminator_start", -1);
    a->generator_loss_type = loss_type(c, "generator_loss_type", true);
    a->discriminator_loss_type = loss_type(c, "discriminator_loss_type", false);
    a->lecam_loss_weight = (float)config_float(c, "train", "lecam_loss_weight", 0.0);
    a->lecam_decay = 0.999f;
    CHECK(a->generator_factor >= 0 && a->discriminator_factor >= 0 && a->lecam_loss_weight >= 0,
          "config %s: [train] generator_factor = %g, discriminator_factor = %g, lecam_loss_weight = %g (0 or more)", p,
          (double)a->generator_factor, (double)a->discriminator_factor, (double)a->lecam_loss_weight);
    CHECK_HINT(grad_accum_steps == 1, "set [train] grad_accum_steps = 1 (upstream's GAN step has no accumulation)",
               "config %s: [train] grad_accum_steps = %d with a discriminator: its step runs on whole batches", p,
               grad_accum_steps);
    return g;
}
