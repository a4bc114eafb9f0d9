/* test_optim.c: AdamW against torch.optim.AdamW, Adam against torch.optim.Adam, clipping against clip_grad_norm_, schedules, EMA. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "autograd/autograd.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "optim/schedule.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static void adamw_case(golden_file *g, const char *name, float lr, float wd, bool l2_coupled) {
    char k[64];
    snprintf(k, sizeof k, "%s.p0", name);
    tensor *p0 = golden_leaf(g, k);
    snprintf(k, sizeof k, "%s.p1", name);
    tensor *p1 = golden_leaf(g, k);
    tensor *params[2] = {p0, p1};
    adamw *opt = adamw_new(params, 2, (adamw_config){.lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f, .weight_decay = wd,
                                                             .l2_coupled = l2_coupled});
    for (int t = 0; t < 10; t++) {
        snprintf(k, sizeof k, "%s.g0_%d", name, t);
        p0->grad = golden_get(g, k);
        snprintf(k, sizeof k, "%s.g1_%d", name, t);
        p1->grad = golden_get(g, k);
        adamw_step(opt);
        ag_zero_grad(params, 2);
    }
    char label[64];
    snprintf(label, sizeof label, "adamw.%s_p0", name);
    snprintf(k, sizeof k, "%s.final0", name);
    golden_check(label, p0, g, k, 1e-6);
    snprintf(label, sizeof label, "adamw.%s_p1", name);
    snprintf(k, sizeof k, "%s.final1", name);
    golden_check(label, p1, g, k, 1e-6);
    adamw_free(opt);
    tensor_release(p0);
    tensor_release(p1);
}

TEST(test_adamw_matches_torch_10_steps) {
    golden_file *g = golden_open("train");
    adamw_case(g, "adamw_wd", 1e-3f, 0.01f, false);
    adamw_case(g, "adamw_stage", 1e-5f, 0.0f, false);
    adamw_case(g, "adam_l2", 1e-3f, 0.01f, true);   /* torch.optim.Adam: L2 decay through the gradient */
    golden_close(g);
}

TEST(test_adamw_frozen_parameters_get_no_state) {
    tensor *a = tensor_zeros(SHAPE(1000)), *b = tensor_zeros(SHAPE(1000));
    a->requires_grad = true;
    b->requires_grad = false;
    mem_stats s0, s1;
    mem_get_stats(DEVICE_CPU, &s0);
    adamw *opt = adamw_new((tensor *[]){a, b}, 2, (adamw_config){0});
    mem_get_stats(DEVICE_CPU, &s1);
    EXPECT(opt->n == 1, "optimizer tracks %d parameters, expected 1", opt->n);
    EXPECT(s1.in_use[MEM_OPTIMIZER] - s0.in_use[MEM_OPTIMIZER] < 3 * 4096 + 2 * 4000, "optimizer state for a frozen tensor");
    adamw_free(opt);
    tensor_release(a);
    tensor_release(b);
}

TEST(test_clip_grad_norm_matches_torch) {
    golden_file *g = golden_open("train");
    tensor *p0 = tensor_zeros(SHAPE(3, 4)), *p1 = tensor_zeros(SHAPE(7));
    p0->grad = golden_get(g, "clip.g0");
    p1->grad = golden_get(g, "clip.g1");
    tensor *total = golden_get(g, "clip.total");
    double n = clip_grad_norm((tensor *[]){p0, p1}, 2, 1.0);
    EXPECT(fabs(n - tensor_f32(total)[0]) < 1e-5 * tensor_f32(total)[0], "total norm %.7f, torch %.7f", n, tensor_f32(total)[0]);
    golden_check("clip.g0", p0->grad, g, "clip.c0", 1e-6);
    golden_check("clip.g1", p1->grad, g, "clip.c1", 1e-6);
    tensor_release(total);
    tensor_release(p0);
    tensor_release(p1);
    golden_close(g);
}

/* the CPU norm sums fixed chunks in parallel: the same bits on 1 and 2 threads (docs/ops.md promises bitwise
   equality across thread counts), within double rounding of a long double sum, and the clipped gradients too */
TEST(test_clip_grad_norm_same_bits_any_thread_count) {
    const int64_t sizes[3] = {1000003, 65536, 17};   /* many chunks with a partial last one; exactly one; a tail */
    tensor *p[3], *ref[3];
    long double want = 0;
    for (int i = 0; i < 3; i++) {
        p[i] = tensor_zeros(SHAPE(sizes[i]));
        p[i]->grad = tensor_zeros(SHAPE(sizes[i]));
        float *g = tensor_f32(p[i]->grad);
        for (int64_t k = 0; k < sizes[i]; k++) {
            g[k] = (float)sin(0.37 * (double)k + i) * (1.0f + (float)(k % 7));
            want += (long double)g[k] * g[k];
        }
        ref[i] = tensor_clone(p[i]->grad);
    }
    const int threads = omp_get_max_threads();
    double norm[2];
    tensor *clipped[2][3];
    for (int r = 0; r < 2; r++) {
        omp_set_num_threads(r == 0 ? 1 : 2);
        for (int i = 0; i < 3; i++) tensor_copy_(p[i]->grad, ref[i]);
        norm[r] = clip_grad_norm(p, 3, 1.0);
        for (int i = 0; i < 3; i++) clipped[r][i] = tensor_clone(p[i]->grad);
    }
    omp_set_num_threads(threads);
    EXPECT(memcmp(&norm[0], &norm[1], sizeof norm[0]) == 0, "norm %.17g on 1 thread, %.17g on 2", norm[0], norm[1]);
    const double exact = (double)sqrtl(want);
    EXPECT(fabs(norm[0] - exact) < 1e-12 * exact, "norm %.17g, long double reference %.17g", norm[0], exact);
    for (int i = 0; i < 3; i++) {
        EXPECT(memcmp(clipped[0][i]->data, clipped[1][i]->data, (size_t)sizes[i] * sizeof(float)) == 0,
               "clipped gradient %d differs between 1 and 2 threads", i);
        tensor_release(clipped[0][i]), tensor_release(clipped[1][i]), tensor_release(ref[i]), tensor_release(p[i]);
    }
}

/* the trainer folds clipping into the update: adamw_step_scaled(clip_grad_coef(norm)) gives the weights and
   moments of clip_grad_norm then adamw_step, bit for bit, over several steps, and leaves the gradients as they were */
TEST(test_adamw_scaled_step_equals_clip_then_step) {
    const int64_t n = 200003;
    tensor *pa = tensor_zeros(SHAPE(n)), *pb = tensor_zeros(SHAPE(n));
    for (int64_t k = 0; k < n; k++) tensor_f32(pa)[k] = tensor_f32(pb)[k] = (float)cos(0.01 * (double)k);
    pa->requires_grad = pb->requires_grad = true;
    const adamw_config cfg = {.lr = 1e-3f, .weight_decay = 0.01f};
    adamw *a = adamw_new(&pa, 1, cfg), *b = adamw_new(&pb, 1, cfg);
    for (int step = 0; step < 3; step++) {
        tensor *g = tensor_zeros(SHAPE(n));
        for (int64_t k = 0; k < n; k++) tensor_f32(g)[k] = (float)sin(0.3 * (double)k + step) * (step == 1 ? 1e-4f : 2.0f);
        pa->grad = tensor_clone(g), pb->grad = tensor_clone(g);
        const double max_norm = 1.0, na = clip_grad_norm(&pa, 1, max_norm);
        adamw_step(a);
        const double nb = grad_global_norm(&pb, 1), coef = clip_grad_coef(nb, max_norm);
        EXPECT(step != 1 || coef == 1.0, "step %d: norm %g below max_norm, yet a factor %g", step, nb, coef);
        adamw_step_scaled(b, coef);
        EXPECT(na == nb, "step %d: norms %.17g and %.17g", step, na, nb);
        EXPECT(memcmp(pb->grad->data, g->data, (size_t)n * sizeof(float)) == 0, "step %d: the gradient was written", step);
        EXPECT(memcmp(pa->data, pb->data, (size_t)n * sizeof(float)) == 0 &&
                   memcmp(a->m[0]->data, b->m[0]->data, (size_t)n * sizeof(float)) == 0 &&
                   memcmp(a->v[0]->data, b->v[0]->data, (size_t)n * sizeof(float)) == 0,
               "step %d: weights or moments differ from clip then step", step);
        ag_zero_grad(&pa, 1), ag_zero_grad(&pb, 1);
        tensor_release(g);
    }
    adamw_free(a), adamw_free(b);
    tensor_release(pa), tensor_release(pb);
}

TEST(test_lr_schedules) {
    lr_schedule c = {LR_CONSTANT, 1e-5, 0, 0, 0}, w = {LR_WARMUP, 1e-4, 0, 10, 0}, cos_ = {LR_COSINE, 1e-4, 0.1, 10, 110};
    EXPECT(lr_at(&c, 0) == 1e-5 && lr_at(&c, 999) == 1e-5, "constant");
    EXPECT(fabs(lr_at(&w, 0) - 1e-5) < 1e-12 && fabs(lr_at(&w, 4) - 5e-5) < 1e-12 && lr_at(&w, 50) == 1e-4, "warmup");
    EXPECT(fabs(lr_at(&cos_, 10) - 1e-4) < 1e-12, "cosine starts at lr after warmup");
    EXPECT(fabs(lr_at(&cos_, 60) - 1e-4 * (0.1 + 0.9 * 0.5)) < 1e-12, "cosine midpoint");
    EXPECT(fabs(lr_at(&cos_, 110) - 1e-5) < 1e-12 && fabs(lr_at(&cos_, 500) - 1e-5) < 1e-12, "cosine floor");
}

TEST(test_ema_tracks_weights) {
    tensor *p = tensor_full(SHAPE(3), 1.0f);
    ema *e = ema_new(&p, 1, 0.9f);
    tensor_fill(p, 2.0f);
    ema_update(e);
    EXPECT(fabsf(tensor_f32(e->shadow[0])[0] - 1.1f) < 1e-6f, "ema %g, expected 1.1", tensor_f32(e->shadow[0])[0]);
    ema_free(e);
    tensor_release(p);
}
