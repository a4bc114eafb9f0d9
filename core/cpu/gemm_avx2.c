/* gemm_avx2.c: the AVX2 SGEMM of the Winograd conv (see gemm_avx2.h). */
#include "core/cpu/gemm_avx2.h"
#include <immintrin.h>

#define KC 256   /* K block: one 16-column block of B (16 KiB) stays in L1 */

bool gemm_avx2_usable(void) {
    static int cpu = -1;
    if (cpu < 0) cpu = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return cpu;
}

/* R (1..6) rows of C x 16 columns over K: up to 12 accumulators, A's values broadcast from its rows, one
 * k's 16 B values in two loads. `acc`: add to C (the later K blocks). */
__attribute__((target("avx2,fma"), always_inline))
static inline void kernel_rows(const int R, int64_t K, const float *a, int64_t lda, const float *b, float *c,
                               int64_t ldc, bool acc) {
    __m256 r[6][2];
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        r[i][0] = acc ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
        r[i][1] = acc ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
    }
    for (int64_t k = 0; k < K; k++) {
        const __m256 b0 = _mm256_loadu_ps(b + k * 16), b1 = _mm256_loadu_ps(b + k * 16 + 8);
#pragma GCC unroll 6
        for (int i = 0; i < R; i++) {
            const __m256 av = _mm256_broadcast_ss(a + i * lda + k);
            r[i][0] = _mm256_fmadd_ps(av, b0, r[i][0]);
            r[i][1] = _mm256_fmadd_ps(av, b1, r[i][1]);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < R; i++) {
        _mm256_storeu_ps(c + i * ldc, r[i][0]);
        _mm256_storeu_ps(c + i * ldc + 8, r[i][1]);
    }
}

/* one specialised copy of kernel_rows per row count */
__attribute__((target("avx2,fma")))
static void kernel_16(int R, int64_t K, const float *a, int64_t lda, const float *b, float *c, int64_t ldc, bool acc) {
    switch (R) {
        case 6: kernel_rows(6, K, a, lda, b, c, ldc, acc); break;
        case 5: kernel_rows(5, K, a, lda, b, c, ldc, acc); break;
        case 4: kernel_rows(4, K, a, lda, b, c, ldc, acc); break;
        case 3: kernel_rows(3, K, a, lda, b, c, ldc, acc); break;
        case 2: kernel_rows(2, K, a, lda, b, c, ldc, acc); break;
        default: kernel_rows(1, K, a, lda, b, c, ldc, acc); break;
    }
}

void gemm_avx2(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *bp, float *c, int64_t ldc) {
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
        const int64_t kc = K - k0 < KC ? K - k0 : KC;
        for (int64_t nb = 0; nb < N; nb += 16) {   /* the B block stays in L1 while A's rows pass over it */
            const float *b = bp + nb * K + k0 * 16;
            for (int64_t i = 0; i < M; i += 6)
                kernel_16(M - i < 6 ? (int)(M - i) : 6, kc, a + i * lda + k0, lda, b, c + i * ldc + nb, ldc, k0 > 0);
        }
    }
}
