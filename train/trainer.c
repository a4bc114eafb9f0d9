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
#include "core/ops.h"              // defines: op_slice
#include "core/safetensors.h"      // defines: st_writer
#include "data/loader.h"           // defines: loader
#include "optim/clip.h"            // defines: grad_global_norm
#include "train/checkpoint.h"      // defines: ckpt_save, ckpt_load
#include "train/model_config.h"    // defines: model_build
#include "train/step.h"            // defines: train_step
#include "train/metrics.h"         // defines: metric_psnr, metric_ssim
#include "train/preview.h"         // defines: preview_write_png
#include "train/train_config.h"    // defines: train_config

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
    if (pipe && model_load(m, pipe) != 0) FATAL("[pipeline] checkpoint: %s", vaec_last_error());
    if (sp && spatial_load_any(&m->p.spatial.vae, sp) != 0) FATAL("[spatial] checkpoint: %s", vaec_last_error());
    if (tp && temporal_load_any(&m->p.temporal, tp) != 0) FATAL("[temporal] checkpoint: %s", vaec_last_error());
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
            tensor *g = p->layout == PARAM_CONV ? conv_weight_to_torch(p->t->grad) : tensor_clone(p->t->grad);
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

/* held-out quality: posterior means through the whole pipeline, PSNR and SSIM against the input */
static void evaluate(vaec_model *m, const train_config *t, const char *path, int clips, const char *when, double *psnr_out,
                     const char *preview_path) {
    loader_config lc = {path, t->num_frames, 1, t->image_size, 1, 12345, 0, 1, false};
    loader *ld = loader_open(&lc);
    if (!ld) FATAL("[data] eval_path: %s", vaec_last_error());
    if (clips > loader_num_clips(ld)) clips = loader_num_clips(ld);
    bool prev = ag_set_grad_enabled(false), sample = m->p.sample_posterior;
    m->p.sample_posterior = false;
    double psnr = 0, ssim = 0;
    for (int i = 0; i < clips; i++) {
        tensor *x = loader_next(ld);
        if (!x) FATAL("%s", vaec_last_error());
        tensor_scope_begin();
        pipeline_encoded e = vae_pipeline_encode(&m->p, x, NULL);
        tensor *xr = op_clamp(vae_pipeline_decode(&m->p, e.z, e.x_z->shape[1], NULL), -1.0f, 1.0f);
        psnr += metric_psnr(x, xr);
        ssim += metric_ssim(x, xr);
        if (i == 0 && preview_path) {   /* the first held-out clip: input over reconstruction */
            if (preview_write_png(preview_path, x, xr, 9) != 0) fprintf(stderr, "vaec: warning: %s\n", vaec_last_error());
            else printf("preview: %s (input above, reconstruction below)\n", preview_path);
        }
        tensor_scope_end(NULL);
        tensor_release(x);
    }
    m->p.sample_posterior = sample;
    ag_set_grad_enabled(prev);
    loader_close(ld);
    printf("held-out %s: PSNR %.2f dB, SSIM %.4f over %d clips of %s\n", when, psnr / clips, ssim / clips, clips, path);
    if (psnr_out) *psnr_out = psnr / clips;
}

static ckpt_parts parts_of(vaec_model *m, adamw *opt, vae_loss *l) {
    return (ckpt_parts){{&m->p.spatial.vae.params, &m->p.temporal.params}, {"spatial_vae.module.", "temporal_vae."}, 2, opt,
                        l->logvar};
}

static void save_checkpoint(const train_config *t, vaec_model *m, adamw *opt, vae_loss *l, long step, rng_state rng,
                            loader *ld) {
    ckpt_parts parts = parts_of(m, opt, l);
    ckpt_state st = {.step = step, .rng = rng, .n_position = 2};
    loader_position(ld, st.position);
    if (ckpt_save(t->out_dir, &parts, &st, t->keep_ckpts) != 0)
        fprintf(stderr, "vaec: warning: %s\n", vaec_last_error());   /* training goes on; older checkpoints are intact */
    else printf("checkpoint: %s/ckpt-%09ld\n", t->out_dir, step);
}

int train_main(const train_args *a) {
    config c;
    if (config_load(&c, a->config_path) != 0) FATAL("%s", vaec_last_error());
    for (int i = 0; i < a->n_sets; i++) if (config_set(&c, a->sets[i]) != 0) FATAL("%s", vaec_last_error());
    train_config t = train_config_from(&c);
    vaec_model m;
    model_build(&m, &c, t.seed);
    CHECK_HINT(m.kind == MODEL_PIPELINE, "train a pipeline config (configs/opensora-stage1.ini, configs/demo.ini)",
               "config %s: vaec train runs [model] kind = pipeline", a->config_path);
    m.p.cal_loss = true;
    load_pretrained(&m, &c);
    tensor *params[1024];
    int n = collect_trainable(&m, params, 1024);
    adamw *opt = adamw_new(params, n, (adamw_config){t.lr, t.beta1, t.beta2, t.eps, t.weight_decay});
    vae_loss loss;
    vae_loss_init(&loss, VAE_REC_L1, VAE_REDUCE_UPSTREAM, t.kl_loss_weight, t.train_logvar);
    loader_config lc = {t.data_path, t.num_frames, t.frame_interval, t.image_size, t.batch_size, t.seed, 0, 1, false,
                        t.num_workers};
    loader *ld = loader_open(&lc);
    if (!ld) FATAL("%s", vaec_last_error());
    if (loader_num_skipped(ld))
        printf("data: %s: %d clips, %d skipped (shorter than %d frames or smaller than %dx%d)\n", t.data_path,
               loader_num_clips(ld), loader_num_skipped(ld), t.num_frames, t.image_size, t.image_size);
    rng_state rng = rng_seed(t.seed);
    long start = 0;
    char resume_dir[4096] = "";
    if (a->resume && !strcmp(a->resume, "auto")) {
        int found = ckpt_find_latest(t.out_dir, resume_dir, sizeof resume_dir);
        if (found < 0) FATAL("%s", vaec_last_error());
        if (!found) resume_dir[0] = 0, printf("resume auto: no checkpoint in %s, starting from step 0\n", t.out_dir);
    } else if (a->resume) snprintf(resume_dir, sizeof resume_dir, "%s", a->resume);
    if (resume_dir[0]) {
        ckpt_parts parts = parts_of(&m, opt, &loss);
        ckpt_state st = {0};
        if (ckpt_load(resume_dir, &parts, &st) != 0) FATAL("resume from %s: %s", resume_dir, vaec_last_error());
        start = (long)st.step;
        rng = st.rng;
        loader_seek(ld, st.position);
        printf("resumed from %s at step %ld\n", resume_dir, start);
    }
    struct stat sb;
    if (stat(t.out_dir, &sb) != 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "mkdir -p '%s'", t.out_dir);
        CHECK(system(cmd) == 0, "cannot create the output folder '%s'", t.out_dir);
    }
    char mpath[4200];
    snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", t.out_dir);
    FILE *metrics = a->dump_grads ? NULL : fopen(mpath, start ? "a" : "w");
    CHECK(a->dump_grads || metrics, "cannot write '%s': %s", mpath, strerror(errno));
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    step_config sc = {t.use_real_rec_loss, t.use_z_rec_loss, t.use_image_identity_loss, t.grad_clip};
    int64_t n_values = 0;
    for (int i = 0; i < opt->n; i++) n_values += opt->params[i]->numel;
    printf("training %lld parameters in %d tensors (%s) for %ld steps, batch %d x %d frames at %dx%d, out %s\n",
           (long long)n_values, opt->n, m.p.freeze_vae_2d ? "spatial VAE frozen" : "spatial VAE trained", t.steps,
           t.batch_size, t.num_frames, t.image_size, t.image_size, t.out_dir);
    const char *eval_path = config_str(&c, "data", "eval_path", NULL);
    int eval_clips = config_int(&c, "data", "eval_clips", 8);
    double psnr0 = 0, psnr1 = 0;
    char preview[4200];
    snprintf(preview, sizeof preview, "%s/preview-step%09ld.png", t.out_dir, start);
    if (eval_path && !a->dump_grads)
        evaluate(&m, &t, eval_path, eval_clips, start ? "at resume" : "before training", &psnr0, preview);
    double t0 = now_s();
    long done = 0;
    int rc = 0;
    for (long step = start; step < t.steps && !interrupted; step++) {
        tensor *x = loader_next(ld);
        if (!x) FATAL("%s", vaec_last_error());
        int64_t keep = mix_frames(t.mixed_strategy, t.mixed_image_ratio, x->shape[1], &rng);
        tensor *xb = x;
        if (keep < x->shape[1]) {
            tensor_scope_begin();
            xb = tensor_clone(op_slice(x, 1, 0, keep));
            tensor_scope_end(NULL);
            tensor_release(x);
        }
        if (a->dump_grads) {
            step_result r = train_forward_backward(&m.p, &loss, &sc, xb, &rng);
            rc = dump_grads(a->dump_grads, &m, &r, loss.logvar);
            if (rc != 0) FATAL("%s", vaec_last_error());
            printf("gradients of step %ld (loss %.6g) written to %s\n", step, r.loss, a->dump_grads);
            tensor_release(xb);
            break;
        }
        double lr = t.lr;
        step_result r = train_step(&m.p, &loss, opt, &sc, xb, &rng);
        tensor_release(xb);
        done++;
        if (r.skipped) {
            fprintf(stderr, "vaec: step %ld: loss %g, gradient norm %g: not finite, step %s\n", step + 1, r.loss, r.grad_norm,
                    t.stop_on_nan ? "stopped (nan_policy = stop)" : "skipped (weights unchanged)");
            if (t.stop_on_nan) { save_checkpoint(&t, &m, opt, &loss, step, rng, ld); rc = 1; break; }
        }
        if ((step + 1) % t.log_every == 0 || step + 1 == t.steps) {
            double el = now_s() - t0, sps = (double)done / el;
            printf("step %ld/%ld  loss %.4f  z_nll %.4f  identity %.4f  nll %.4f  kl %.4g  lr %.2e  grad_norm %.3f  %.2f steps/s  "
                   "ETA %.0fs  data wait %.1fs\n", step + 1, t.steps, r.loss, r.z_nll, r.identity, r.nll, r.kl, lr, r.grad_norm,
                   sps, (double)(t.steps - step - 1) / sps, loader_wait_seconds(ld));
            fprintf(metrics, "{\"step\": %ld, \"loss\": %.9g, \"z_nll\": %.9g, \"identity\": %.9g, \"nll\": %.9g, \"kl\": %.9g, "
                    "\"lr\": %.9g, \"grad_norm\": %.9g, \"skipped\": %s}\n", step + 1, r.loss, r.z_nll, r.identity, r.nll, r.kl,
                    lr, r.grad_norm, r.skipped ? "true" : "false");
            fflush(metrics);
            fflush(stdout);
        }
        if ((step + 1) % t.ckpt_every == 0 || step + 1 == t.steps || interrupted)
            save_checkpoint(&t, &m, opt, &loss, step + 1, rng, ld);
    }
    if (interrupted) {
        printf("interrupted by signal %d: checkpoint written; continue with --resume auto\n", (int)interrupted);
        rc = 130;
    } else if (eval_path && !a->dump_grads && rc == 0) {
        snprintf(preview, sizeof preview, "%s/preview-step%09ld.png", t.out_dir, t.steps);
        evaluate(&m, &t, eval_path, eval_clips, "after training", &psnr1, preview);
        printf("held-out PSNR change: %+.2f dB in %ld steps (%.0f s)\n", psnr1 - psnr0, done, now_s() - t0);
    }
    if (metrics) fclose(metrics);
    loader_close(ld);
    adamw_free(opt);
    vae_loss_free(&loss);
    model_free(&m);
    config_free(&c);
    return rc;
}
