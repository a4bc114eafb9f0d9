/* bench_util.c: timing loop, deterministic inputs, the JSON line (see bench_util.h). */
#include "bench/bench_util.h"
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "core/cpu/bf16_cpu.h"    // defines: bf16_cpu_native_for, bf16_cpu_probe
#include "core/cpu/dnnl_util.h"   // defines: dnnl_isa_name
#include "core/mem.h"   // defines: mem_get_stats
#include "core/ops/conv.h"        // defines: conv_backend_name
#include "core/rng.h"   // defines: rng_seed, rng_fill_uniform

device_t bench_device = DEVICE_CPU;

tensor *bench_on_device(tensor *t) {
    tensor_move_(t, bench_device);
    return t;
}

void bench_params_on_device(param_list *pl) { params_to_device(pl, bench_device); }

double bench_now(void) {
    device_synchronize(bench_device);
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

bench_result bench_time(const bench_opts *o, bench_iter_fn fn, void *ctx) {
    bench_result r = {0};
    int reps = o->reps < 1 ? 1 : o->reps > BENCH_MAX_REPS ? BENCH_MAX_REPS : o->reps;
    double t[BENCH_MAX_REPS], loss = 0;
    for (int i = 0; i < o->warmup; i++) {
        fn(ctx, &loss);
        if (i == 0) r.loss = loss;
    }
    for (int i = 0; i < reps; i++) {
        t[i] = fn(ctx, &loss) * 1e3;
        if (i == 0 && o->warmup == 0) r.loss = loss;
    }
    qsort(t, (size_t)reps, sizeof t[0], cmp_double);
    r.median_ms = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]);
    r.min_ms = t[0];
    r.reps = reps;
    return r;
}

bool bench_bf16;

void bench_print(const char *row, const bench_result *r) {
    mem_stats s;
    mem_get_stats(bench_device, &s);   /* the allocator's peak on the device the row ran on */
    /* activations (forward results, what autograd saves) apart from the state a step keeps whatever the
       precision: weights, gradients, AdamW moments (their peaks: the step frees gradients at its end) */
    const double fixed_mib = (double)(s.peak[MEM_PARAMS] + s.peak[MEM_GRADS] + s.peak[MEM_OPTIMIZER]) / 1048576.0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* a bf16 row on the CPU: the path of each kernel class (n native, w widened: conv fwd, bwd data, bwd
       weights, gemm) and the probe's times, bf16 / widened ms */
    char bf16[256] = "";
    if (bench_bf16 && bench_device == DEVICE_CPU) {
        const bf16_probe_result *p = bf16_cpu_probe();
        char *s = bf16 + snprintf(bf16, sizeof bf16, ", \"bf16_kernels\": \"");
        for (int k = 0; k < BF16_KERNEL_CLASSES; k++) *s++ = bf16_cpu_native_for((bf16_kernel_class)k) ? 'n' : 'w';
        snprintf(s, sizeof bf16 - (size_t)(s - bf16), "\", \"bf16_probe_ms\": \"%.2f/%.2f %.2f/%.2f %.2f/%.2f %.2f/%.2f\"",
                 p->native_ms[0], p->widened_ms[0], p->native_ms[1], p->widened_ms[1], p->native_ms[2], p->widened_ms[2],
                 p->native_ms[3], p->widened_ms[3]);
    }
    printf("{\"row\": \"%s%s\", \"impl\": \"vaec\", \"threads\": %d, \"reps\": %d, \"median_ms\": %.3f, \"min_ms\": %.3f, "
           "\"loss\": %.9g, \"peak_alloc_mib\": %.1f, \"peak_act_mib\": %.1f, \"fixed_mib\": %.1f, \"peak_rss_mib\": %.1f, "
           "\"isa\": \"%s\", \"conv\": \"%s\"%s}\n",
           row, bench_bf16 ? "_bf16" : "", omp_get_max_threads(), r->reps, r->median_ms, r->min_ms, r->loss, (double)s.peak_total / 1048576.0,
           (double)s.peak[MEM_ACTIVATIONS] / 1048576.0, fixed_mib, (double)ru.ru_maxrss / 1024.0, dnnl_isa_name(),
           conv_backend_name(), bf16);
    fflush(stdout);
}

tensor *bench_det_input(int ndim, const int64_t *shape) {
    tensor *t = tensor_empty(ndim, shape);
    int64_t B = shape[0], C = shape[ndim - 1], S = t->numel / (B * C);
    float *d = tensor_f32(t);
    for (int64_t b = 0; b < B; b++)
        for (int64_t s = 0; s < S; s++)
            for (int64_t c = 0; c < C; c++)
                d[(b * S + s) * C + c] = (float)(0.8 * sin(1.3 * (double)b + 0.7 * (double)c + 0.0137 * (double)s));
    return bench_on_device(t);
}

tensor *bench_rand(int ndim, const int64_t *shape, uint64_t seed) {
    tensor *t = tensor_empty(ndim, shape);
    rng_state r = rng_seed(seed);
    rng_fill_uniform(&r, tensor_f32(t), t->numel, -1, 1);
    return bench_on_device(t);
}
