/* gemm_bf16.c: bf16 x bf16 -> float32 GEMM through oneDNN's matmul primitive, or widened to gemm_f32
 * (see gemm_bf16.h). oneDNN 2.6's C API has no bf16 counterpart of dnnl_sgemm (its gemm_bf16bf16f32 is
 * internal), so the product is a matmul primitive: bf16 src and weights, f32 dst, the transposes given as
 * strides. Primitives are cached by shape, strides and thread count, as the convolutions' are. */
#include "core/cpu/gemm_bf16.h"
#include <omp.h>
#include <pthread.h>
#include <string.h>
#include "core/cpu/bf16_convert.h"   // defines: bf16_widened
#include "core/cpu/dnnl_util.h"   // defines: DNNL_CHECK, dnnl_md_matrix, dnnl_run
#include "core/cpu/gemm.h"        // defines: gemm_f32
#include "core/cpu/prim_cache.h"  // defines: prim_cache_get, prim_cache_done

typedef struct {
    int64_t batch, m, n, k, lda, ldb, ldc, sa, sb, sc;
    int ta, tb, nthreads;
} mm_key;

typedef struct {
    dnnl_memory_desc_t a, b, c;
    dnnl_primitive_desc_t pd;
    dnnl_primitive_t prim;
} mm_prim;


static void build(mm_prim *e, const mm_key *k) {
    dnnl_md_matrix(&e->a, dnnl_bf16, k->batch, k->m, k->k, k->lda, k->sa, k->ta);
    dnnl_md_matrix(&e->b, dnnl_bf16, k->batch, k->k, k->n, k->ldb, k->sb, k->tb);
    dnnl_md_matrix(&e->c, dnnl_f32, k->batch, k->m, k->n, k->ldc, k->sc, false);
    dnnl_matmul_desc_t d;
    DNNL_CHECK(dnnl_matmul_desc_init(&d, &e->a, &e->b, NULL, &e->c), "bf16 matmul descriptor");
    dnnl_primitive_attr_t attr = dnnl_attr_user_scratchpad();
    DNNL_CHECK(dnnl_primitive_desc_create(&e->pd, &d, attr, dnnl_cpu_engine(), NULL), "bf16 matmul");
    dnnl_primitive_attr_destroy(attr);
    DNNL_CHECK(dnnl_primitive_create(&e->prim, e->pd), "bf16 matmul primitive");
}

static void release(mm_prim *e) {
    dnnl_primitive_destroy(e->prim);
    dnnl_primitive_desc_destroy(e->pd);
}

/* the distinct products of a step (linear layers of the attention blocks, fwd + bwd) */
static prim_cache cache = PRIM_CACHE_INIT(mm_key, mm_prim, 32, build, release);

/* elements spanned by a batch of (rows x cols) matrices stored with ld (transposed: cols x rows) */
static int64_t extent(int64_t batch, int64_t rows, int64_t cols, int64_t ld, int64_t stride, bool transposed) {
    int64_t one = transposed ? (cols - 1) * ld + rows : (rows - 1) * ld + cols;
    return (batch - 1) * stride + one;
}

void gemm_bf16_path(bool ta, bool tb, int64_t batch, int64_t m, int64_t n, int64_t k, const uint16_t *a, int64_t lda,
                    int64_t sa, const uint16_t *b, int64_t ldb, int64_t sb, float *c, int64_t ldc, int64_t sc, bool native) {
    if (batch <= 0 || m <= 0 || n <= 0) return;
    if (k <= 0) {   /* an empty sum */
        for (int64_t i = 0; i < batch; i++)
            for (int64_t r = 0; r < m; r++) memset(c + i * sc + r * ldc, 0, (size_t)n * sizeof(float));
        return;
    }
    if (native) {
        mm_key key;
        memset(&key, 0, sizeof key);   /* compared with memcmp: padding bytes zeroed */
        key.batch = batch, key.m = m, key.n = n, key.k = k, key.lda = lda, key.ldb = ldb, key.ldc = ldc;
        key.sa = batch > 1 ? sa : 0, key.sb = batch > 1 ? sb : 0, key.sc = batch > 1 ? sc : 0;   /* unused for one */
        key.ta = ta, key.tb = tb, key.nthreads = omp_get_max_threads();
        mm_prim *e = prim_cache_get(&cache, &key);
        dnnl_arg args[3] = {{DNNL_ARG_SRC, &e->a, a}, {DNNL_ARG_WEIGHTS, &e->b, b}, {DNNL_ARG_DST, &e->c, c}};
        dnnl_run(e->prim, e->pd, 3, args, "bf16 matmul");
        prim_cache_done(&cache);
        return;
    }
    mem_block *af = bf16_widened(a, extent(batch, m, k, lda, sa, ta));
    mem_block *bf = bf16_widened(b, extent(batch, k, n, ldb, sb, tb));
    const float *ap = af->ptr, *bp = bf->ptr;
    for (int64_t i = 0; i < batch; i++)
        gemm_f32(ta, tb, m, n, k, 1.0f, ap + i * sa, lda, bp + i * sb, ldb, 0.0f, c + i * sc, ldc);
    mem_block_release(af);
    mem_block_release(bf);
}
