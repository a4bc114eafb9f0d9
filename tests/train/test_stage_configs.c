/* test_stage_configs.c: the shipped stage configs parse and carry the upstream recipe. */
#include <string.h>
#include "tests/harness/test.h"
#include "train/model_config.h"
#include "train/train_config.h"

static void load_stage(int s, config *c, train_config *t, vaec_model *m) {
    char rel[64];
    snprintf(rel, sizeof rel, "configs/opensora-stage%d.ini", s);
    char *path = test_path(rel);
    EXPECT(config_load(c, path) == 0, "%s", vaec_last_error());
    free(path);
    *t = train_config_from(c);
    /* build the model's config only (the full model is 393M parameters: not built here) */
    m->kind = model_kind_from(c);
}

TEST(test_stage_configs_carry_the_upstream_recipe) {
    struct { int frames; bool freeze, real, zrec, ident; mix_strategy mix; } want[3] = {
        {17, true, false, true, true, MIX_VIDEO_IMAGE},
        {17, false, false, true, false, MIX_VIDEO_IMAGE},
        {33, false, true, false, false, MIX_VIDEO_RANDOM},
    };
    for (int s = 1; s <= 3; s++) {
        config c;
        train_config t;
        vaec_model m;
        load_stage(s, &c, &t, &m);
        EXPECT(m.kind == MODEL_PIPELINE, "stage %d: kind", s);
        EXPECT(t.lr == 1e-5f && t.beta1 == 0.9f && t.beta2 == 0.999f && t.eps == 1e-8f && t.weight_decay == 0 && t.grad_clip == 1.0f,
               "stage %d: optimizer", s);
        EXPECT(t.batch_size == 1 && t.image_size == 256 && t.seed == 42 && t.num_frames == want[s - 1].frames, "stage %d: data", s);
        EXPECT(config_bool(&c, "pipeline", "freeze_vae_2d", !want[s - 1].freeze) == want[s - 1].freeze, "stage %d: freeze", s);
        EXPECT(t.use_real_rec_loss == want[s - 1].real && t.use_z_rec_loss == want[s - 1].zrec &&
                   t.use_image_identity_loss == want[s - 1].ident && t.mixed_strategy == want[s - 1].mix,
               "stage %d: loss switches or mixing", s);
        EXPECT(t.perceptual_loss_weight == (s == 3 ? 0.1f : 0.0f), "stage %d: perceptual_loss_weight %g", s,
               t.perceptual_loss_weight);
        EXPECT(s != 3 || !strcmp(t.lpips_path, "weights/lpips_vgg16.safetensors"), "stage 3: lpips_path '%s'", t.lpips_path);
        vae_temporal_config tc = temporal_config_from(&c);
        EXPECT(tc.filters == 128 && tc.num_res_blocks == 4 && tc.n_levels == 4, "stage %d: temporal config", s);
        config_free(&c);
    }
}
