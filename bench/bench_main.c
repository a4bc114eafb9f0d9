/* bench_main.c: `vaec_bench <case>`: times vaec on one workload and prints one line of JSON.
 * bench/run_spatial.sh runs it beside the PyTorch twin (bench/torch_spatial.py) on the same thread count.
 *   spatial_sdxl_256: SDXL AutoencoderKL encode + decode of one 256x256 frame (no grad), weights filled
 *                     with params_fill_deterministic.
 *   temporal_full_17x32x32: the 309.7M temporal VAE, encode + decode (posterior mean) of a (1,4,17,32,32)
 *                     spatial latent (a 17-frame 256x256 clip), no grad; twin: bench/torch_temporal.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>
#include "autograd/autograd.h"
#include "core/rng.h"
#include "layers/autoencoder_kl.h"
#include "layers/posterior.h"
#include "layers/vae_temporal.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int bench_spatial(int size, int reps) {
    autoencoder_kl_config c = autoencoder_kl_config_sdxl();
    autoencoder_kl m;
    autoencoder_kl_init(&m, &c, 0);
    params_fill_deterministic(&m.params);
    ag_set_grad_enabled(false);
    tensor *x = tensor_empty(SHAPE(1, size, size, 3));
    rng_state r = rng_seed(1);
    rng_fill_uniform(&r, tensor_f32(x), x->numel, -1, 1);
    double best_enc = 1e30, best_dec = 1e30;
    for (int i = 0; i < reps; i++) {
        tensor_scope_begin();
        double t0 = now();
        diag_gaussian p = posterior_from_moments(autoencoder_kl_encode(&m, x));
        double t1 = now();
        autoencoder_kl_decode(&m, posterior_mode(&p));
        double t2 = now();
        tensor_scope_end(NULL);
        if (t1 - t0 < best_enc) best_enc = t1 - t0;
        if (t2 - t1 < best_dec) best_dec = t2 - t1;
    }
    mem_stats s;
    mem_get_stats(DEVICE_CPU, &s);
    printf("{\"case\": \"spatial_sdxl_%d\", \"impl\": \"vaec\", \"threads\": %d, \"encode_s\": %.3f, \"decode_s\": %.3f, "
           "\"total_s\": %.3f, \"peak_mib\": %.1f}\n", size, omp_get_max_threads(), best_enc, best_dec, best_enc + best_dec,
           (double)s.peak_total / 1048576.0);
    tensor_release(x);
    autoencoder_kl_free(&m);
    return 0;
}

static int bench_temporal(int reps) {
    vae_temporal_config c = vae_temporal_config_default();
    vae_temporal m;
    vae_temporal_init(&m, &c, 0);
    params_fill_deterministic(&m.params);
    ag_set_grad_enabled(false);
    tensor *x = tensor_empty(SHAPE(1, 17, 32, 32, 4));
    rng_state r = rng_seed(1);
    rng_fill_normal(&r, tensor_f32(x), x->numel, 0, 1);
    mem_reset_peak();
    double best_enc = 1e30, best_dec = 1e30;
    for (int i = 0; i < reps; i++) {
        tensor_scope_begin();
        double t0 = now();
        diag_gaussian p = posterior_from_moments(vae_temporal_encode(&m, x));
        double t1 = now();
        vae_temporal_decode(&m, posterior_mode(&p), 17);
        double t2 = now();
        tensor_scope_end(NULL);
        if (t1 - t0 < best_enc) best_enc = t1 - t0;
        if (t2 - t1 < best_dec) best_dec = t2 - t1;
    }
    mem_stats s;
    mem_get_stats(DEVICE_CPU, &s);
    printf("{\"case\": \"temporal_full_17x32x32\", \"impl\": \"vaec\", \"threads\": %d, \"encode_s\": %.3f, \"decode_s\": %.3f, "
           "\"total_s\": %.3f, \"peak_mib\": %.1f, \"activation_peak_mib\": %.1f}\n", omp_get_max_threads(), best_enc, best_dec,
           best_enc + best_dec, (double)s.peak_total / 1048576.0, (double)(s.peak[MEM_ACTIVATIONS] + s.peak[MEM_WORKSPACE]) / 1048576.0);
    tensor_release(x);
    vae_temporal_free(&m);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "temporal_full_17x32x32")) return bench_temporal(argc >= 3 ? atoi(argv[2]) : 2);
    if (argc >= 2 && !strcmp(argv[1], "spatial_sdxl_256")) return bench_spatial(256, argc >= 3 ? atoi(argv[2]) : 3);
    fprintf(stderr, "usage: vaec_bench spatial_sdxl_256|temporal_full_17x32x32 [reps]\n");
    return 2;
}
