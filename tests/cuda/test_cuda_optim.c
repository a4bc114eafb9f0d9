/* test_cuda_optim.c: AdamW, Adam (L2), global-norm clipping and EMA on CUDA tensors against the CPU
 * optimizer: 10 steps with the same gradients, parameters, Adam state, EMA shadows and gradient norms
 * within 1e-6 relative (the kernels round like the CPU loops, so they should agree exactly); skipped
 * loudly without a GPU. */
#include <math.h>
#include <stdlib.h>
#include "core/rng.h"
#include "optim/adamw.h"
#include "optim/clip.h"
#include "optim/ema.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

#define NPARAM 3

static void optim_twin(const char *name, bool l2_coupled) {
    /* VAEC_CUDA_TWIN_ON_CPU=1 (see cuda_twin.h): the twin on the CPU, to check this test without a GPU */
    device_t twin = getenv("VAEC_CUDA_TWIN_ON_CPU") && !device_cuda_available() ? DEVICE_CPU : DEVICE_CUDA;
    int64_t sizes[NPARAM] = {7, 4099, 70000};   /* partial blocks; several sum chunks for the norm */
    tensor *cpu[NPARAM], *gpu[NPARAM];
    for (int i = 0; i < NPARAM; i++) {
        cpu[i] = gc_input(SHAPE(sizes[i]), 1100 + (uint64_t)i);
        gpu[i] = tensor_to(cpu[i], twin);
        gpu[i]->requires_grad = true;
    }
    adamw_config cfg = {.lr = 3e-3f, .beta1 = 0.9f, .beta2 = 0.99f, .eps = 1e-8f, .weight_decay = 0.05f,
                        .l2_coupled = l2_coupled};
    adamw *oc = adamw_new(cpu, NPARAM, cfg), *og = adamw_new(gpu, NPARAM, cfg);
    ema *ec = ema_new(cpu, NPARAM, 0.9f), *eg = ema_new(gpu, NPARAM, 0.9f);
    double worst_norm = 0;
    for (int step = 0; step < 10; step++) {
        for (int i = 0; i < NPARAM; i++) {
            tensor *g = tensor_empty(SHAPE(sizes[i]));
            rng_state r = rng_seed(1200 + (uint64_t)(step * NPARAM + i));
            rng_fill_normal(&r, tensor_f32(g), g->numel, 0.0f, step % 2 ? 0.01f : 1.0f);   /* clips on even steps */
            gpu[i]->grad = tensor_to(g, twin);
            cpu[i]->grad = g;
        }
        if (step == 3) { tensor_release(cpu[1]->grad); cpu[1]->grad = NULL; tensor_release(gpu[1]->grad); gpu[1]->grad = NULL; }
        double nc = clip_grad_norm(cpu, NPARAM, 1.0), ng = clip_grad_norm(gpu, NPARAM, 1.0);
        worst_norm = fmax(worst_norm, fabs(ng - nc) / nc);
        adamw_step(oc);
        adamw_step(og);
        ema_update(ec);
        ema_update(eg);
        for (int i = 0; i < NPARAM; i++) {
            tensor_release(cpu[i]->grad);
            tensor_release(gpu[i]->grad);
            cpu[i]->grad = gpu[i]->grad = NULL;
        }
    }
    char label[64];
    snprintf(label, sizeof label, "cuda_%s.grad_norm", name);
    test_note_error(label, worst_norm);
    EXPECT(worst_norm <= 1e-6, "%s: gradient norms differ by %.3e relative", label, worst_norm);
    for (int i = 0; i < NPARAM; i++) {
        snprintf(label, sizeof label, "cuda_%s.param%d", name, i);
        golden_compare(label, gpu[i], cpu[i], 1e-6);
        snprintf(label, sizeof label, "cuda_%s.m%d", name, i);
        golden_compare(label, og->m[i], oc->m[i], 1e-6);
        snprintf(label, sizeof label, "cuda_%s.v%d", name, i);
        golden_compare(label, og->v[i], oc->v[i], 1e-6);
        snprintf(label, sizeof label, "cuda_%s.ema%d", name, i);
        golden_compare(label, eg->shadow[i], ec->shadow[i], 1e-6);
    }
    /* swapping in the EMA weights and back is exact on both devices */
    ema_swap(ec);
    ema_swap(eg);
    snprintf(label, sizeof label, "cuda_%s.ema_swapped", name);
    golden_compare(label, gpu[2], cpu[2], 1e-6);
    ema_swap(ec);
    ema_swap(eg);
    snprintf(label, sizeof label, "cuda_%s.ema_swapped_back", name);
    golden_compare(label, gpu[2], cpu[2], 1e-6);
    adamw_free(oc);
    adamw_free(og);
    ema_free(ec);
    ema_free(eg);
    for (int i = 0; i < NPARAM; i++) { tensor_release(cpu[i]); tensor_release(gpu[i]); }
}

TEST(test_cuda_adamw_clip_ema_match_cpu_over_10_steps) {
    CUDA_TWIN_REQUIRE_GPU();
    optim_twin("adamw", false);
}

TEST(test_cuda_adam_l2_matches_cpu_over_10_steps) {
    CUDA_TWIN_REQUIRE_GPU();
    optim_twin("adam", true);
}
