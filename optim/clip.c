/* clip.c: global-norm gradient clipping (see clip.h). */
#include "optim/clip.h"
#include <math.h>
#include <stdlib.h>
#ifdef VAEC_HAVE_CUDA
#include "core/ops/reduce_cuda.h"   // defines: sum_all_cuda
#include "optim/optim_cuda.h"       // defines: grad_scale_cuda
#endif

/* Sums of squares on the CPU: fixed chunks of NORM_CHUNK values, summed in parallel, each with 8 running sums
   (independent chains the compiler vectorizes: one serial chain of double adds took 0.4 s for stage 1's 309.7M
   gradient values), then added in chunk order. The chunking and lanes do not depend on the thread count, so
   neither does the norm, bit for bit. */
#define NORM_CHUNK 65536
#define NORM_LANES 8

static double chunk_sum_squares(const float *d, int64_t n) {
    double acc[NORM_LANES] = {0};
    int64_t k = 0;
    for (; k + NORM_LANES <= n; k += NORM_LANES)
        for (int j = 0; j < NORM_LANES; j++) acc[j] += (double)d[k + j] * d[k + j];
    for (int j = 0; k < n; k++, j++) acc[j] += (double)d[k] * d[k];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

static double sum_squares_cpu(const float *d, int64_t n) {
    const int64_t chunks = (n + NORM_CHUNK - 1) / NORM_CHUNK;
    if (chunks <= 1) return chunk_sum_squares(d, n);
    double *part = xmalloc((size_t)chunks * sizeof(double));
#pragma omp parallel for schedule(static) if (chunks >= 4)
    for (int64_t c = 0; c < chunks; c++) {
        const int64_t k0 = c * NORM_CHUNK;
        part[c] = chunk_sum_squares(d + k0, n - k0 < NORM_CHUNK ? n - k0 : NORM_CHUNK);
    }
    double total = 0;
    for (int64_t c = 0; c < chunks; c++) total += part[c];
    free(part);
    return total;
}

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
        total += sum_squares_cpu(tensor_f32_read(g), g->numel);
    }
    free(gpu_sums);
    mem_block_release(slots);
    return sqrt(total);
}

double clip_grad_coef(double total, double max_norm) {
    const double coef = max_norm / (total + 1e-6);
    return coef < 1.0 ? coef : 1.0;
}

double clip_grad_norm(tensor *const *params, int n, double max_norm) {
    const double total = grad_global_norm(params, n), coef = clip_grad_coef(total, max_norm);
    if (coef < 1.0)
        for (int i = 0; i < n; i++) {
            tensor *g = params[i]->grad;
            if (!g) continue;
            float *d = tensor_f32(g);
#ifdef VAEC_HAVE_CUDA
            if (g->device == DEVICE_CUDA) { grad_scale_cuda(d, g->numel, coef); continue; }
#endif
            const int64_t numel = g->numel;
#pragma omp parallel for schedule(static) if (numel > NORM_CHUNK)
            for (int64_t k = 0; k < numel; k++) d[k] = (float)(d[k] * coef);
        }
    return total;
}
