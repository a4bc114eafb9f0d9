/* bench_models.c: the model rows of vaec_bench (the PyTorch twins are in bench/torch_bench.py).
 *   spatial_encode_256 / spatial_decode_256: SDXL AutoencoderKL on one 256x256 frame, no grad.
 *   temporal_step_tiny / temporal_step_mid / temporal_step_mid_17x32 (activations outweigh the weights and
 *       AdamW state there): one temporal VAE training step: encode, posterior mean,
 *       decode, L1 nll (upstream reduction) + 1e-6 KL, backward, clip at 1.0, AdamW (a _bf16 twin: under
 *       autocast, float32 master weights, as [train] precision = bf16).
 *   stage1_step_9x64: one stage-1 step: frozen SDXL-size spatial VAE (micro batches of 4 frames), the
 *       309.7M temporal VAE trainable, z-reconstruction + identity losses, clip 1.0, AdamW, on 1x3x9x64x64;
 *   stage1_step_17x256: the same at the recipe's size, 1x3x17x256x256 (bench/gpu.sh).
 * Weights are params_fill_deterministic on both sides; inputs bench_det_input: the first step's loss
 * printed by both sides must agree, which shows they do the same work. */
#include "bench/bench_rows.h"
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_set_grad_enabled, ag_backward, ag_zero_grad
#include "core/ops.h"            // defines: op_add
#include "bench/bench_util.h"    // defines: bench_time, bench_print, bench_det_input
#include "losses/vae_loss.h"     // defines: vae_loss
#include "optim/adamw.h"         // defines: adamw
#include "optim/clip.h"          // defines: grad_global_norm, clip_grad_coef
#include "train/step.h"          // defines: train_step
#include "train/precision.h"     // defines: precision_hold_frozen_bf16
#include "core/autocast.h"       // defines: autocast_set

/* ---- spatial VAE, no grad ---- */
typedef struct {
    autoencoder_kl m;
    tensor *x;
    bool decode;
} spatial_ctx;

static double spatial_iter(void *p, double *loss) {
    spatial_ctx *c = p;
    tensor_scope_begin();
    double t0 = bench_now();
    tensor *y = c->decode ? autoencoder_kl_decode(&c->m, c->x) : autoencoder_kl_encode(&c->m, c->x);
    double t1 = bench_now();
    *loss = tensor_item(y);
    tensor_scope_end(NULL);
    return t1 - t0;
}

static void spatial_row(const bench_opts *o, const char *row, bool decode) {
    spatial_ctx c = {.decode = decode};
    autoencoder_kl_config cfg = autoencoder_kl_config_sdxl();
    autoencoder_kl_init(&c.m, &cfg, 0);
    params_fill_deterministic(&c.m.params);
    bench_params_on_device(&c.m.params);
    ag_set_grad_enabled(false);
    c.x = decode ? bench_det_input(SHAPE(1, 32, 32, 4)) : bench_det_input(SHAPE(1, 256, 256, 3));
    mem_reset_peak();
    bench_result r = bench_time(o, spatial_iter, &c);
    bench_print(row, &r);
    tensor_release(c.x);
    autoencoder_kl_free(&c.m);
}

void bench_spatial_encode_256(const bench_opts *o) { spatial_row(o, "spatial_encode_256", false); }
void bench_spatial_decode_256(const bench_opts *o) { spatial_row(o, "spatial_decode_256", true); }

/* ---- temporal VAE training step ---- */
typedef struct {
    vae_temporal m;
    vae_loss l;
    adamw *opt;
    tensor *x;
} temporal_ctx;

static double temporal_iter(void *p, double *loss) {
    temporal_ctx *c = p;
    double t0 = bench_now();
    const bool prev_autocast = autocast_set(bench_bf16);   /* a _bf16 row: forward and backward, as train/step.c */
    tensor_scope_begin();
    diag_gaussian post = posterior_from_moments(vae_temporal_encode(&c->m, c->x));
    tensor *x_rec = vae_temporal_decode(&c->m, posterior_mode(&post), c->x->shape[1]);
    tensor *l = op_add(vae_loss_nll(&c->l, c->x, x_rec), vae_loss_kl(&c->l, &post));
    *loss = tensor_item(l);
    ag_backward(l);
    tensor_scope_end(NULL);
    autocast_set(prev_autocast);
    /* clip 1.0 folded into the update, as train/step.c's train_apply */
    adamw_step_scaled(c->opt, clip_grad_coef(grad_global_norm(c->opt->params, c->opt->n), 1.0));
    ag_zero_grad(c->opt->params, c->opt->n);
    return bench_now() - t0;
}

static void temporal_row(const bench_opts *o, const char *row, int filters, int res_blocks, int groups, int64_t T,
                         int64_t HW) {
    temporal_ctx c;
    vae_temporal_config cfg = vae_temporal_config_default();
    cfg.filters = filters, cfg.num_res_blocks = res_blocks, cfg.num_groups = groups;
    vae_temporal_init(&c.m, &cfg, 0);
    params_fill_deterministic(&c.m.params);
    bench_params_on_device(&c.m.params);
    vae_loss_init(&c.l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    bench_on_device(c.l.logvar);
    tensor *params[1024];
    for (int i = 0; i < c.m.params.n; i++) params[i] = c.m.params.items[i].t;
    c.opt = adamw_new(params, c.m.params.n, (adamw_config){.lr = 1e-4f});
    c.x = bench_det_input(SHAPE(1, T, HW, HW, 4));
    mem_reset_peak();
    bench_result r = bench_time(o, temporal_iter, &c);
    bench_print(row, &r);
    tensor_release(c.x);
    adamw_free(c.opt);
    vae_loss_free(&c.l);
    vae_temporal_free(&c.m);
}

void bench_temporal_step_tiny(const bench_opts *o) { temporal_row(o, "temporal_step_tiny", 16, 1, 8, 9, 16); }
void bench_temporal_step_mid(const bench_opts *o) { temporal_row(o, "temporal_step_mid", 64, 2, 32, 17, 16); }
void bench_temporal_step_mid_17x32(const bench_opts *o) { temporal_row(o, "temporal_step_mid_17x32", 64, 2, 32, 17, 32); }

/* ---- stage-1 pipeline training step ---- */
typedef struct {
    vae_pipeline p;
    vae_loss l;
    adamw *opt;
    tensor *x;
} stage1_ctx;

static double stage1_iter(void *p, double *loss) {
    stage1_ctx *c = p;
    step_config sc = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1.0f, .bf16 = bench_bf16};
    double t0 = bench_now();
    step_result r = train_step(&c->p, &c->l, c->opt, &sc, c->x, NULL);
    *loss = r.loss;
    return bench_now() - t0;
}

static void stage1_row(const bench_opts *o, const char *row, int64_t t, int64_t hw) {
    stage1_ctx c;
    memset(&c, 0, sizeof c);
    autoencoder_kl_config sc = autoencoder_kl_config_sdxl();
    autoencoder_kl_init(&c.p.spatial.vae, &sc, 0);
    params_fill_deterministic(&c.p.spatial.vae.params);
    bench_params_on_device(&c.p.spatial.vae.params);
    c.p.spatial.micro_batch_size = 4;
    vae_temporal_config tc = vae_temporal_config_default();
    vae_temporal_init(&c.p.temporal, &tc, 1);
    params_fill_deterministic(&c.p.temporal.params);
    bench_params_on_device(&c.p.temporal.params);
    c.p.micro_frame_size = 17;
    const float shift[4] = {-0.10f, 0.34f, 0.27f, 0.98f}, scale[4] = {3.85f, 2.32f, 2.33f, 3.06f};
    memcpy(c.p.shift, shift, sizeof shift);
    memcpy(c.p.scale, scale, sizeof scale);
    c.p.cal_loss = true, c.p.sample_posterior = false, c.p.freeze_vae_2d = true;
    vae_pipeline_setup(&c.p);
    if (bench_bf16) precision_hold_frozen_bf16(&c.p.spatial.vae.params);   /* as the trainer does */
    vae_loss_init(&c.l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    bench_on_device(c.l.logvar);
    tensor *params[1024];
    for (int i = 0; i < c.p.temporal.params.n; i++) params[i] = c.p.temporal.params.items[i].t;
    c.opt = adamw_new(params, c.p.temporal.params.n, (adamw_config){.lr = 1e-5f});
    c.x = bench_det_input(SHAPE(1, t, hw, hw, 3));
    mem_reset_peak();
    bench_result r = bench_time(o, stage1_iter, &c);
    bench_print(row, &r);
    tensor_release(c.x);
    adamw_free(c.opt);
    vae_loss_free(&c.l);
    autoencoder_kl_free(&c.p.spatial.vae);
    vae_temporal_free(&c.p.temporal);
}

void bench_stage1_step_9x64(const bench_opts *o) { stage1_row(o, "stage1_step_9x64", 9, 64); }
void bench_stage1_step_17x256(const bench_opts *o) { stage1_row(o, "stage1_step_17x256", 17, 256); }

/* ---- the 309.7M temporal VAE, encode + decode (posterior mean) of a 17-frame 256x256 clip's latent, no grad ---- */
typedef struct { vae_temporal m; tensor *x; } temporal_full_ctx;

static double temporal_full_iter(void *p, double *loss) {
    temporal_full_ctx *c = p;
    tensor_scope_begin();
    double t0 = bench_now();
    diag_gaussian post = posterior_from_moments(vae_temporal_encode(&c->m, c->x));
    tensor *y = vae_temporal_decode(&c->m, posterior_mode(&post), c->x->shape[1]);
    double t1 = bench_now();
    *loss = tensor_item(y);
    tensor_scope_end(NULL);
    return t1 - t0;
}

void bench_temporal_full_17x32x32(const bench_opts *o) {
    temporal_full_ctx c;
    vae_temporal_config cfg = vae_temporal_config_default();
    vae_temporal_init(&c.m, &cfg, 0);
    params_fill_deterministic(&c.m.params);
    bench_params_on_device(&c.m.params);
    ag_set_grad_enabled(false);
    c.x = bench_det_input(SHAPE(1, 17, 32, 32, 4));
    mem_reset_peak();
    bench_result r = bench_time(o, temporal_full_iter, &c);
    bench_print("temporal_full_17x32x32", &r);
    tensor_release(c.x);
    vae_temporal_free(&c.m);
}
