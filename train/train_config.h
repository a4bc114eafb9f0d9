/* train_config.h: the [train] and [data] sections, validated (reference-model.md section 6 defaults). */
#ifndef VAEC_TRAIN_TRAIN_CONFIG_H
#define VAEC_TRAIN_TRAIN_CONFIG_H
#include "train/config.h"   // defines: config
#include "train/mixing.h"   // defines: mix_strategy
#include "optim/schedule.h" // defines: lr_schedule

typedef struct {
    bool use_real_rec_loss, use_z_rec_loss, use_image_identity_loss;
    float perceptual_loss_weight, kl_loss_weight;
    mix_strategy mixed_strategy;
    float mixed_image_ratio;
    float lr, beta1, beta2, eps, weight_decay, grad_clip;
    bool adam_l2;          /* optimizer = adam (L2 decay in the gradient); default adamw (decoupled) */
    lr_schedule schedule;  /* lr_schedule = constant | warmup | cosine, warmup_steps, min_lr_ratio */
    float ema_decay;       /* 0: no EMA of the weights; else shadow = decay * shadow + (1 - decay) * param */
    int batch_size, num_frames, image_size;
    int frame_interval;    /* frames between the frames of a training window (1 = consecutive) */
    int num_workers;       /* [data] num_workers: loader prefetch threads */
    int threads;           /* compute threads; 0: OMP_NUM_THREADS if set, else the physical cores */
    bool stop_on_bad_clip; /* [data] on_bad_clip = stop; default skip (reported once, counted, passed over) */
    long steps;
    uint64_t seed;
    const char *out_dir, *data_path, *device, *precision;
    bool bf16;             /* precision = bf16: autocast compute, float32 master weights, frozen weights in bf16 */
    device_t dev;          /* device parsed: cpu or cuda (checked: compiled in and a GPU visible) */
    const char *lpips_path;   /* LPIPS weights (scripts/convert_lpips.py); read when perceptual_loss_weight > 0 */
    int ckpt_every, log_every, keep_ckpts;
    bool stop_on_nan;      /* nan_policy = stop; default skip */
    bool train_logvar;     /* upstream keeps the loss logvar frozen at 0 */
    bool rec_l2;           /* [train] rec_loss = l2: squared error in the nll (upstream: l1) */
    int grad_accum_steps;  /* micro-steps a step (gradients summed, reduced across ranks on the last) */
    float dist_timeout_s;  /* a collective that takes longer ends every rank (docs/distributed.md) */
    float dist_bucket_mb;  /* gradient all-reduce bucket size */
    int zero_stage;        /* 0 | 1 | 2: what ranks shard (train/zero.h); used with more than one rank */
    bool dist_overlap;     /* hand gradient buckets to the communicator during backward (default true) */
    size_t max_memory;     /* bytes the allocator may hold on the training device (e.g. "8G"); 0: no limit */
} train_config;

train_config train_config_from(const config *c);   /* fatal, naming the key, on a bad value */

#endif
