/* train_config.c: [train] and [data] to a train_config (see train_config.h). */
#include "train/train_config.h"
#include <stdlib.h>
#include <string.h>
#include "core/check.h"    // defines: CHECK
#include "core/device.h"   // defines: device_cuda_available
#include "core/autocast.h"   // defines: precision_is_bf16
#include <stdio.h>
#include "data/loader.h"   // defines: LOADER_DEFAULT_WORKERS, LOADER_MAX_WORKERS

/* "8G", "512M", "64K" (binary units) or a byte count: the bytes; "0" or absent: 0 */
static size_t parse_size(const config *c, const char *section, const char *key) {
    const char *v = config_str(c, section, key, "0");
    char *end;
    double x = strtod(v, &end);
    double unit = *end == 'K' || *end == 'k' ? 1024.0 : *end == 'M' || *end == 'm' ? 1048576.0 :
                  *end == 'G' || *end == 'g' ? 1073741824.0 : *end == 'T' || *end == 't' ? 1099511627776.0 : 1.0;
    if (unit > 1) end++;
    CHECK(end != v && !*end && x >= 0 && x * unit < 1e18, "config %s: [%s] %s = '%s' is not a size (e.g. 8G, 512M)",
          c->path, section, key, v);
    return (size_t)(x * unit);
}

train_config train_config_from(const config *c) {
    train_config t;
    const char *p = c->path;
    t.use_real_rec_loss = config_bool(c, "train", "use_real_rec_loss", false);
    t.use_z_rec_loss = config_bool(c, "train", "use_z_rec_loss", true);
    t.use_image_identity_loss = config_bool(c, "train", "use_image_identity_loss", true);
    t.perceptual_loss_weight = (float)config_float(c, "train", "perceptual_loss_weight", 0.0);
    t.kl_loss_weight = (float)config_float(c, "train", "kl_loss_weight", 1e-6);
    const char *mix = config_str(c, "train", "mixed_strategy", "mixed_video_image");
    t.mixed_strategy = mix_strategy_parse(mix);
    CHECK((int)t.mixed_strategy >= 0, "config %s: [train] mixed_strategy = '%s' (none, mixed_video_image or "
          "mixed_video_random)", p, mix);
    t.mixed_image_ratio = (float)config_float(c, "train", "mixed_image_ratio", 0.2);
    t.lr = (float)config_float(c, "train", "lr", 1e-5);
    float betas[2];
    int nb = config_floats(c, "train", "betas", betas, 2, (const float[]){0.9f, 0.999f}, 2);
    CHECK(nb == 2, "config %s: [train] betas needs two values, e.g. 0.9,0.999", p);
    t.beta1 = betas[0], t.beta2 = betas[1];
    t.eps = (float)config_float(c, "train", "eps", 1e-8);
    t.weight_decay = (float)config_float(c, "train", "weight_decay", 0.0);
    t.grad_clip = (float)config_float(c, "train", "grad_clip", 1.0);
    const char *optname = config_str(c, "train", "optimizer", "adamw");
    CHECK(!strcmp(optname, "adamw") || !strcmp(optname, "adam"), "config %s: [train] optimizer = '%s' (adamw or adam)", p,
          optname);
    t.adam_l2 = !strcmp(optname, "adam");
    const char *sched = config_str(c, "train", "lr_schedule", "constant");
    t.schedule.kind = !strcmp(sched, "constant") ? LR_CONSTANT : !strcmp(sched, "warmup") ? LR_WARMUP
                    : !strcmp(sched, "cosine") ? LR_COSINE : (lr_kind)-1;
    CHECK((int)t.schedule.kind >= 0, "config %s: [train] lr_schedule = '%s' (constant, warmup or cosine)", p, sched);
    t.schedule.warmup_steps = config_int(c, "train", "warmup_steps", 0);
    t.schedule.min_ratio = config_float(c, "train", "min_lr_ratio", 0.0);
    CHECK(t.schedule.warmup_steps >= 0 && t.schedule.min_ratio >= 0 && t.schedule.min_ratio <= 1,
          "config %s: [train] warmup_steps = %ld (>= 0), min_lr_ratio = %g (0 to 1)", p, t.schedule.warmup_steps,
          t.schedule.min_ratio);
    CHECK(t.schedule.kind != LR_WARMUP || t.schedule.warmup_steps > 0,
          "config %s: [train] lr_schedule = warmup needs warmup_steps > 0", p);
    t.ema_decay = (float)config_float(c, "train", "ema_decay", 0.0);
    CHECK(t.ema_decay >= 0 && t.ema_decay < 1, "config %s: [train] ema_decay = %g (0 = off, else below 1, e.g. 0.999)", p,
          t.ema_decay);
    t.batch_size = config_int(c, "train", "batch_size", 1);
    t.num_frames = config_int(c, "train", "num_frames", 17);
    t.image_size = config_int(c, "train", "image_size", 256);
    t.frame_interval = config_int(c, "train", "frame_interval", 1);
    t.steps = config_int(c, "train", "steps", 1000);
    t.seed = (uint64_t)config_int(c, "train", "seed", 42);
    t.out_dir = config_str(c, "train", "out_dir", "runs/train");
    t.ckpt_every = config_int(c, "train", "ckpt_every", 1000);
    t.log_every = config_int(c, "train", "log_every", 10);
    t.keep_ckpts = config_int(c, "train", "keep_ckpts", 3);
    const char *nan = config_str(c, "train", "nan_policy", "skip");
    CHECK(!strcmp(nan, "skip") || !strcmp(nan, "stop"), "config %s: [train] nan_policy = '%s' (skip or stop)", p, nan);
    t.stop_on_nan = !strcmp(nan, "stop");
    t.train_logvar = config_bool(c, "train", "train_logvar", false);
    const char *rec = config_str(c, "train", "rec_loss", "l1");
    CHECK_HINT(!strcmp(rec, "l1") || !strcmp(rec, "l2"), "upstream's nll is l1", "config %s: [train] rec_loss = '%s' (l1 or l2)",
               p, rec);
    t.rec_l2 = !strcmp(rec, "l2");
    t.grad_accum_steps = config_int(c, "train", "grad_accum_steps", 1);
    t.dist_timeout_s = (float)config_float(c, "train", "dist_timeout_s", 600.0);
    t.dist_bucket_mb = (float)config_float(c, "train", "dist_bucket_mb", 25.0);
    CHECK(t.grad_accum_steps >= 1 && t.dist_timeout_s > 0 && t.dist_bucket_mb > 0,
          "config %s: [train] grad_accum_steps = %d (>= 1), dist_timeout_s = %g and dist_bucket_mb = %g (> 0)", p,
          t.grad_accum_steps, t.dist_timeout_s, t.dist_bucket_mb);
    t.max_memory = parse_size(c, "train", "max_memory");
    t.zero_stage = config_int(c, "train", "zero_stage", 0);
    CHECK_HINT(t.zero_stage >= 0 && t.zero_stage <= 2, "0: no sharding, 1: optimizer state and masters, 2: also gradients "
               "(docs/distributed.md)", "config %s: [train] zero_stage = %d (0, 1 or 2)", p, t.zero_stage);
    t.dist_overlap = config_bool(c, "train", "dist_overlap", true);
    t.device = config_str(c, "train", "device", "cpu");
    t.precision = config_str(c, "train", "precision", "fp32");
    t.data_path = config_str(c, "data", "path", "data/demo.h5");
    t.num_workers = config_int(c, "data", "num_workers", LOADER_DEFAULT_WORKERS);
    t.threads = config_int(c, "train", "threads", 0);
    CHECK(t.threads >= 0 && t.threads <= 4096, "config %s: [train] threads = %d (0 for the physical cores, or a count)", p,
          t.threads);
    const char *bad = config_str(c, "data", "on_bad_clip", "skip");
    CHECK(!strcmp(bad, "skip") || !strcmp(bad, "stop"), "config %s: [data] on_bad_clip = '%s' (skip or stop)", p, bad);
    t.stop_on_bad_clip = !strcmp(bad, "stop");
    CHECK(t.frame_interval >= 1, "config %s: [train] frame_interval = %d (1 or more)", p, t.frame_interval);
    CHECK(t.num_workers >= 1 && t.num_workers <= LOADER_MAX_WORKERS, "config %s: [data] num_workers = %d (1 to %d)", p,
          t.num_workers, LOADER_MAX_WORKERS);
    CHECK(t.lr > 0 && t.batch_size > 0 && t.num_frames > 0 && t.image_size > 0 && t.steps >= 0,
          "config %s: [train] lr, batch_size, num_frames and image_size must be positive, steps >= 0", p);
    CHECK(t.mixed_image_ratio >= 0 && t.mixed_image_ratio <= 1, "config %s: [train] mixed_image_ratio = %g (0 to 1)", p,
          t.mixed_image_ratio);
    CHECK(t.use_real_rec_loss || t.use_z_rec_loss || t.use_image_identity_loss,
          "config %s: [train] every loss is switched off (use_real_rec_loss, use_z_rec_loss, use_image_identity_loss)", p);
    t.lpips_path = config_str(c, "train", "lpips_path", "");
    CHECK(t.perceptual_loss_weight >= 0, "config %s: [train] perceptual_loss_weight = %g (0 or more)", p,
          t.perceptual_loss_weight);
    if (t.perceptual_loss_weight > 0) {
        CHECK_HINT(t.lpips_path[0], "write the weights with scripts/convert_lpips.py (docs/training.md), or set "
                   "[train] perceptual_loss_weight = 0", "config %s: [train] perceptual_loss_weight = %g needs the LPIPS "
                   "weights, but [train] lpips_path is not set", p, t.perceptual_loss_weight);
    }
    CHECK(!strcmp(t.device, "cpu") || !strcmp(t.device, "cuda"), "config %s: [train] device = '%s' (cpu or cuda)", p, t.device);
    t.dev = !strcmp(t.device, "cuda") ? DEVICE_CUDA : DEVICE_CPU;
    CHECK_HINT(t.dev == DEVICE_CPU || device_cuda_compiled(), "rebuild on a machine with the CUDA toolkit (nvcc on PATH)",
               "config %s: [train] device = cuda, but this build of vaec has no CUDA backend", p);
    CHECK_HINT(t.dev == DEVICE_CPU || device_cuda_available(), "check nvidia-smi and CUDA_VISIBLE_DEVICES, or train with "
               "--set train.device=cpu", "config %s: [train] device = cuda, but no GPU is visible to this process", p);
    char where[4200];
    snprintf(where, sizeof where, "config %s: [train] precision", p);
    t.bf16 = precision_is_bf16(t.precision, where);
    CHECK(t.ckpt_every > 0 && t.log_every > 0, "config %s: [train] ckpt_every and log_every must be positive", p);
    t.schedule.lr = t.lr;
    t.schedule.total_steps = t.steps;
    return t;
}
