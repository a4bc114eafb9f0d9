/* gemm.c: gemm_f32 on oneDNN's sgemm or OpenBLAS (see gemm.h). Measured on a 2-core Xeon (AVX-512),
 * 2 threads, 2048^3: oneDNN 294-303 GFLOP/s, OpenBLAS 158 (Haswell kernels, OPENBLAS_CORETYPE=Haswell) or
 * 51 (its own choice for that CPU); with oneDNN held to AVX2 (ONEDNN_MAX_CPU_ISA=AVX2) 151, a tie. */
#include "core/cpu/gemm.h"
#include <cblas.h>
#include "core/cpu/dnnl_util.h"   // defines: DNNL_CHECK, cpu_backend_use_dnnl

void gemm_f32(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float *a, int64_t lda,
              const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {   /* BLAS semantics, which oneDNN's sgemm skips: C = beta C */
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) c[i * ldc + j] = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
        return;
    }
    if (cpu_backend_use_dnnl()) {
        DNNL_CHECK(dnnl_sgemm(ta ? 'T' : 'N', tb ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc), "sgemm");
        return;
    }
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)m, (int)n, (int)k,
                alpha, a, (int)lda, b, (int)ldb, beta, c, (int)ldc);
}
