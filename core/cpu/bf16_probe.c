/* bf16_probe.c: times each bf16 kernel class both ways on a small representative problem, once per process
 * (bf16_cpu_probe in bf16_cpu.c calls it on the first bf16 use), so that the faster path runs (bf16_cpu.h).
 *
 * The problems: a 3x3 conv of 256 channels in and out over one 12x12 image (forward, backward data,
 * backward weights: 0.17 GFLOP each, the channel count of the VAEs' inner layers, where their time goes) and
 * a 384x384x384 GEMM (0.11 GFLOP), about 1-2 ms each. They run on one thread: what decides the race is how
 * fast a core multiplies bf16 against float32 (AMX, vdpbf16ps, emulation), which one thread shows, and a
 * one-thread run is far less often stalled by other processes on a shared machine than a team of threads
 * whose barrier waits for its slowest member. Each is timed through the two paths the ops run
 * (conv_forward_bf16_path, conv_backward_bf16_path, gemm_bf16_path, told which), so
 * the widened time includes its widening, rounding and allocations (and, as in a real call on a temporary
 * weight, oneDNN's weight reorder), as a real call pays them. One warm-up each (oneDNN builds its
 * primitives, the allocator its blocks), then the best of a few runs: the best, not the median, because
 * load only ever adds time. The two paths alternate, each first every other time, and each run starts after
 * a sched_yield, on a fresh time slice: on the 2-core VM at load 5-6 (other processes' benchmarks) that made
 * 6 probes of 6 agree with the idle answer, where two-thread runs without it were 5-15x their idle time and
 * decided at random. Native is taken where it is below BF16_NATIVE_MARGIN of the widened time. The probe
 * runs on the calling thread, inside the first bf16 call. Idle, it takes 130-170 ms on that VM: ~45 ms of
 * timed runs, ~30 ms of warm-ups that build the conv primitives, and ~58 ms in the widened GEMM's first
 * call, which is oneDNN's one-time sgemm setup that a process pays at its first float32 GEMM anyway. */
#include <math.h>
#include <stdlib.h>
#include <omp.h>
#include <sched.h>
#include <string.h>
#include <time.h>
#include "core/check.h"           // defines: xmalloc
#include "core/cpu/bf16_probe.h"  // defines: bf16_probe_result, BF16_NATIVE_MARGIN
#include "core/cpu/cpu.h"         // defines: conv_forward_bf16_path, conv_backward_bf16_path
#include "core/cpu/gemm_bf16.h"   // defines: gemm_bf16_path

/* repetitions of each path after the warm-up: at least PROBE_MIN_REPS, then on until PROBE_MAX_REPS unless
   native is already clearly slower (the safe answer: a preempted native run can only make the widened path,
   float32's speed, win) or the class has taken PROBE_CLASS_BUDGET_MS (a loaded machine: the best so far) */
#define PROBE_MIN_REPS 2
#define PROBE_MAX_REPS 3
#define PROBE_CLEARLY_SLOWER 1.25
#define PROBE_CLASS_BUDGET_MS 25.0
#define PROBE_C 256     /* conv channels in and out */
#define PROBE_HW 12     /* conv image side */
#define PROBE_N 384     /* GEMM m = n = k */

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

typedef struct {
    conv_geom g;
    uint16_t *x, *w, *y, *a, *b;
    float *gy, *gx, *gw, *c;
} probe_bufs;

/* one call of class k on the given path */
static void run_class(probe_bufs *p, bf16_kernel_class k, bool native) {
    const bf16_operand w = {p->w, false}, none = {NULL, false};
    switch (k) {
        case BF16_CONV_FWD: conv_forward_bf16_path(&p->g, p->x, w, none, p->y, native); break;
        case BF16_CONV_BWD_DATA: conv_backward_bf16_path(&p->g, p->x, w, p->gy, p->gx, NULL, NULL, native, false); break;
        case BF16_CONV_BWD_WEIGHTS: conv_backward_bf16_path(&p->g, p->x, w, p->gy, NULL, p->gw, NULL, false, native); break;
        default:
            gemm_bf16_path(false, false, 1, PROBE_N, PROBE_N, PROBE_N, p->a, PROBE_N, 0, p->b, PROBE_N, 0, p->c, PROBE_N, 0,
                           native);
    }
}

static double time_one(probe_bufs *p, bf16_kernel_class k, int native) {
    sched_yield();   /* start on a fresh time slice where other processes want the core */
    double t0 = now_ms();
    run_class(p, k, native);
    return now_ms() - t0;
}

/* bf16 values in (-0.5, 0.5) from an integer hash: no period a kernel could exploit, no zeros to skip, no libm
   call per value (setting up the 0.8M values takes ~3 ms) */
static float hashed(int64_t i, uint32_t seed) {
    uint32_t h = (uint32_t)i * 2654435761u ^ seed;
    h ^= h >> 15, h *= 2246822519u, h ^= h >> 13;
    return (float)(h >> 8) * (1.0f / 16777216.0f) - 0.5f;
}

static void fill(uint16_t *d, int64_t n, uint32_t seed) {
    for (int64_t i = 0; i < n; i++) {
        float v = hashed(i, seed);
        uint32_t u;
        memcpy(&u, &v, 4);
        d[i] = (uint16_t)(u >> 16);
    }
}

void bf16_probe_measure(bf16_probe_result *r) {
    const double start = now_ms();
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);   /* this thread's count only: the run's is given back below */
    probe_bufs p;
    conv_geom g = {1, 1, PROBE_HW, PROBE_HW, PROBE_C, PROBE_C, 1, 3, 3, 1, 1, 1, {0, 0, 1, 1, 1, 1}, 1, PROBE_HW, PROBE_HW, 0};
    p.g = g;
    const int64_t nx = (int64_t)PROBE_HW * PROBE_HW * PROBE_C, nw = (int64_t)PROBE_C * 9 * PROBE_C;
    const int64_t nm = (int64_t)PROBE_N * PROBE_N;
    p.x = xmalloc((size_t)nx * 2), p.w = xmalloc((size_t)nw * 2), p.y = xmalloc((size_t)nx * 2);
    p.gy = xmalloc((size_t)nx * 4), p.gx = xmalloc((size_t)nx * 4), p.gw = xmalloc((size_t)nw * 4);
    p.a = xmalloc((size_t)nm * 2), p.b = xmalloc((size_t)nm * 2), p.c = xmalloc((size_t)nm * 4);
    fill(p.x, nx, 1), fill(p.w, nw, 2), fill(p.a, nm, 3), fill(p.b, nm, 4);
    for (int64_t i = 0; i < nx; i++) p.gy[i] = hashed(i, 5);   /* not bf16-exact, as a real gy */

    for (int k = 0; k < BF16_KERNEL_CLASSES; k++) {
        double best[2] = {INFINITY, INFINITY};
        time_one(&p, (bf16_kernel_class)k, 1), time_one(&p, (bf16_kernel_class)k, 0);   /* warm-up */
        const double t0 = now_ms();
        for (int rep = 0; rep < PROBE_MAX_REPS; rep++) {
            for (int i = 0; i < 2; i++) {
                const int native = (rep + i) % 2;   /* each path first every other time: neither always runs late in a slice */
                double t = time_one(&p, (bf16_kernel_class)k, native);
                if (t < best[native]) best[native] = t;
            }
            const bool clearly_slower = best[1] > PROBE_CLEARLY_SLOWER * best[0];
            if (rep + 1 >= PROBE_MIN_REPS && (clearly_slower || now_ms() - t0 > PROBE_CLASS_BUDGET_MS)) break;
        }
        r->native_ms[k] = best[1];
        r->widened_ms[k] = best[0];
        r->native[k] = best[1] < BF16_NATIVE_MARGIN * best[0];
    }
    free(p.x), free(p.w), free(p.y), free(p.gy), free(p.gx), free(p.gw), free(p.a), free(p.b), free(p.c);
    omp_set_num_threads(threads);
    r->threads = threads;
    if (getloadavg(&r->load1, 1) != 1) r->load1 = -1;
    r->total_ms = now_ms() - start;
    r->ran = true;
}
