/* bench_main.c: `vaec_bench ROW [--reps N] [--warmup W] [--device cpu|cuda]`: times one row and prints
 * one line of JSON (row, median ms, first loss, allocator peak, peak RSS); VAEC_MEM_REPORT=1 adds the
 * allocator's table (per tag, cache hits, bytes handed back) and the oneDNN weight-reorder counts on stderr. `vaec_bench --list` prints the
 * rows. bench/run.sh runs every row beside its PyTorch twin (bench/torch_bench.py) and prints the table;
 * threads come from OMP_NUM_THREADS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"   // defines: mem_report
#include "bench/bench_rows.h"   // defines: every bench_<row>
#include "bench/bench_util.h"   // defines: bench_device
#include "core/check.h"         // defines: CHECK_HINT
#include "core/cpu/weight_cache.h"   // defines: weight_cache_get_stats

typedef struct {
    const char *name;
    void (*run)(const bench_opts *o);
} bench_row;

static const bench_row rows[] = {
    {"sgemm_2048", bench_sgemm_2048},
    {"conv2d_128c_256_fwd", bench_conv2d_128c_256_fwd},
    {"conv2d_128c_256_bwd", bench_conv2d_128c_256_bwd},
    {"conv2d_512c_32_fwd", bench_conv2d_512c_32_fwd},
    {"conv2d_512c_32_bwd", bench_conv2d_512c_32_bwd},
    {"conv3d_128c_17x32_fwd", bench_conv3d_128c_17x32_fwd},
    {"conv3d_128c_17x32_bwd", bench_conv3d_128c_17x32_bwd},
    {"conv3d_512c_5x32_fwd", bench_conv3d_512c_5x32_fwd},
    {"conv3d_512c_5x32_bwd", bench_conv3d_512c_5x32_bwd},
    {"group_norm_128c_256_fwd", bench_group_norm_128c_256_fwd},
    {"group_norm_128c_256_bwd", bench_group_norm_128c_256_bwd},
    {"attention_1024x512_fwd", bench_attention_1024x512_fwd},
    {"attention_1024x512_bwd", bench_attention_1024x512_bwd},
    {"spatial_encode_256", bench_spatial_encode_256},
    {"spatial_decode_256", bench_spatial_decode_256},
    {"temporal_step_tiny", bench_temporal_step_tiny},
    {"temporal_step_mid", bench_temporal_step_mid},
    {"temporal_step_mid_17x32", bench_temporal_step_mid_17x32},
    {"stage1_step_9x64", bench_stage1_step_9x64},
    {"stage1_step_17x256", bench_stage1_step_17x256},   /* the full-size step of bench/gpu.sh: minutes a rep on a CPU */
    {"temporal_full_17x32x32", bench_temporal_full_17x32x32},   /* not in run.sh's default list: ~1 min a rep */
};
#define N_ROWS (int)(sizeof rows / sizeof rows[0])

/* the rows that also run as `<row>_bf16` (autocast; PyTorch: torch.autocast(dtype=torch.bfloat16)) */
static bool has_bf16_twin(const char *name) {
    return !strncmp(name, "conv", 4) || !strncmp(name, "attention", 9) || !strncmp(name, "stage1_step", 11) ||
           !strncmp(name, "temporal_step", 13);
}

static void usage(FILE *f) {
    fprintf(f, "usage: vaec_bench ROW [--reps N] [--warmup W] [--device cpu|cuda]\n"
               "       vaec_bench --list\n"
               "Times ROW (median of N repeats after W warm-up runs; default 3 and 1) on OMP_NUM_THREADS threads\n"
               "and prints one JSON line. bench/run.sh runs every row beside PyTorch. Rows:\n");
    for (int i = 0; i < N_ROWS; i++) fprintf(f, "  %s\n", rows[i].name);
    for (int i = 0; i < N_ROWS; i++) if (has_bf16_twin(rows[i].name)) fprintf(f, "  %s_bf16\n", rows[i].name);
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "--list")) {
        for (int i = 0; i < N_ROWS; i++) printf("%s\n", rows[i].name);
        for (int i = 0; i < N_ROWS; i++) if (has_bf16_twin(rows[i].name)) printf("%s_bf16\n", rows[i].name);
        return 0;
    }
    bench_opts o = {.reps = 3, .warmup = 1};
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        CHECK_HINT(i + 1 < argc, "vaec_bench --help", "vaec_bench: %s needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--reps")) o.reps = atoi(v);
        else if (!strcmp(a, "--warmup")) o.warmup = atoi(v);
        else if (!strcmp(a, "--device")) {
            CHECK_HINT(!strcmp(v, "cpu") || !strcmp(v, "cuda"), "--device cpu or --device cuda",
                       "vaec_bench: unknown device '%s'", v);
            if (!strcmp(v, "cuda")) {
                CHECK_HINT(device_cuda_available(), "build with the CUDA toolkit and run where nvidia-smi shows a GPU",
                           "vaec_bench: --device cuda, but %s", device_cuda_compiled() ? "no GPU is visible" :
                           "this build has no CUDA backend");
                bench_device = DEVICE_CUDA;
            }
        }
        else CHECK_HINT(false, "vaec_bench --help", "vaec_bench: unknown option '%s'", a);
    }
    CHECK_HINT(o.reps >= 1 && o.reps <= BENCH_MAX_REPS && o.warmup >= 0, "--reps 1..64, --warmup >= 0",
               "vaec_bench: bad --reps %d or --warmup %d", o.reps, o.warmup);
    char base[128];
    snprintf(base, sizeof base, "%s", argv[1]);
    size_t bl = strlen(base);
    if (bl > 5 && !strcmp(base + bl - 5, "_bf16")) {   /* the same row under autocast */
        base[bl - 5] = 0;
        CHECK_HINT(has_bf16_twin(base), "vaec_bench --list prints the rows", "vaec_bench: row '%s' has no bf16 twin",
                   base);
        bench_bf16 = true;
    }
    for (int i = 0; i < N_ROWS; i++)
        if (!strcmp(base, rows[i].name)) {
            rows[i].run(&o);
            if (getenv("VAEC_MEM_REPORT")) {   /* the allocator's table after the row, and the weight-reorder cache */
                mem_report(stderr);
                weight_cache_stats w;
                weight_cache_get_stats(&w);
                fprintf(stderr, "oneDNN weight reorders: %llu, served from kept copies: %llu; %.1f MiB kept for %d weights x layouts\n",
                        (unsigned long long)w.reorders, (unsigned long long)w.hits, (double)w.bytes / 1048576.0, w.entries);
            }
            return 0;
        }
    CHECK_HINT(false, "vaec_bench --list prints the rows", "vaec_bench: unknown row '%s'", argv[1]);
    return 2;
}
