/* test_cuda_train.c: the training step on the GPU against the CPU reference: the tiny stage-1 pipeline
 * (frozen spatial VAE, latent + identity losses, AdamW, clipping) for the 5 steps of the stage-1 golden,
 * once on each device from the same weights; loss terms and gradient norms agree to 1e-4 relative and the
 * weights after 5 steps to 1e-4 of their scale. Skipped, loudly, without a GPU. */
#include <math.h>
#include "autograd/autograd.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/step.h"

static int run(device_t dev, step_result out[5], tensor **final_weights) {   /* returns the weight count */
    tiny_train t;
    tiny_train_init(&t, dev);
    step_config c = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1.0f};
    golden_file *g = golden_open("stage1");
    for (int s = 0; s < 5; s++) {
        char k[16];
        snprintf(k, sizeof k, "x%d", s);
        tensor *x = golden_get(g, k);
        tensor_move_(x, dev);
        out[s] = train_step(&t.p, &t.loss, t.opt, &c, x, NULL);
        tensor_release(x);
    }
    golden_close(g);
    for (int i = 0; i < t.n; i++) final_weights[i] = tensor_to(t.params[i], DEVICE_CPU);
    int n = t.n;
    tiny_train_free(&t);
    return n;
}

TEST(test_cuda_train_stage1_matches_cpu) {
    if (!device_cuda_compiled()) TEST_SKIP("CUDA: this build has no CUDA backend (no nvcc at configure time)");
    if (!device_cuda_available()) TEST_SKIP("CUDA: compiled in, but no GPU is visible on this machine");
    step_result cpu[5], gpu[5];
    tensor *wc[256], *wg[256];
    int n = run(DEVICE_CPU, cpu, wc);
    EXPECT(run(DEVICE_CUDA, gpu, wg) == n, "different parameter counts");
    for (int s = 0; s < 5; s++) {
        double a[4] = {cpu[s].loss, cpu[s].z_nll, cpu[s].identity, cpu[s].grad_norm};
        double b[4] = {gpu[s].loss, gpu[s].z_nll, gpu[s].identity, gpu[s].grad_norm};
        for (int i = 0; i < 4; i++)
            EXPECT(fabs(a[i] - b[i]) <= 1e-4 * fmax(fabs(a[i]), 1e-6), "step %d term %d: cpu %.8g cuda %.8g", s, i, a[i], b[i]);
    }
    double worst = 0;
    for (int i = 0; i < n; i++) {
        worst = fmax(worst, rel_error(wg[i], wc[i]));   /* max|cuda - cpu| / max|cpu| */
        tensor_release(wc[i]);
        tensor_release(wg[i]);
    }
    EXPECT(worst < 1e-4, "weights after 5 steps: worst relative difference %.3g", worst);
    test_note_error("cuda_train_vs_cpu", worst);
}
