/* cuda_twin.c: CPU-versus-CUDA comparison of an op's output and gradients (see cuda_twin.h). */
#include "tests/harness/cuda_twin.h"
#include "autograd/autograd.h"   // defines: ag_backward_with_grad
#include <stdlib.h>
#include "core/rng.h"            // defines: rng_fill_normal

static device_t run_device = DEVICE_CPU;

device_t cuda_twin_device(void) { return run_device; }

tensor *cuda_twin_arg(tensor *cpu) {
    if (run_device == DEVICE_CPU || cpu == NULL) return cpu;
    return tensor_autorelease(tensor_to(cpu, run_device));
}

/* VAEC_CUDA_TWIN_ON_CPU=1: the twin runs on the CPU, so a machine without a GPU can still check that the
   CUDA tests' closures, shapes and tolerances are sane (not the kernels). */
static bool twin_on_cpu(void) {
    const char *e = getenv("VAEC_CUDA_TWIN_ON_CPU");
    return e && *e && *e != '0';
}

const char *cuda_twin_skip_reason(void) {
    if (twin_on_cpu()) return NULL;
    if (!device_cuda_compiled()) return "CUDA: this build has no CUDA backend (no nvcc at configure time)";
    if (!device_cuda_available()) return "CUDA: compiled in, but no GPU is visible on this machine";
    return NULL;
}

static uint64_t label_hash(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* a CPU float32 copy of t (any device, any dtype) */
static tensor *to_cpu_f32(const tensor *t) {
    tensor *c = tensor_to(t, DEVICE_CPU);
    if (c->dtype == DTYPE_F32) return c;
    tensor *f = tensor_to_dtype(c, DTYPE_F32);
    tensor_release(c);
    return f;
}

/* Runs f on `in` (already on `dev`), backward with gy; returns the output on the CPU and each input's
   gradient on the CPU in grads[i] (NULL where the input needs none). */
static tensor *run_once(device_t dev, gc_fn f, void *ctx, int n, tensor **in, tensor **gy_cpu, uint64_t seed,
                        bool backward, tensor **grads, const char *label) {
    run_device = dev;
    for (int i = 0; i < n; i++) { tensor_release(in[i]->grad); in[i]->grad = NULL; }
    tensor_scope_begin();
    tensor *out = f(ctx, in);
    EXPECT(out->device == dev, "%s: the op returned a %s tensor on the %s run", label, device_name(out->device),
           device_name(dev));
    tensor *out_cpu = to_cpu_f32(out);
    if (!*gy_cpu) {   /* the first (CPU) run fixes the output gradient */
        *gy_cpu = tensor_empty(out->ndim, out->shape);
        rng_state r = rng_seed(seed);
        rng_fill_normal(&r, tensor_f32(*gy_cpu), (*gy_cpu)->numel, 0.0f, 1.0f);
    }
    if (backward) {
        EXPECT(out->requires_grad, "%s: output does not require grad on %s", label, device_name(dev));
        if (out->requires_grad) {
            tensor *gy_d = out->dtype == DTYPE_F32 ? tensor_clone(*gy_cpu) : tensor_to_dtype(*gy_cpu, out->dtype);
            tensor *gy = tensor_autorelease(tensor_to(gy_d, dev));
            tensor_release(gy_d);
            ag_backward_with_grad(out, gy);
        }
    }
    tensor_scope_end(NULL);
    for (int i = 0; i < n; i++) {
        grads[i] = NULL;
        if (!in[i]->requires_grad || !backward) continue;
        EXPECT(in[i]->grad != NULL, "%s: input %d got no gradient on %s", label, i, device_name(dev));
        if (!in[i]->grad) continue;
        EXPECT(in[i]->grad->device == dev, "%s: input %d's gradient is on %s on the %s run", label, i,
               device_name(in[i]->grad->device), device_name(dev));
        grads[i] = to_cpu_f32(in[i]->grad);
        tensor_release(in[i]->grad);
        in[i]->grad = NULL;
    }
    run_device = DEVICE_CPU;
    return out_cpu;
}

int cuda_twin_check(const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs, const cuda_twin_opts *opts) {
    const char *why = cuda_twin_skip_reason();
    if (why) { test_skip(why); return -1; }
    return cuda_twin_check_on(twin_on_cpu() ? DEVICE_CPU : DEVICE_CUDA, label, f, ctx, n_inputs, inputs, opts);
}

int cuda_twin_check_on(device_t twin, const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs,
                       const cuda_twin_opts *opts) {
    cuda_twin_opts o = {1e-5, 0, 0, false, DTYPE_F32};
    if (opts) o = *opts;
    if (o.tol <= 0) o.tol = 1e-5;
    if (o.grad_tol <= 0) o.grad_tol = o.tol;
    bool backward = !o.no_backward;

    tensor *cpu_grads[16], *gpu_grads[16], *gpu_in[16];
    CHECK(n_inputs <= 16, "cuda_twin_check: %d inputs, at most 16", n_inputs);

    tensor *gy = NULL;
    uint64_t seed = o.seed ? o.seed : label_hash(label);
    tensor *out_cpu = run_once(DEVICE_CPU, f, ctx, n_inputs, inputs, &gy, seed, backward, cpu_grads, label);
    for (int i = 0; i < n_inputs; i++) {
        if (o.dtype != DTYPE_F32 && inputs[i]->dtype == DTYPE_F32) {   /* a bf16/f16 run: inputs in that dtype */
            tensor *h = tensor_to_dtype(inputs[i], o.dtype);
            gpu_in[i] = tensor_to(h, twin);
            tensor_release(h);
        } else gpu_in[i] = tensor_to(inputs[i], twin);
        gpu_in[i]->requires_grad = inputs[i]->requires_grad;
    }
    tensor *out_gpu = run_once(twin, f, ctx, n_inputs, gpu_in, &gy, seed, backward, gpu_grads, label);

    int ok = 1;
    char what[160];
    snprintf(what, sizeof what, "%s.out", label);
    if (golden_compare(what, out_gpu, out_cpu, o.tol) > o.tol) ok = 0;
    for (int i = 0; i < n_inputs; i++) {
        if (cpu_grads[i] && gpu_grads[i]) {
            snprintf(what, sizeof what, "%s.grad%d", label, i);
            if (golden_compare(what, gpu_grads[i], cpu_grads[i], o.grad_tol) > o.grad_tol) ok = 0;
        } else if (cpu_grads[i] || gpu_grads[i]) ok = 0;   /* reported by run_once */
        tensor_release(cpu_grads[i]);
        tensor_release(gpu_grads[i]);
        tensor_release(gpu_in[i]);
    }
    tensor_release(out_cpu);
    tensor_release(out_gpu);
    tensor_release(gy);
    return ok;
}
