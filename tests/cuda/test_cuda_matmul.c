/* test_cuda_matmul.c: matmul (2-D and batched, every transpose pair) and linear (with and without bias,
 * 3-D input, enough rows for the two-level bias-gradient sum) on CUDA (cuBLAS, fp32, no TF32) against the
 * CPU: output and every input gradient within 1e-5. Skipped, loudly, without a GPU. */
#include "core/ops/matmul.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { bool ta, tb; } mm_flags;
static tensor *mm_fn(void *c, tensor **in) { mm_flags *f = c; return op_matmul(in[0], in[1], f->ta, f->tb); }
static tensor *linear_fn(void *c, tensor **in) { return op_linear(in[0], in[1], in[2]); }
static tensor *linear_nobias_fn(void *c, tensor **in) { return op_linear(in[0], in[1], NULL); }

/* one (M,K)x(K,N) product, batched when B > 0, with the transposes in f */
static void twin_mm(const char *label, mm_flags f, int64_t B, int64_t M, int64_t K, int64_t N, uint64_t seed) {
    int64_t as[3], bs[3];
    int r = B > 0 ? 3 : 2, o = r - 2;
    as[0] = bs[0] = B;
    as[o] = f.ta ? K : M; as[o + 1] = f.ta ? M : K;
    bs[o] = f.tb ? N : K; bs[o + 1] = f.tb ? K : N;
    tensor *a = gc_input(r, as, seed), *b = gc_input(r, bs, seed + 1);
    char l[96];
    snprintf(l, sizeof l, "%s_t%d%d", label, f.ta, f.tb);
    cuda_twin_check(l, mm_fn, &f, 2, (tensor *[]){a, b}, NULL);
    tensor_release(a);
    tensor_release(b);
}

TEST(test_cuda_matmul_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            mm_flags f = {ta, tb};
            twin_mm("cuda_matmul.small", f, 0, 3, 5, 4, 11);
            twin_mm("cuda_matmul.batched", f, 2, 3, 5, 4, 13);
            twin_mm("cuda_matmul.odd", f, 3, 33, 70, 17, 15);
            twin_mm("cuda_matmul.attn_sized", f, 2, 256, 128, 256, 17);
        }
}

TEST(test_cuda_linear_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(2, 3, 5), 5), *w = gc_input(SHAPE(4, 5), 6), *b = gc_input(SHAPE(4), 7);
    cuda_twin_check("cuda_linear.small", linear_fn, NULL, 3, (tensor *[]){x, w, b}, NULL);
    cuda_twin_check("cuda_linear.nobias", linear_nobias_fn, NULL, 2, (tensor *[]){x, w}, NULL);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
    /* 2*1600 rows: the bias gradient's column sum takes its chunked path */
    x = gc_input(SHAPE(2, 1600, 64), 8), w = gc_input_scaled(SHAPE(96, 64), 9, 0.2f), b = gc_input(SHAPE(96), 10);
    cuda_twin_check("cuda_linear.rows3200", linear_fn, NULL, 3, (tensor *[]){x, w, b}, NULL);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

/* bf16 operands (fp32 accumulation, tensor cores; fp32 gradients) against fp32 on the CPU: within 1e-2 */
TEST(test_cuda_matmul_linear_bf16_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    const cuda_twin_opts bf = {.tol = 1e-2, .dtype = DTYPE_BF16};
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            mm_flags f = {ta, tb};
            tensor *a = gc_input(3, ta ? (int64_t[]){2, 70, 33} : (int64_t[]){2, 33, 70}, 21);
            tensor *b = gc_input(3, tb ? (int64_t[]){2, 17, 70} : (int64_t[]){2, 70, 17}, 22);
            cuda_twin_check("cuda_matmul_bf16", mm_fn, &f, 2, (tensor *[]){a, b}, &bf);
            tensor_release(a);
            tensor_release(b);
        }
    tensor *x = gc_input(SHAPE(2, 1600, 64), 8), *w = gc_input_scaled(SHAPE(96, 64), 9, 0.2f), *b = gc_input(SHAPE(96), 10);
    cuda_twin_check("cuda_linear_bf16", linear_fn, NULL, 3, (tensor *[]){x, w, b}, &bf);
    cuda_twin_check("cuda_linear_bf16_nobias", linear_nobias_fn, NULL, 2, (tensor *[]){x, w}, &bf);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}
