/* tiny_models.h: the tiny pipeline of tests/golden/gen_pipeline.py (spatial (16,16), 1 layer per block,
 * 8 groups; temporal filters 4, 1 res block, 2 groups), built the same way by every test that needs it.
 * cal_loss on, posterior means, upstream shift/scale, not frozen; callers adjust and call
 * vae_pipeline_setup again after changing freeze_vae_2d. */
#ifndef VAEC_TESTS_TINY_MODELS_H
#define VAEC_TESTS_TINY_MODELS_H
#include "layers/pipeline.h"   // defines: vae_pipeline

void tiny_pipeline_init(vae_pipeline *p, int micro_frame_size, uint64_t seed);
void tiny_pipeline_load_golden(vae_pipeline *p);   /* tests/golden/pipeline_tiny_model.safetensors */
void tiny_pipeline_free(vae_pipeline *p);

#endif
