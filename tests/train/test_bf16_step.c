/* test_bf16_step.c: one training step with [train] precision = bf16 (train/step.c under core/autocast.h,
 * frozen weights held in bf16 by train/precision.h) on the tiny pipeline of tests/harness/tiny_models.h:
 *   - stage 1 (spatial VAE frozen, latent + identity losses) and stage 3 (both VAEs trained, pixel L1 + KL
 *     + latent + identity losses): every trainable gradient against the same step in float32;
 *   - stage 1 against PyTorch's CPU autocast bf16 (tests/golden/gen_bf16.py): the loss and every gradient.
 *
 * Tolerances. The issue asks for 2e-2 per tensor relative to the tensor's largest value. On this model
 * PyTorch's own autocast misses that by far against float64 (gen_bf16.py measures it on the same setups:
 * stage 1 median 0.13, worst 0.34; stage 3 median 0.086): the L1 losses' gradient is the sign of
 * x_z - x_z_rec, which bf16 noise flips wherever the two are close, and 2-channel group norms over 2x2
 * latents amplify the rest. So each gradient is held to PyTorch's autocast error on the same setup,
 * tensor by tensor (compare_grads below): within max(2e-2, 3x PyTorch's) of its own largest value, within
 * max(2e-2, 2x PyTorch's worst) of the model's largest gradient, and the median over tensors within
 * max(2e-2, 1.5x PyTorch's median). A bug (a missing cast, a wrong kernel) shows up as an O(1) error on
 * the tensors it touches and fails these. The losses are within 2e-2 (measured ~1e-4). The gradients
 * must be float32, the frozen weights bf16, and the step's activation peak is printed beside float32's.
 *   - what autograd holds between forward and backward (the allocator's count of activation bytes once the
 *     forward's scope has ended) in one temporal VAE step: bf16 must hold at most 0.8x float32's. The
 *     products' operands and the group norms' inputs are kept in bf16 (core/autocast.h): 0.67x to 0.75x in
 *     a ResNet block (docs/architecture.md), measured 0.71x over the model (0.88x before group norm took
 *     bf16), whose posterior and losses stay float32. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_zero_grad
#include "core/mem.h"                  // defines: mem_get_stats, mem_reset_peak
#include "core/autocast.h"             // defines: autocast_set
#include "core/ops.h"                  // defines: op_add
#include "core/ops/cast.h"             // defines: tensor_cast
#include <stdlib.h>
#include "tests/harness/gradcheck.h"   // defines: golden_open, golden_get, rel_error
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h" // defines: tiny_pipeline_init, tiny_pipeline_load_golden
#include "layers/params.h"             // defines: params_fill_deterministic
#include "train/precision.h"           // defines: precision_hold_frozen_bf16
#include "train/step.h"                // defines: train_forward_backward

#define TOL_STEP 2e-2

typedef struct {
    param_list *lists[2];
    int n_lists;
} trained;

static trained trained_of(vae_pipeline *p) {
    trained t = {{&p->temporal.params, &p->spatial.vae.params}, p->freeze_vae_2d ? 1 : 2};
    return t;
}

/* every trained parameter's gradient, moved out of the parameters (which are left without one) */
static tensor **take_grads(const trained *t, int *n) {
    *n = 0;
    for (int l = 0; l < t->n_lists; l++) *n += t->lists[l]->n;
    tensor **g = calloc((size_t)*n, sizeof *g);
    int k = 0;
    for (int l = 0; l < t->n_lists; l++)
        for (int i = 0; i < t->lists[l]->n; i++, k++) {
            tensor *p = t->lists[l]->items[i].t;
            EXPECT(p->grad && p->grad->dtype == DTYPE_F32, "%s: gradient missing or not float32 (%s)",
                   t->lists[l]->items[i].name, p->grad ? dtype_name(p->grad->dtype) : "none");
            g[k] = p->grad;
            p->grad = NULL;
        }
    return g;
}

static double max_abs(const tensor *t) {
    double m = 0;
    const float *v = tensor_f32(t);
    for (int64_t i = 0; i < t->numel; i++) m = fmax(m, fabs(v[i]));
    return m;
}

/* PyTorch's own bf16 error on the same setup (tests/golden/gen_bf16.py: autocast against float64), per
 * trained tensor: [0] max|d| / max|ref|, [1] max|d| / (the model's largest gradient) */
static float (*torch_errors(golden_file *g, const char *tag, const trained *t))[2] {
    int n = 0;
    for (int l = 0; l < t->n_lists; l++) n += t->lists[l]->n;
    float (*e)[2] = calloc((size_t)n, sizeof *e);
    char key[700];
    int k = 0;
    for (int l = 0; l < t->n_lists; l++)
        for (int i = 0; i < t->lists[l]->n; i++, k++) {
            snprintf(key, sizeof key, "torch_err.%s.%s%s", tag, l == 0 ? "temporal_vae." : "spatial_vae.module.",
                     t->lists[l]->items[i].name);
            tensor *v = golden_get(g, key);
            memcpy(e[k], v->data, sizeof e[k]);
            tensor_release(v);
        }
    return e;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* got[i] against want[i] per tensor (names from t), held to PyTorch's autocast error te on the same setup:
 *   - each tensor: max|d| / max|want| <= max(2e-2, 3 x PyTorch's for that tensor); a tensor that is zero in
 *     exact arithmetic against the model's largest gradient instead;
 *   - each tensor: max|d| / (the model's largest gradient) <= max(2e-2, 2 x PyTorch's worst);
 *   - the median over tensors of max|d| / max|want| <= max(2e-2, 1.5 x PyTorch's median).
 * Returns the worst per-tensor error. */
static double compare_grads(const char *label, const trained *t, tensor **got, tensor **want, float (*te)[2]) {
    int n = 0;
    for (int l = 0; l < t->n_lists; l++) n += t->lists[l]->n;
    double scale = 0, worst = 0, worst_global = 0, torch_worst_global = 0;
    for (int k = 0; k < n; k++) scale = fmax(scale, max_abs(want[k])), torch_worst_global = fmax(torch_worst_global, te[k][1]);
    double *own = calloc((size_t)n, sizeof *own), *torch_own = calloc((size_t)n, sizeof *torch_own);
    int k = 0, zeros = 0, m = 0;
    const char *worst_name = "";
    for (int l = 0; l < t->n_lists; l++)
        for (int i = 0; i < t->lists[l]->n; i++, k++) {
            const char *name = t->lists[l]->items[i].name;
            if (!got[k] || !want[k]) continue;
            const float *a = tensor_f32(got[k]), *b = tensor_f32(want[k]);
            double d = 0, ref = max_abs(want[k]);
            for (int64_t j = 0; j < want[k]->numel; j++) d = fmax(d, fabs((double)a[j] - b[j]));
            const double global = d / scale, tol_global = fmax(TOL_STEP, 2.0 * torch_worst_global);
            EXPECT(global <= tol_global, "%s: %s differs by %.3g of the largest gradient (tolerance %.3g)", label, name,
                   global, tol_global);
            worst_global = fmax(worst_global, global);
            if (ref < 1e-6 * scale) {   /* zero in exact arithmetic: rounding noise, checked against the scale above */
                zeros++;
                continue;
            }
            const double e = d / ref, tol = fmax(TOL_STEP, 3.0 * te[k][0]);
            EXPECT(e <= tol, "%s: %s differs by %.3g of its largest value (tolerance %.3g; PyTorch's autocast %.3g)", label,
                   name, e, tol, te[k][0]);
            own[m] = e, torch_own[m++] = te[k][0];
            if (e > worst) worst = e, worst_name = name;
        }
    qsort(own, (size_t)m, sizeof *own, cmp_double);
    qsort(torch_own, (size_t)m, sizeof *torch_own, cmp_double);
    const double med = own[m / 2], torch_med = torch_own[m / 2], tol_med = fmax(TOL_STEP, 1.5 * torch_med);
    EXPECT(med <= tol_med, "%s: median gradient error %.3g, PyTorch's autocast %.3g (tolerance %.3g)", label, med,
           torch_med, tol_med);
    printf("    %s: %d gradients (%d zero in exact arithmetic); per tensor: median %.2e (PyTorch autocast %.2e), worst "
           "%.2e (%s, PyTorch %.2e); against the largest gradient %.2e: worst %.2e (PyTorch %.2e)\n", label, n, zeros,
           med, torch_med, worst, worst_name, torch_own[m - 1], scale, worst_global, torch_worst_global);
    free(own);
    free(torch_own);
    return worst;
}

static void free_grads(tensor **g, int n) {
    for (int i = 0; i < n; i++) tensor_release(g[i]);
    free(g);
}

static size_t activation_peak(void) {
    mem_stats s;
    mem_get_stats(DEVICE_CPU, &s);
    return s.peak[MEM_ACTIVATIONS];
}

/* the step in float32, then (frozen weights now held in bf16) in bf16: every trained gradient compared */
static void bf16_against_fp32(const char *label, bool stage3) {
    golden_file *g = golden_open("stage1");
    tensor *x = golden_get(g, "x0");
    vae_pipeline p;
    tiny_pipeline_init(&p, 17, 1);
    tiny_pipeline_load_golden(&p);
    p.freeze_vae_2d = !stage3;
    vae_pipeline_setup(&p);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    step_config c = {.use_real_rec_loss = stage3, .use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1};
    trained t = trained_of(&p);
    int n32, n16;
    mem_reset_peak();
    step_result r32 = train_forward_backward(&p, &l, &c, x, NULL);
    size_t peak32 = activation_peak();
    tensor **g32 = take_grads(&t, &n32);
    int64_t freed = precision_hold_frozen_bf16(&p.spatial.vae.params);
    if (!stage3) {
        EXPECT(freed > 0 && p.spatial.vae.params.items[0].t->dtype == DTYPE_BF16,
               "the frozen spatial VAE's weights must be held in bf16 (%lld bytes freed)", (long long)freed);
    } else {
        EXPECT(freed == 0, "a trained VAE's weights must stay float32 (master weights)");
    }
    c.bf16 = true;
    mem_reset_peak();
    step_result r16 = train_forward_backward(&p, &l, &c, x, NULL);
    size_t peak16 = activation_peak();
    tensor **g16 = take_grads(&t, &n16);
    double el = fabs(r16.loss - r32.loss) / fabs(r32.loss);
    printf("    %s: loss fp32 %.6f bf16 %.6f (%.2e); activation peak fp32 %.1f KiB, bf16 %.1f KiB\n", label, r32.loss,
           r16.loss, el, peak32 / 1024.0, peak16 / 1024.0);
    EXPECT(el <= TOL_STEP, "%s: bf16 loss %.7g, float32 %.7g", label, r16.loss, r32.loss);
    if (stage3) EXPECT(fabs(r16.nll - r32.nll) <= TOL_STEP * fabs(r32.nll), "%s: pixel loss %g vs %g", label, r16.nll, r32.nll);
    if (!stage3)
        for (int i = 0; i < p.spatial.vae.params.n; i++)
            EXPECT(p.spatial.vae.params.items[i].t->grad == NULL, "the frozen spatial VAE got a gradient");
    golden_file *ge = golden_open("bf16");
    float (*te)[2] = torch_errors(ge, stage3 ? "stage3" : "stage1", &t);
    compare_grads(label, &t, g16, g32, te);
    free(te);
    golden_close(ge);
    free_grads(g32, n32);
    free_grads(g16, n16);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
    tensor_release(x);
    golden_close(g);
}

TEST(test_train_bf16_stage1_grads_match_fp32) { bf16_against_fp32("stage1 bf16 vs fp32", false); }

TEST(test_train_bf16_stage3_grads_match_fp32) { bf16_against_fp32("stage3 bf16 vs fp32", true); }

TEST(test_train_bf16_step_matches_pytorch_autocast) {
    golden_file *g = golden_open("bf16");
    tensor *x = golden_get(g, "x"), *want_loss = golden_get(g, "loss");
    vae_pipeline p;
    tiny_pipeline_init(&p, 17, 1);
    tiny_pipeline_load_golden(&p);
    p.freeze_vae_2d = true;
    vae_pipeline_setup(&p);
    precision_hold_frozen_bf16(&p.spatial.vae.params);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    step_config c = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1, .bf16 = true};
    step_result r = train_forward_backward(&p, &l, &c, x, NULL);
    const double want = tensor_f32(want_loss)[0], el = fabs(r.loss - want) / fabs(want);
    printf("    loss vaec bf16 %.6f, PyTorch autocast %.6f (%.2e)\n", r.loss, want, el);
    EXPECT(el <= TOL_STEP, "loss %.7g, PyTorch autocast bf16 %.7g", r.loss, want);
    trained t = trained_of(&p);
    int n;
    tensor **got = take_grads(&t, &n), **ref = calloc((size_t)n, sizeof *ref);
    char key[600];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "grad.temporal_vae.%s", p.temporal.params.items[i].name);
        tensor *stored = golden_get(g, key);   /* bf16 in the file */
        ref[i] = stored->dtype == DTYPE_F32 ? stored : tensor_cast(stored, DTYPE_F32);
        if (ref[i] != stored) tensor_release(stored);
    }
    float (*te)[2] = torch_errors(g, "stage1", &t);
    double worst = compare_grads("stage1 bf16 vs PyTorch autocast", &t, got, ref, te);
    free(te);
    test_note_error("bf16_train.step_vs_autocast", worst);   /* its own family: bf16 noise, not an fp32 error */
    free_grads(got, n);
    free_grads(ref, n);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
    tensor_release(want_loss);
    tensor_release(x);
    golden_close(g);
}

/* the whole gradient's normwise difference, sqrt(sum |a - b|^2 / sum |b|^2) over every trained tensor */
static double normwise(tensor **a, tensor **b, int n) {
    double dn = 0, rn = 0;
    for (int k = 0; k < n; k++) {
        const float *x = tensor_f32(a[k]), *y = tensor_f32(b[k]);
        for (int64_t j = 0; j < b[k]->numel; j++) dn += ((double)x[j] - y[j]) * ((double)x[j] - y[j]), rn += (double)y[j] * y[j];
    }
    return sqrt(dn / rn);
}

/* one stage-3 step in fp32 and in bf16 on p and l (LPIPS, if any, held in bf16 between them); the loss
 * error and the normwise gradient error */
static void stage3_pair(vae_pipeline *p, vae_loss *l, tensor *x, double *loss_err, double *grad_err) {
    step_config c = {.use_real_rec_loss = true, .grad_clip = 1.0f};
    trained t = trained_of(p);
    int n32, n16;
    step_result r32 = train_forward_backward(p, l, &c, x, NULL);
    tensor **g32 = take_grads(&t, &n32);
    if (l->lpips)
        EXPECT(precision_hold_frozen_bf16(&l->lpips->params) > 0 && l->lpips->params.items[0].t->dtype == DTYPE_BF16,
               "LPIPS's weights must be held in bf16");
    c.bf16 = true;
    step_result r16 = train_forward_backward(p, l, &c, x, NULL);
    tensor **g16 = take_grads(&t, &n16);
    *loss_err = fabs(r16.loss - r32.loss) / fabs(r32.loss);
    *grad_err = normwise(g16, g32, n32);
    free_grads(g32, n32);
    free_grads(g16, n16);
}

/* stage 3 with the perceptual term: LPIPS (frozen, held in bf16) runs as a checkpointed segment that backward
 * recomputes, which must compute as the forward did (the step keeps autocast on through backward; were it
 * off, the recomputation would meet bf16 weights with float32 inputs and stop). No PyTorch reference for this
 * step: the gradient is held normwise within 0.3 of float32's (measured 0.20 on one image; 0.10 for the same
 * step without LPIPS: its 13 VGG convolutions at weight 20 add their bf16 noise), the loss within 2e-2. */
TEST(test_train_bf16_step_with_lpips) {
    tensor *x = gc_input_scaled(SHAPE(1, 1, 16, 16, 3), 21, 0.5f);
    x->requires_grad = false;
    vae_pipeline p;
    tiny_pipeline_init(&p, 17, 3);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    lpips_net net;
    lpips_init(&net);
    params_fill_deterministic(&net.params);
    vae_loss_set_lpips(&l, 20.0f, &net);
    double le, ge;
    stage3_pair(&p, &l, x, &le, &ge);
    for (int i = 0; i < l.lpips->params.n; i++)
        EXPECT(!l.lpips->params.items[i].t->grad, "LPIPS parameter %s got a gradient", l.lpips->params.items[i].name);
    printf("    stage3 + LPIPS bf16 vs fp32, one image: loss error %.2e, gradient normwise %.2e\n", le, ge);
    EXPECT(le <= TOL_STEP, "bf16 loss with LPIPS off by %.3g", le);
    EXPECT(ge <= 0.3, "bf16 gradients with LPIPS: normwise error %.3g", ge);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
    tensor_release(x);
}

/* activation bytes autograd holds after the forward of one temporal VAE step (encode, posterior mean, decode,
   L1 + KL): the forward's scope has ended, so what is left is what backward reads; then the backward runs */
static size_t saved_by_forward(vae_temporal *m, vae_loss *l, tensor *x, bool bf16, double *loss_value) {
    mem_stats s0, s1;
    const bool prev = autocast_set(bf16);
    mem_get_stats(DEVICE_CPU, &s0);
    tensor_scope_begin();
    diag_gaussian post = posterior_from_moments(vae_temporal_encode(m, x));
    tensor *x_rec = vae_temporal_decode(m, posterior_mode(&post), x->shape[1]);
    tensor *loss = op_add(vae_loss_nll(l, x, x_rec), vae_loss_kl(l, &post));
    tensor_retain(loss);
    tensor_scope_end(NULL);
    mem_get_stats(DEVICE_CPU, &s1);
    *loss_value = tensor_item(loss);
    ag_backward(loss);
    tensor_release(loss);
    autocast_set(prev);
    for (int i = 0; i < m->params.n; i++) {   /* the next run starts without gradients */
        EXPECT(!m->params.items[i].t->grad || m->params.items[i].t->grad->dtype == DTYPE_F32, "a gradient is not float32");
        ag_zero_grad(&m->params.items[i].t, 1);
    }
    return s1.in_use[MEM_ACTIVATIONS] - s0.in_use[MEM_ACTIVATIONS];
}

TEST(test_train_bf16_step_saves_smaller_activations) {
    vae_temporal m;
    vae_temporal_config cfg = vae_temporal_config_default();
    cfg.filters = 16, cfg.num_res_blocks = 1, cfg.num_groups = 8;
    vae_temporal_init(&m, &cfg, 5);
    params_fill_deterministic(&m.params);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor *x = gc_input_scaled(SHAPE(1, 9, 16, 16, 4), 41, 0.5f);
    x->requires_grad = false;
    double loss32, loss16;
    const size_t saved32 = saved_by_forward(&m, &l, x, false, &loss32);
    const size_t saved16 = saved_by_forward(&m, &l, x, true, &loss16);
    printf("    temporal VAE step (filters 16, 1x9x16x16x4): held for backward fp32 %.1f KiB, bf16 %.1f KiB (%.3fx); "
           "loss %.6f / %.6f\n", saved32 / 1024.0, saved16 / 1024.0, (double)saved16 / (double)saved32, loss32, loss16);
    EXPECT(saved32 > 0 && (double)saved16 <= 0.8 * (double)saved32,
           "bf16 holds %zu activation bytes for backward, float32 %zu: expected at most 0.8x (bf16 operands and norm inputs)",
           saved16, saved32);
    EXPECT(fabs(loss16 - loss32) <= TOL_STEP * fabs(loss32), "bf16 loss %.7g, float32 %.7g", loss16, loss32);
    for (int i = 0; i < m.params.n; i++) EXPECT(m.params.items[i].t->dtype == DTYPE_F32, "a trained weight must stay float32");
    tensor_release(x);
    vae_loss_free(&l);
    vae_temporal_free(&m);
}
