/* clip.c: global-norm gradient clipping (see clip.h). */
#include "optim/clip.h"
#include <math.h>
#include <stdlib.h>
#ifdef VAEC_HAVE_CUDA
#include "core/ops/reduce_cuda.h"   // defines: sum_all_cuda
#include "optim/optim_cuda.h"       // defines: grad_scale_cuda
#endif

/* Gradients on the GPU: each one's sum of squares goes to its own slot of a device array (deterministic
   sums, reduce_cuda.h), fetched once; the per-parameter sums are then added in parameter order. */
double grad_global_norm(tensor *const *params, int n) {
    double *gpu_sums = NULL;
    mem_block *slots = NULL;
#ifdef VAEC_HAVE_CUDA
    int n_gpu = 0;
    for (int i = 0; i < n; i++) n_gpu += params[i]->grad && params[i]->grad->device == DEVICE_CUDA;
    if (n_gpu) {
        slots = mem_alloc_tagged((size_t)n * sizeof(double), DEVICE_CUDA, MEM_WORKSPACE);
        for (int i = 0; i < n; i++) {
            const tensor *g = params[i]->grad;
            if (g && g->device == DEVICE_CUDA) sum_all_cuda(tensor_f32(g), g->numel, 1, 1.0, NULL, (double *)slots->ptr + i);
        }
        gpu_sums = xmalloc((size_t)n * sizeof(double));
        device_memcpy(gpu_sums, DEVICE_CPU, slots->ptr, DEVICE_CUDA, (size_t)n * sizeof(double));
    }
#endif
    double total = 0;
    for (int i = 0; i < n; i++) {
        const tensor *g = params[i]->grad;
        if (!g) continue;
        if (g->device != DEVICE_CPU) {
            if (g->device != DEVICE_CUDA || !gpu_sums) DEVICE_UNSUPPORTED("grad_global_norm", g->device);
            total += gpu_sums[i];
            continue;
        }
        const float *d = tensor_f32(g);
        double s = 0;
        for (int64_t k = 0; k < g->numel; k++) s += (double)d[k] * d[k];
        total += s;
    }
    free(gpu_sums);
    mem_block_release(slots);
    return sqrt(total);
}

double clip_grad_norm(tensor *const *params, int n, double max_norm) {
    double total = grad_global_norm(params, n), coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        for (int i = 0; i < n; i++) {
            tensor *g = params[i]->grad;
            if (!g) continue;
            float *d = tensor_f32(g);
#ifdef VAEC_HAVE_CUDA
            if (g->device == DEVICE_CUDA) { grad_scale_cuda(d, g->numel, coef); continue; }
#endif
            for (int64_t k = 0; k < g->numel; k++) d[k] = (float)(d[k] * coef);
        }
    return total;
}
