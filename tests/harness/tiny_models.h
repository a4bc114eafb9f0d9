/* tiny_models.h: the tiny pipeline of tests/golden/gen_pipeline.py (spatial (16,16), 1 layer per block,
 * 8 groups; temporal filters 4, 1 res block, 2 groups), built the same way by every test that needs it.
 * cal_loss on, posterior means, upstream shift/scale, not frozen; callers adjust and call
 * vae_pipeline_setup again after changing freeze_vae_2d. */
#ifndef VAEC_TESTS_TINY_MODELS_H
#define VAEC_TESTS_TINY_MODELS_H
#include "core/device.h"       // defines: device_t
#include "layers/pipeline.h"   // defines: vae_pipeline
#include "losses/vae_loss.h"   // defines: vae_loss
#include "optim/adamw.h"       // defines: adamw

void tiny_pipeline_init(vae_pipeline *p, int micro_frame_size, uint64_t seed);
void tiny_pipeline_load_golden(vae_pipeline *p);   /* tests/golden/pipeline_tiny_model.safetensors */
void tiny_pipeline_free(vae_pipeline *p);

/* the stage-1 training set-up of the GPU twins: the golden tiny pipeline (micro_frame_size 17) with its
 * spatial VAE frozen, moved to `dev`; the upstream loss (L1, SUM/MEAN reduction, KL 1e-6, logvar on `dev`)
 * and AdamW (lr 1e-3) over the temporal VAE's weights, listed in params[0..n) */
typedef struct {
    vae_pipeline p;
    vae_loss loss;
    tensor *params[256];
    int n;
    adamw *opt;
} tiny_train;
void tiny_train_init(tiny_train *t, device_t dev);
void tiny_train_free(tiny_train *t);

#endif
