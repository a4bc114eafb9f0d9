/* trainer.c: the training loop (see trainer.h). */
#include "train/trainer.h"
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "autograd/autograd.h"     // defines: ag_zero_grad
#include "core/mem.h"              // defines: mem_set_limit
#include "core/ops.h"              // defines: op_slice
#include "core/safetensors.h"      // defines: st_writer
#include "data/loader.h"           // defines: loader
#include "optim/clip.h"            // defines: grad_global_norm
#include "train/batch_noise.h"     // defines: batch_noise_slice
#include "train/checkpoint.h"      // defines: ckpt_save, ckpt_load
#include "train/checkpoint_disc.h" // defines: ckpt_disc_extra
#include "train/gan_config.h"      // defines: gan_config_from
#include "train/step_gan.h"        // defines: gan_trainer, gan_generator_term, gan_discriminator_step
#include "train/dist.h"            // defines: dist_init, dist_allreduce_grads
#include "core/cpu/dnnl_util.h"     // defines: cpu_backend_use_dnnl, dnnl_isa_name
#include "core/cpu/threads.h"       // defines: cpu_threads_apply
#include "train/loss_setup.h"      // defines: train_loss_init
#include "train/model_config.h"    // defines: model_build
#include "train/model_export.h"    // defines: pipeline_config_json
#include "train/model_folder.h"    // defines: checkpoint_weights, model_folder_merge_checkpoints
#include "train/step.h"            // defines: train_step
#include "train/metrics.h"         // defines: metric_psnr, metric_ssim
#include "train/preview.h"         // defines: preview_write_png
#include "train/train_config.h"    // defines: train_config
#include "train/precision.h"       // defines: precision_hold_frozen_bf16, precision_report
#include "core/autocast.h"         // defines: autocast_set
#include "train/zero.h"            // defines: zero_new, zero_reduce, zero_apply, zero_gather_optimizer

enum { ZERO_BUCKETS_IN_FLIGHT = 4 };   /* bucket buffers a rank may have in flight at once */

static volatile sig_atomic_t interrupted;
static void on_signal(int sig) { interrupted = sig; }

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* optional pretrained weights named in the config: [spatial|temporal|pipeline] checkpoint */
static void load_pretrained(vaec_model *m, const config *c) {
    const char *pipe = config_str(c, "pipeline", "checkpoint", NULL), *sp = config_str(c, "spatial", "checkpoint", NULL);
    const char *tp = config_str(c, "temporal", "checkpoint", NULL);
    char w[4400];   /* a folder loads from its weights file (model.safetensors, diffusion_pytorch_model...) */
    if (pipe && (checkpoint_weights(pipe, w, sizeof w) != 0 || model_load(m, w) != 0))
        FATAL("[pipeline] checkpoint: %s", vaec_last_error());
    if (sp && (checkpoint_weights(sp, w, sizeof w) != 0 || spatial_load_any(&m->p.spatial.vae, w) != 0))
        FATAL("[spatial] checkpoint: %s", vaec_last_error());
    if (tp && (checkpoint_weights(tp, w, sizeof w) != 0 || temporal_load_any(&m->p.temporal, w) != 0))
        FATAL("[temporal] checkpoint: %s", vaec_last_error());
}

static int collect_trainable(vaec_model *m, tensor **out, int cap) {
    int n = 0;
    param_list *lists[2] = {&m->p.spatial.vae.params, &m->p.temporal.params};
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < lists[k]->n; i++)
            if (lists[k]->items[i].t->requires_grad) {
                CHECK(n < cap, "too many parameters");
                out[n++] = lists[k]->items[i].t;
            }
    return n;
}

static int dump_grads(const char *path, vaec_model *m, const step_result *r, tensor *logvar) {
    st_writer *w = st_writer_new();
    param_list *lists[2] = {&m->p.spatial.vae.params, &m->p.temporal.params};
    const char *prefixes[2] = {"spatial_vae.module.", "temporal_vae."};
    char key[700];
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < lists[k]->n; i++) {
            param_entry *p = &lists[k]->items[i];
            if (!p->t->grad) continue;
            tensor *host = tensor_to(p->t->grad, DEVICE_CPU);   /* from any device */
            tensor *g = p->layout == PARAM_CONV ? conv_weight_to_torch(host) : tensor_clone(host);
            tensor_release(host);
            snprintf(key, sizeof key, "%s%s", prefixes[k], p->name);
            st_writer_add(w, key, g, DTYPE_F32);
            tensor_release(g);
        }
    if (logvar->grad) st_writer_add(w, "loss.logvar", logvar->grad, DTYPE_F32);
    char buf[64];
    double terms[5] = {r->loss, r->nll, r->kl, r->z_nll, r->identity};
    const char *names[5] = {"loss", "nll", "kl", "z_nll", "identity"};
    for (int i = 0; i < 5; i++) {
        snprintf(buf, sizeof buf, "%.9g", terms[i]);
        st_writer_meta(w, names[i], buf);
    }
    int rc = st_writer_save(w, path);
    st_writer_free(w);
    return rc;
}

/* held-out quality: posterior means through the whole pipeline, PSNR and SSIM against the input, and the
 * first clip's preview in OUT_DIR/preview-step<step>.png */
static void evaluate(vaec_model *m, const train_config *t, const char *path, int clips, const char *when, long step,
                     double *psnr_out) {
    char preview_path[4200];
    snprintf(preview_path, sizeof preview_path, "%s/preview-step%09ld.png", t->out_dir, step);
    loader_config lc = {path, t->num_frames, t->frame_interval, t->image_size, 1, 12345, 0, 1, false, 1};
    loader *ld = loader_open(&lc);
    if (!ld) FATAL("[data] eval_path: %s", vaec_last_error());
    if (clips > loader_num_clips(ld)) clips = loader_num_clips(ld);
    bool prev = ag_set_grad_enabled(false), sample = m->p.sample_posterior, prev_autocast = autocast_set(t->bf16);
    m->p.sample_posterior = false;
    double psnr = 0, ssim = 0;
    for (int i = 0; i < clips; i++) {
        tensor *x = loader_next(ld);
        if (!x) FATAL("%s", vaec_last_error());
        tensor_scope_begin();
        tensor *xd = t->dev == DEVICE_CPU ? x : tensor_autorelease(tensor_to(x, t->dev));
        pipeline_encoded e = vae_pipeline_encode(&m->p, xd, NULL);
        tensor *xr = op_clamp(vae_pipeline_decode(&m->p, e.z, e.x_z->shape[1], NULL), -1.0f, 1.0f);
        if (xr->device != DEVICE_CPU) xr = tensor_autorelease(tensor_to(xr, DEVICE_CPU));
        psnr += metric_psnr(x, xr);
        ssim += metric_ssim(x, xr);
        if (i == 0) {   /* the first held-out clip: input over reconstruction */
            if (preview_write_png(preview_path, x, xr, 9) != 0) fprintf(stderr, "vaec: warning: %s\n", vaec_last_error());
            else printf("preview: %s (input above, reconstruction below)\n", preview_path);
        }
        tensor_scope_end(NULL);
        tensor_release(x);
    }
    m->p.sample_posterior = sample;
    ag_set_grad_enabled(prev);
    autocast_set(prev_autocast);
    loader_close(ld);
    printf("held-out %s: PSNR %.2f dB, SSIM %.4f over %d clips of %s\n", when, psnr / clips, ssim / clips, clips, path);
    if (psnr_out) *psnr_out = psnr / clips;
}

static const ckpt_extra *run_extra;   /* the discriminator's files, when the run has one */

static ckpt_parts parts_of(vaec_model *m, adamw *opt, vae_loss *l, ema *avg) {
    ckpt_parts parts = {{&m->p.spatial.vae.params, &m->p.temporal.params}, {"spatial_vae.module.", "temporal_vae."}, 2, opt,
                        l->logvar, avg};
    parts.extra = run_extra;
    return parts;
}

/* a checksum of every trained weight, compared with rank 0's: ranks that drifted apart are a bug, caught here */
static void check_ranks_agree(adamw *opt, long step) {
    if (dist_world() == 1) return;
    double sum = 0, ref;
    for (int i = 0; i < opt->n; i++) {
        tensor *host = opt->params[i]->device == DEVICE_CPU ? opt->params[i] : tensor_to(opt->params[i], DEVICE_CPU);
        const float *w = tensor_f32(host);
        for (int64_t k = 0; k < host->numel; k++) sum += (double)w[k] * (double)((k % 7) + 1);
        if (host != opt->params[i]) tensor_release(host);
    }
    ref = sum;
    dist_broadcast(&ref, sizeof ref, 0, "the weight checksum broadcast");
    if (memcmp(&ref, &sum, sizeof sum) != 0)
        dist_abort("after step %ld the weights differ from rank 0's (checksum %.17g, rank 0 %.17g)", step, sum, ref);
}

static void save_checkpoint(const train_config *t, vaec_model *m, adamw *opt, zero *z, vae_loss *l, ema *avg, long step,
                            rng_state rng, loader *ld) {
    check_ranks_agree(opt, step);
    adamw *gathered = z ? zero_gather_optimizer(z) : NULL;   /* every rank takes part; rank 0 receives it all */
    if (dist_rank() != 0) return;   /* rank 0 writes; every rank holds the same weights */
    ckpt_parts parts = parts_of(m, gathered ? gathered : opt, l, avg);
    json_value *cfg = pipeline_config_json(&m->p, NULL, DTYPE_F32);   /* ckpt-N/config.json: no --config needed later */
    parts.config_json = cfg;
    /* the position counts loader batches of batch_size x ranks clips: kept, to resume on another rank count */
    ckpt_state st = {.step = step, .rng = rng, .n_position = 3};
    loader_position(ld, st.position);
    st.position[2] = (int64_t)t->batch_size * dist_world();
    /* a checkpoint that cannot be written (a full disk) stops the run: training on would lose every step after
     * the last one that was; the message names the file and the bytes it needed, the older ones are intact */
    CHECK_HINT(ckpt_save(t->out_dir, &parts, &st, t->keep_ckpts) == 0,
               "free space where the run writes (or lower [train] keep_ckpts), then continue with --resume auto",
               "%s", vaec_last_error());
    printf("checkpoint: %s/ckpt-%09ld\n", t->out_dir, step);
    json_free(cfg);
    adamw_free(gathered);
}

/* a checkpoint's data position counts loader batches of its own batch_size x ranks clips; another rank
 * count or batch size reads the same clip offset in its own units (exact when it divides) */
static void resume_position(int64_t pos[CKPT_MAX_POSITION], int n_position, int64_t clips_per_batch) {
    if (n_position < 3 || pos[2] <= 0 || pos[2] == clips_per_batch) return;
    int64_t clips = pos[1] * pos[2];
    if (clips % clips_per_batch != 0)
        fprintf(stderr, "vaec: warning: the checkpoint read %lld clips of this epoch in batches of %lld; batches of %lld "
                "continue from clip %lld\n", (long long)clips, (long long)pos[2], (long long)clips_per_batch,
                (long long)(clips / clips_per_batch * clips_per_batch));
    pos[1] = clips / clips_per_batch;
    printf("resume: the checkpoint's data position (%lld clips a batch) continues with %lld clips a batch\n",
           (long long)pos[2], (long long)clips_per_batch);
}

int train_main(const train_args *a) {
    config c;
    if (config_load(&c, a->config_path) != 0) FATAL("%s", vaec_last_error());
    for (int i = 0; i < a->n_sets; i++) if (config_set(&c, a->sets[i]) != 0) FATAL("%s", vaec_last_error());
    train_config t = train_config_from(&c);
    if (t.max_memory) mem_set_limit(t.dev, t.max_memory);   /* past it: a message naming the tensor, exit 1 */
    dist_init(t.dist_timeout_s, t.dev);   /* first: it selects the GPU */
    const int nthreads = cpu_threads_apply(t.threads);
    const int world = dist_world(), rank = dist_rank(), accum = t.grad_accum_steps;
    const bool lead = rank == 0;
    vaec_model m;
    if (model_folder_merge_checkpoints(&c) != 0) FATAL("%s", vaec_last_error());   /* checkpoint folders' config.json */
    model_build(&m, &c, t.seed);
    CHECK_HINT(m.kind == MODEL_PIPELINE, "train a pipeline config (configs/opensora-stage1.ini, configs/demo.ini)",
               "config %s: vaec train runs [model] kind = pipeline", a->config_path);
    m.p.cal_loss = true;
    load_pretrained(&m, &c);
    /* weights to the training device before the optimizer allocates its state beside them (no-op on cpu) */
    params_to_device(&m.p.spatial.vae.params, t.dev);
    params_to_device(&m.p.temporal.params, t.dev);
    tensor *params[1024];
    int n = collect_trainable(&m, params, 1024);
    if (a->plan_ranks > 0) {   /* the memory plan alone: no optimizer, no data, no training */
        int64_t numel[1024];
        int nt = 0;
        for (int i = 0; i < n; i++) numel[nt++] = params[i]->numel;
        zero_plan p;
        zero_plan_build(&p, numel, nt, a->plan_ranks, (size_t)(t.dist_bucket_mb * 1048576.0));
        for (int stage = 0; stage <= 2; stage++) zero_print_memory(&p, stage, 4, ZERO_BUCKETS_IN_FLIGHT, " (plan)");
        zero_plan_free(&p);
        model_free(&m);
        config_free(&c);
        dist_finalize();
        return 0;
    }
    const adamw_config acfg = {t.lr, t.beta1, t.beta2, t.eps, t.weight_decay, t.adam_l2};
    /* more than one rank: ZeRO (stage 0 too), whose optimizer keeps only this rank's share of the state */
    zero *z = world > 1 ? zero_new(params, n, acfg, t.zero_stage, (size_t)(t.dist_bucket_mb * 1048576.0), t.dev, t.dist_overlap,
                                   ZERO_BUCKETS_IN_FLIGHT) : NULL;
    adamw *opt = z ? z->opt : adamw_new(params, n, acfg);
    CHECK_HINT(!(z && a->dump_grads && t.zero_stage == 2), "dump the gradients with zero_stage 0 or 1",
               "--dump-grads with [train] zero_stage = 2: a rank keeps only its shard of the gradients");
    ema *avg = t.ema_decay > 0 ? ema_new(params, n, t.ema_decay) : NULL;
    vae_loss loss;
    train_loss_init(&loss, &t);   /* + LPIPS from [train] lpips_path when perceptual_loss_weight > 0 */
    tensor_move_(loss.logvar, t.dev);
    /* [discriminator]: the adversarial term and the discriminator's own step (train/step_gan.h) */
    const gan_config gc = gan_config_from(&c, t.image_size, accum);
    gan_trainer gan = {0};
    ckpt_extra gan_files;
    if (gc.enabled) {
        gan_trainer_init(&gan, &gc.disc, &gc.loss, opt->cfg, m.p.temporal.dec_conv_out.conv.w, t.dev, t.seed);
        if (gc.checkpoint && disc_load(&gan.disc, gc.checkpoint, "") != 0)
            FATAL("[discriminator] checkpoint: %s", vaec_last_error());
        gan_files = ckpt_disc_extra(&gan);
        run_extra = &gan_files;
    }
    loader_config lc = {t.data_path, t.num_frames, t.frame_interval, t.image_size, t.batch_size, t.seed, rank, world, false,
                        t.num_workers, t.stop_on_bad_clip};
    loader *ld = loader_open(&lc);
    if (!ld) FATAL("%s", vaec_last_error());
    if (loader_num_skipped(ld))
        printf("data: %s: %d clips, %d skipped (shorter than %d frames or smaller than %dx%d)\n", t.data_path,
               loader_num_clips(ld), loader_num_skipped(ld), t.num_frames, t.image_size, t.image_size);
    if (loader_num_undecodable(ld))
        printf("data: %s: %d videos skipped as undecodable (each named in a warning above)\n", t.data_path,
               loader_num_undecodable(ld));
    rng_state rng = rng_seed(t.seed);
    long start = 0;
    char resume_dir[4096] = "";
    ckpt_parts parts = parts_of(&m, z ? &z->load_view : opt, &loss, avg);   /* ZeRO: the step only, shards below */
    ckpt_state st = {0};
    if (a->resume && !strcmp(a->resume, "auto")) {   /* the newest checkpoint that loads and verifies */
        int found = ckpt_load_latest(t.out_dir, &parts, &st, resume_dir, sizeof resume_dir);
        CHECK_HINT(found >= 0, "the checkpoints were written by another config, or the disk corrupted them all",
                   "resume auto: %s", vaec_last_error());
        if (!found) resume_dir[0] = 0, printf("resume auto: no checkpoint in %s, starting from step 0\n", t.out_dir);
    } else if (a->resume) {
        snprintf(resume_dir, sizeof resume_dir, "%s", a->resume);
        if (ckpt_load(resume_dir, &parts, &st) != 0) FATAL("resume from %s: %s", resume_dir, vaec_last_error());
    }
    if (resume_dir[0] && z && zero_load_optimizer(z, resume_dir, &parts) != 0)
        FATAL("resume from %s: %s", resume_dir, vaec_last_error());
    if (resume_dir[0]) {
        start = (long)st.step;
        rng = st.rng;
        resume_position(st.position, st.n_position, (int64_t)t.batch_size * world);
        loader_seek(ld, st.position);
        printf("resumed from %s at step %ld\n", resume_dir, start);
    }
    if (!resume_dir[0] && !a->dump_grads) {   /* a fresh run would overwrite an earlier run's metrics and checkpoints */
        char old[4096];
        int found = ckpt_find_latest(t.out_dir, old, sizeof old);
        CHECK_HINT(found == 0, "continue it with --resume auto, or give this run another --out",
                   "%s already holds a run (%s): refusing to overwrite it", t.out_dir, found > 0 ? old : vaec_last_error());
    }
    struct stat sb;
    if (lead && stat(t.out_dir, &sb) != 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", t.out_dir);
        CHECK(system(cmd) == 0, "cannot create the output folder '%s'", t.out_dir);
    }
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", t.out_dir);
    FILE *metrics = a->dump_grads || !lead ? NULL : fopen(mpath, start ? "a" : "w");
    CHECK(a->dump_grads || !lead || metrics, "cannot write '%s': %s", mpath, strerror(errno));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    step_config sc = {t.use_real_rec_loss, t.use_z_rec_loss, t.use_image_identity_loss, t.grad_clip};
    sc.bf16 = t.bf16;
    if (gc.enabled) sc.extra_term = gan_generator_term, sc.extra_ctx = &gan;
    if (t.bf16) precision_report(precision_hold_frozen_bf16(&m.p.spatial.vae.params) +
                                 (loss.lpips ? precision_hold_frozen_bf16(&loss.lpips->params) : 0), t.dev);
    int64_t n_values = 0;
    for (int i = 0; i < opt->n; i++) n_values += opt->params[i]->numel;
    printf("training %lld parameters in %d tensors (%s) for %ld steps, batch %d x %d frames at %dx%d, out %s\n",
           (long long)n_values, opt->n, m.p.freeze_vae_2d ? "spatial VAE frozen" : "spatial VAE trained", t.steps,
           t.batch_size * world * accum, t.num_frames, t.image_size, t.image_size, t.out_dir);
    if (t.dev == DEVICE_CPU)
        printf("cpu: %d threads (%s); convolutions on %s, matmuls on %s (%s)\n", nthreads, cpu_threads_source(),
               conv_backend_name(), cpu_backend_use_dnnl() ? "oneDNN" : "OpenBLAS", dnnl_isa_name());
    if (gc.enabled)
        printf("discriminator: NLayerDiscriminator(input_nc %d, ndf %d, n_layers %d), %lld parameters; generator loss %s "
               "x %g from step %ld, discriminator loss %s x %g%s\n", gc.disc.input_nc, gc.disc.ndf, gc.disc.n_layers,
               (long long)disc_trainable_count(&gan.disc), gan_loss_type_name(gc.loss.generator_loss_type),
               (double)gc.loss.generator_factor, gc.loss.discriminator_start < 0 ? 0 : gc.loss.discriminator_start,
               gan_loss_type_name(gc.loss.discriminator_loss_type), (double)gc.loss.discriminator_factor,
               gc.loss.lecam_loss_weight > 0 ? ", LeCam on" : "");
    if (world > 1 || accum > 1)
        printf("data parallel: %d ranks (%s) x %d micro-steps x batch %d = global batch %d\n", world, dist_get()->source,
               accum, t.batch_size, t.batch_size * world * accum);
    if (z) {
        zero_print_memory(&z->plan, t.zero_stage, 4, ZERO_BUCKETS_IN_FLIGHT, "");
        printf("gradient buckets handed to MPI/NCCL %s%s\n", t.dist_overlap ? "during backward (dist_overlap = true)"
                                                                             : "after backward (dist_overlap = false)",
               dist_progress_thread() ? "; MPI progress thread on (VAEC_MPI_PROGRESS_THREAD=1)" : "");
    } else if (t.zero_stage > 0)
        printf("zero_stage %d: one rank holds everything; sharding starts with the second rank\n", t.zero_stage);
    const char *eval_path = config_str(&c, "data", "eval_path", NULL);
    int eval_clips = config_int(&c, "data", "eval_clips", 8);
    int eval_every = config_int(&c, "train", "eval_every", 0);   /* 0: before and after training only */
    CHECK(eval_every >= 0, "config %s: [train] eval_every = %d (0 = only before and after training)", a->config_path, eval_every);
    double psnr0 = 0, psnr1 = 0;
    if (eval_path && !a->dump_grads) {
        if (lead) evaluate(&m, &t, eval_path, eval_clips, start ? "at resume" : "before training", start, &psnr0);
        dist_barrier("the wait for rank 0's evaluation");
    }
    double t0 = now_s(), window_t0 = t0, window_comm = 0;
    long done = 0, window_steps = 0;
    int rc = 0;
    bool stop = false, noise_warned = false;
    const int slices = world * accum;
    for (long step = start; step < t.steps && !stop; step++) {
        dist_set_step(step);
        gan.step = step;
        dist_test_hook(step);
        /* micro-steps: this rank's slices of the step's global batch; gradients add up in .grad */
        step_result r = {0};
        /* from here: the time blocked in collectives, during backward (a full set of ZeRO buckets in flight)
           and after it (the wait for the last buckets, the loss terms, ZeRO's norm and weight all-gathers) */
        double comm0 = dist_comm_seconds();
        rng_state run = rng;
        batch_noise noise = {0};
        int64_t keep = 0;
        for (int micro = 0; micro < accum; micro++) {
            tensor *x = loader_next(ld);
            if (!x) FATAL("%s", vaec_last_error());
            tensor_move_(x, t.dev);   /* the batch to the training device (pinned staging for the GPU: issue 7) */
            if (micro == 0) {   /* one mixing draw a step, from the run's RNG: the same on every rank */
                keep = mix_frames(t.mixed_strategy, t.mixed_image_ratio, x->shape[1], &rng);
                run = rng;
                noise = batch_noise_of(&m.p, keep, t.image_size, t.batch_size, slices);
            }
            tensor *xb = x;
            if (keep < x->shape[1]) {
                tensor_scope_begin();
                xb = tensor_clone(op_slice(x, 1, 0, keep));
                tensor_scope_end(NULL);
                tensor_release(x);
            }
            /* alone: the run's RNG as always; else this slice's place in the whole step's noise */
            int64_t slice = (int64_t)micro * world + rank;
            rng_state sliced = slices > 1 ? batch_noise_slice(&noise, run, slice) : rng;
            if (z && micro == accum - 1) zero_before_backward(z, 1.0f / (float)slices);   /* buckets leave during it */
            step_result mr = train_forward_backward(&m.p, &loss, &sc, xb, &sliced);
            if (slices == 1) rng = sliced;
            else if (!noise_warned && !batch_noise_check(&noise, run, slice, sliced)) {
                fprintf(stderr, "vaec: warning: posterior noise draws are not aligned to Philox counters with this config: "
                        "results depend slightly on the number of ranks and micro-steps\n");
                noise_warned = true;
            }
            tensor_release(xb);
            r.loss += mr.loss, r.nll += mr.nll, r.kl += mr.kl, r.z_nll += mr.z_nll, r.identity += mr.identity;
        }
        if (slices > 1) rng = batch_noise_end(&noise, run);
        /* gradients and loss terms averaged over ranks and micro-steps; a signal on any rank stops all */
        if (z) zero_reduce(z, 1.0f / (float)slices);
        else dist_allreduce_grads(opt->params, opt->n, 1.0f / (float)slices, (size_t)(t.dist_bucket_mb * 1048576.0));
        double terms[6] = {r.loss, r.nll, r.kl, r.z_nll, r.identity, interrupted ? 1.0 : 0.0};
        dist_allreduce_sum_f64(terms, 6, "the loss-term all-reduce");
        if (slices > 1) {
            r.loss = terms[0] / slices, r.nll = terms[1] / slices, r.kl = terms[2] / slices;
            r.z_nll = terms[3] / slices, r.identity = terms[4] / slices;
        }
        stop = terms[5] > 0;
        if (a->dump_grads) {
            rc = lead ? dump_grads(a->dump_grads, &m, &r, loss.logvar) : 0;
            if (rc != 0) FATAL("%s", vaec_last_error());
            printf("gradients of step %ld (loss %.6g) written to %s\n", step, r.loss, a->dump_grads);
            break;
        }
        double lr = lr_at(&t.schedule, step);
        opt->cfg.lr = (float)lr;
        if (z) zero_apply(z, &sc, &r);
        else train_apply(opt, &sc, &r);
        window_comm += dist_comm_seconds() - comm0;
        if (step == start) {   /* what the first step held, as the allocator counts it, and how early buckets left */
            mem_stats ms;
            mem_get_stats(t.dev, &ms);
            printf("memory after step %ld (rank %d, allocator): weights %.1f MB, optimizer %.1f MB, gradients peak %.1f MB, "
                   "workspace peak %.1f MB\n", step + 1, rank, ms.in_use[MEM_PARAMS] / 1048576.0,
                   ms.in_use[MEM_OPTIMIZER] / 1048576.0, ms.peak[MEM_GRADS] / 1048576.0, ms.peak[MEM_WORKSPACE] / 1048576.0);
            if (z) {
                grad_sync_stats gs = grad_sync_last_stats(z->sync);
                printf("overlap: %d of %d gradient buckets handed over before backward ended", gs.handed_in_backward,
                       gs.buckets);
                if (gs.first_nodes_left > 0) printf(" (the first with %d backward nodes still to run)", gs.first_nodes_left);
                printf("\n");
            }
        }
        if (gc.enabled) {   /* the discriminator computes in the run's precision too, as upstream's booster does */
            bool prev_autocast = autocast_set(t.bf16);
            gan_discriminator_step(&gan, (float)lr, t.grad_clip, (size_t)(t.dist_bucket_mb * 1048576.0));
            autocast_set(prev_autocast);
        }
        if (avg && !r.skipped) ema_update(avg);
        done++;
        window_steps++;
        if (r.skipped) {
            if (lead)
                fprintf(stderr, "vaec: step %ld: loss %g, gradient norm %g: not finite, step %s\n", step + 1, r.loss,
                        r.grad_norm, t.stop_on_nan ? "stopped (nan_policy = stop)" : "skipped (weights unchanged)");
            if (t.stop_on_nan) { save_checkpoint(&t, &m, opt, z, &loss, avg, step, rng, ld); rc = 1; break; }
        }
        if (lead && ((step + 1) % t.log_every == 0 || step + 1 == t.steps)) {
            double now = now_s(), el = now - t0, sps = (double)done / el;
            double step_ms = 1e3 * (now - window_t0) / (double)window_steps, comm_ms = 1e3 * window_comm / (double)window_steps;
            char dist_part[384] = "", dist_json[640] = "";
            if (world > 1) {   /* the share of a step spent in (or waiting at) the all-reduce */
                snprintf(dist_part, sizeof dist_part, "  step %.0f ms, allreduce %.1f ms (%.1f%%)", step_ms, comm_ms,
                         100.0 * comm_ms / step_ms);
                snprintf(dist_json, sizeof dist_json, ", \"step_ms\": %.3f, \"allreduce_ms\": %.3f", step_ms, comm_ms);
            }
            if (gc.enabled) gan_log(&gan, dist_part + strlen(dist_part), sizeof dist_part - strlen(dist_part),
                                    dist_json + strlen(dist_json), sizeof dist_json - strlen(dist_json));
            printf("step %ld/%ld  loss %.4f  z_nll %.4f  identity %.4f  nll %.4f  kl %.4g  lr %.2e  grad_norm %.3f  %.2f steps/s  "
                   "ETA %.0fs  data wait %.1fs%s\n", step + 1, t.steps, r.loss, r.z_nll, r.identity, r.nll, r.kl, lr, r.grad_norm,
                   sps, (double)(t.steps - step - 1) / sps, loader_wait_seconds(ld), dist_part);
            fprintf(metrics, "{\"step\": %ld, \"loss\": %.9g, \"z_nll\": %.9g, \"identity\": %.9g, \"nll\": %.9g, \"kl\": %.9g, "
                    "\"lr\": %.9g, \"grad_norm\": %.9g, \"skipped\": %s%s}\n", step + 1, r.loss, r.z_nll, r.identity, r.nll, r.kl,
                    lr, r.grad_norm, r.skipped ? "true" : "false", dist_json);
            fflush(metrics);
            fflush(stdout);
            window_t0 = now, window_comm = 0, window_steps = 0;
        }
        if ((step + 1) % t.ckpt_every == 0 || step + 1 == t.steps || stop)
            save_checkpoint(&t, &m, opt, z, &loss, avg, step + 1, rng, ld);
        if (eval_path && eval_every && (step + 1) % eval_every == 0 && step + 1 < t.steps && !stop) {
            if (lead) {   /* periodic: held-out PSNR/SSIM and a preview, logged beside the loss */
                double psnr;
                evaluate(&m, &t, eval_path, eval_clips, "at this step", step + 1, &psnr);
                fprintf(metrics, "{\"step\": %ld, \"eval_psnr\": %.6g}\n", step + 1, psnr);
                fflush(metrics);
            }
            dist_barrier("the wait for rank 0's evaluation");
        }
    }
    if (stop) {
        if (interrupted) printf("interrupted by signal %d: checkpoint written; continue with --resume auto\n", (int)interrupted);
        else printf("interrupted by a signal to another rank: checkpoint written; continue with --resume auto\n");
        rc = 130;
    } else if (eval_path && !a->dump_grads && rc == 0) {
        if (lead) {
            evaluate(&m, &t, eval_path, eval_clips, "after training", t.steps, &psnr1);
            printf("held-out PSNR change: %+.2f dB in %ld steps (%.0f s)\n", psnr1 - psnr0, done, now_s() - t0);
        }
        dist_barrier("the wait for rank 0's evaluation");
    }
    if (metrics) fclose(metrics);
    if (loader_num_bad(ld))
        printf("data: %d clips of %s could not be read and were skipped (each reported above)\n", loader_num_bad(ld),
               t.data_path);
    loader_close(ld);
    if (gc.enabled) gan_trainer_free(&gan);
    run_extra = NULL;
    if (z) zero_free(z);
    else adamw_free(opt);
    ema_free(avg);
    vae_loss_free(&loss);
    model_free(&m);
    config_free(&c);
    dist_finalize();
    return rc;
}
