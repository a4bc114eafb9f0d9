/* test_gemm.c: gemm_f32 (core/cpu/gemm.c) on each CPU path, oneDNN's sgemm and OpenBLAS, against a
 * double-precision loop: every transpose pair, odd sizes, leading dimensions wider than the rows, alpha
 * and beta; and the two paths against each other. */
#include <math.h>
#include <stdlib.h>
#include "core/cpu/dnnl_util.h"   // defines: cpu_backend_set
#include "core/cpu/gemm.h"        // defines: gemm_f32
#include "core/rng.h"           // defines: rng_seed, rng_fill_normal
#include "tests/harness/test.h"

static float *random_floats(int64_t n, uint64_t seed) {
    float *p = malloc((size_t)n * sizeof(float));
    rng_state r = rng_seed(seed);
    rng_fill_normal(&r, p, n, 0.0f, 1.0f);
    return p;
}

/* max |got - want| / max |want| of the m x n result against the double loop */
static double check_one(cpu_backend be, bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, float beta) {
    const int64_t lda = (ta ? m : k) + 3, ldb = (tb ? k : n) + 5, ldc = n + 2;
    float *a = random_floats((ta ? k : m) * lda, 1), *b = random_floats((tb ? n : k) * ldb, 2);
    float *c = random_floats(m * ldc, 3);
    double *want = malloc((size_t)(m * n) * sizeof(double));
    double maxw = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0;
            for (int64_t p = 0; p < k; p++)
                s += (double)(ta ? a[p * lda + i] : a[i * lda + p]) * (tb ? b[j * ldb + p] : b[p * ldb + j]);
            want[i * n + j] = alpha * s + beta * (double)c[i * ldc + j];
            maxw = fmax(maxw, fabs(want[i * n + j]));
        }
    cpu_backend_set(be);
    gemm_f32(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    cpu_backend_set(CPU_BACKEND_AUTO);
    double err = 0;
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) err = fmax(err, fabs(c[i * ldc + j] - want[i * n + j]));
    free(a), free(b), free(c), free(want);
    return err / maxw;
}

TEST(test_gemm_paths_match_double) {
    const int64_t shapes[][3] = {{1, 1, 1}, {7, 5, 3}, {33, 17, 65}, {64, 96, 128}, {130, 3, 257}};
    const cpu_backend backends[2] = {CPU_BACKEND_DNNL, CPU_BACKEND_OWN};
    const char *names[2] = {"oneDNN", "OpenBLAS"};
    for (int be = 0; be < 2; be++)
        for (int t = 0; t < 4; t++)
            for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
                const bool ta = t & 1, tb = t & 2;
                const float alpha = s % 2 ? 0.5f : 1.0f, beta = s % 3 == 1 ? 0.0f : 0.75f;
                double err = check_one(backends[be], ta, tb, shapes[s][0], shapes[s][1], shapes[s][2], alpha, beta);
                EXPECT(err < 1e-5, "gemm %s ta=%d tb=%d %lldx%lldx%lld: error %.3g of max", names[be], ta, tb,
                       (long long)shapes[s][0], (long long)shapes[s][1], (long long)shapes[s][2], err);
            }
}

/* m or n of zero writes nothing; k of zero scales C by beta */
TEST(test_gemm_empty_and_k0) {
    float c[6] = {1, 2, 3, 4, 5, 6}, a[1] = {0}, b[1] = {0};
    gemm_f32(false, false, 0, 3, 4, 1.0f, a, 4, b, 3, 0.0f, c, 3);
    EXPECT(c[0] == 1 && c[5] == 6, "m = 0 wrote into C");
    gemm_f32(false, false, 2, 3, 0, 1.0f, a, 1, b, 3, 0.5f, c, 3);
    EXPECT(c[0] == 0.5f && c[5] == 3.0f, "k = 0 should scale C by beta: got %g, %g", c[0], c[5]);
}
