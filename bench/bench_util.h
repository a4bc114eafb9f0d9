/* bench_util.h: what every vaec_bench row shares: the timing loop (warm-up, then the median of N
 * repeats), deterministic inputs that the PyTorch twin (bench/torch_bench.py) builds identically, and
 * the one JSON line a row prints for bench/run.sh.
 *
 *   bench_opts o = {.reps = 3, .warmup = 1};
 *   bench_result r = bench_time(&o, my_iteration, &ctx);   // my_iteration times its own section
 *   bench_print("conv2d_fwd", &r);
 */
#ifndef VAEC_BENCH_UTIL_H
#define VAEC_BENCH_UTIL_H
#include "core/tensor.h"     // defines: tensor
#include "layers/params.h"   // defines: param_list

#define BENCH_MAX_REPS 64

typedef struct {
    int reps, warmup;
} bench_opts;

/* a `<row>_bf16` row: the same work under autocast (core/autocast.h), frozen weights held in bf16; bench_print
 * names the row with the suffix. The PyTorch twin runs under torch.autocast(dtype=torch.bfloat16). */
extern bool bench_bf16;

/* where the rows run (--device): inputs and weights are made on the CPU and moved there */
extern device_t bench_device;
tensor *bench_on_device(tensor *t);                  /* moves t (in place) to bench_device; returns t */
void bench_params_on_device(param_list *pl);         /* a model's weights, likewise */

typedef struct {
    double median_ms, min_ms;
    double loss;              /* the first (warm-up) iteration's loss, or 0: the twin prints the same number */
    int reps;
} bench_result;

/* one timed iteration: runs the work, returns the seconds of the section that counts */
typedef double (*bench_iter_fn)(void *ctx, double *loss);

double bench_now(void);   /* waits for queued GPU work first, so sections time what they ran */
bench_result bench_time(const bench_opts *o, bench_iter_fn fn, void *ctx);
/* row name, result, allocator peak and process peak RSS, thread count: one JSON line on stdout */
void bench_print(const char *row, const bench_result *r);

/* inputs are made on bench_device */
/* channels-last (B, S..., C) filled in PyTorch's logical order (b, c, s): 0.8 sin(1.3 b + 0.7 c + 0.0137 s),
 * s the flattened spatial index; torch_bench.py: det_input() */
tensor *bench_det_input(int ndim, const int64_t *shape);
/* uniform [-1, 1) from a seed: for inputs whose values do not matter to either side */
tensor *bench_rand(int ndim, const int64_t *shape, uint64_t seed);

#endif
