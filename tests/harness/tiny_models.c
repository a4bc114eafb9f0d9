/* tiny_models.c: the tiny pipeline shared by tests (see tiny_models.h). */
#include "tests/harness/tiny_models.h"
#include <stdlib.h>
#include <string.h>
#include "tests/harness/test.h"   // defines: EXPECT, test_path

void tiny_pipeline_init(vae_pipeline *p, int micro_frame_size, uint64_t seed) {
    memset(p, 0, sizeof *p);
    autoencoder_kl_config sc = autoencoder_kl_config_sdxl();
    sc.n_blocks = 2, sc.block_out_channels[0] = 16, sc.block_out_channels[1] = 16, sc.layers_per_block = 1, sc.norm_num_groups = 8;
    autoencoder_kl_init(&p->spatial.vae, &sc, seed);
    p->spatial.micro_batch_size = 4;
    vae_temporal_config tc = vae_temporal_config_default();
    tc.filters = 4, tc.num_res_blocks = 1, tc.num_groups = 2;
    vae_temporal_init(&p->temporal, &tc, seed + 1);
    p->micro_frame_size = micro_frame_size;
    const float shift[4] = {-0.10f, 0.34f, 0.27f, 0.98f}, scale[4] = {3.85f, 2.32f, 2.33f, 3.06f};
    memcpy(p->shift, shift, sizeof shift);
    memcpy(p->scale, scale, sizeof scale);
    p->cal_loss = true;
    p->sample_posterior = false;
    vae_pipeline_setup(p);
}

void tiny_pipeline_load_golden(vae_pipeline *p) {
    char *path = test_path("tests/golden/pipeline_tiny_model.safetensors");
    EXPECT(vae_pipeline_load(p, path) == 0, "load: %s", vaec_last_error());
    free(path);
}

void tiny_pipeline_free(vae_pipeline *p) {
    autoencoder_kl_free(&p->spatial.vae);
    vae_temporal_free(&p->temporal);
}

void tiny_train_init(tiny_train *t, device_t dev) {
    memset(t, 0, sizeof *t);
    tiny_pipeline_init(&t->p, 17, 1);
    tiny_pipeline_load_golden(&t->p);
    t->p.freeze_vae_2d = true;
    vae_pipeline_setup(&t->p);
    params_to_device(&t->p.spatial.vae.params, dev);
    params_to_device(&t->p.temporal.params, dev);
    vae_loss_init(&t->loss, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor_move_(t->loss.logvar, dev);
    for (int i = 0; i < t->p.temporal.params.n; i++) t->params[t->n++] = t->p.temporal.params.items[i].t;
    t->opt = adamw_new(t->params, t->n, (adamw_config){.lr = 1e-3f});
}

void tiny_train_free(tiny_train *t) {
    adamw_free(t->opt);
    vae_loss_free(&t->loss);
    tiny_pipeline_free(&t->p);
}
