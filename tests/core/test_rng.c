/* test_rng.c: Philox streams are reproducible, independent of thread count, and well distributed. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "core/rng.h"
#include "tests/harness/test.h"

TEST(test_rng_philox_known_answer) {
    /* Random123's published known-answer vector for philox4x32-10, counter and key all zero */
    uint32_t w[4];
    philox4x32_10(0, 0, 0, w);
    EXPECT(w[0] == 0x6627e8d5u && w[1] == 0xe169c58du && w[2] == 0xbc57ac4cu && w[3] == 0x9b00dbd8u,
           "philox(0,0) = %08x %08x %08x %08x", w[0], w[1], w[2], w[3]);
}

TEST(test_rng_stream_independent_of_threads) {
    enum { N = 300001 };
    static float a[N], b[N];
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    rng_state r1 = rng_seed(42);
    rng_fill_normal(&r1, a, N, 0, 1);
    omp_set_num_threads(2);
    rng_state r2 = rng_seed(42);
    rng_fill_normal(&r2, b, N, 0, 1);
    omp_set_num_threads(saved);
    EXPECT(memcmp(a, b, sizeof a) == 0, "normal stream differs between 1 and 2 threads");
    EXPECT(r1.offset == r2.offset, "offsets differ");
}

TEST(test_rng_split_draws_equal_one_draw) {
    /* drawing 8 then 8 equals drawing 16 (offsets advance in whole blocks of 4) */
    float a[16], b[16];
    rng_state r = rng_seed(7);
    rng_fill_uniform(&r, a, 8, 0, 1);
    rng_fill_uniform(&r, a + 8, 8, 0, 1);
    rng_state s = rng_seed(7);
    rng_fill_uniform(&s, b, 16, 0, 1);
    EXPECT(memcmp(a, b, sizeof a) == 0, "split draw differs");
}

TEST(test_rng_normal_and_uniform_moments) {
    enum { N = 1 << 20 };
    static float x[N];
    rng_state r = rng_seed(123);
    rng_fill_normal(&r, x, N, 1.0f, 2.0f);
    double m = 0, v = 0;
    for (int i = 0; i < N; i++) m += x[i];
    m /= N;
    for (int i = 0; i < N; i++) v += (x[i] - m) * (x[i] - m);
    v /= N;
    EXPECT(fabs(m - 1.0) < 0.01 && fabs(v - 4.0) < 0.03, "normal mean %.4f var %.4f", m, v);
    rng_fill_uniform(&r, x, N, -1.0f, 1.0f);
    double lo = 1, hi = -1;
    m = 0;
    for (int i = 0; i < N; i++) { m += x[i]; lo = fmin(lo, x[i]); hi = fmax(hi, x[i]); }
    EXPECT(fabs(m / N) < 0.005 && lo >= -1 && hi < 1, "uniform mean %.4f range [%f, %f]", m / N, lo, hi);
}
