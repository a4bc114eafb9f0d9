/* cuda_bf16_twin.c: bf16-on-CUDA versus fp32-on-CPU comparison (see cuda_bf16_twin.h). */
#include "tests/harness/cuda_bf16_twin.h"
#include "autograd/autograd.h"   // defines: ag_backward_with_grad
#include "core/rng.h"            // defines: rng_fill_normal

int cuda_bf16_twin_check(const char *label, gc_fn f, void *ctx, int n, tensor **inputs, double tol) {
    const char *why = cuda_twin_skip_reason();
    if (why) { test_skip(why); return -1; }
    CHECK(n <= 16, "cuda_bf16_twin_check: %d inputs, at most 16", n);
    tensor *cpu_in[16], *gpu_in[16];
    for (int i = 0; i < n; i++) {
        tensor *h = tensor_to_dtype(inputs[i], DTYPE_BF16);
        cpu_in[i] = tensor_to_dtype(h, DTYPE_F32);
        gpu_in[i] = tensor_to(h, DEVICE_CUDA);
        cpu_in[i]->requires_grad = gpu_in[i]->requires_grad = inputs[i]->requires_grad;
        tensor_release(h);
    }
    int ok = 1;
    char what[160];
    tensor_scope_begin();
    tensor *yc = f(ctx, cpu_in);
    tensor *gy = tensor_autorelease(tensor_empty(yc->ndim, yc->shape));
    rng_state r = rng_seed(4242);
    rng_fill_normal(&r, tensor_f32(gy), gy->numel, 0.0f, 1.0f);
    ag_backward_with_grad(yc, gy);
    tensor *yg = f(ctx, gpu_in);
    EXPECT(yg->device == DEVICE_CUDA && yg->dtype == DTYPE_BF16, "%s: the bf16 run returned a %s %s tensor", label,
           device_name(yg->device), dtype_name(yg->dtype));
    ag_backward_with_grad(yg, tensor_autorelease(tensor_to(gy, DEVICE_CUDA)));
    tensor *host = tensor_autorelease(tensor_to(yg, DEVICE_CPU));
    tensor *y32 = tensor_autorelease(host->dtype == DTYPE_F32 ? tensor_clone(host) : tensor_to_dtype(host, DTYPE_F32));
    snprintf(what, sizeof what, "%s.out", label);
    if (golden_compare(what, y32, yc, tol) > tol) ok = 0;
    for (int i = 0; i < n; i++) {
        if (!inputs[i]->requires_grad) continue;
        EXPECT(gpu_in[i]->grad && gpu_in[i]->grad->dtype == DTYPE_F32, "%s: input %d has no fp32 gradient on CUDA",
               label, i);
        if (!gpu_in[i]->grad || !cpu_in[i]->grad) { ok = 0; continue; }
        tensor *g = tensor_autorelease(tensor_to(gpu_in[i]->grad, DEVICE_CPU));
        snprintf(what, sizeof what, "%s.grad%d", label, i);
        if (golden_compare(what, g, cpu_in[i]->grad, tol) > tol) ok = 0;
    }
    tensor_scope_end(NULL);
    for (int i = 0; i < n; i++) {
        tensor_release(cpu_in[i]);
        tensor_release(gpu_in[i]);
    }
    return ok;
}
