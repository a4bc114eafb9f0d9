/* test_cuda_attention.c: the fused attention on CUDA (cuBLAS GEMMs + the row softmax kernels) against the
 * CPU: output and the gradients of q, k, v within 1e-5, for self and cross attention, a single key, rows
 * longer than the softmax block (Lk 700 > 256 threads), a mid-block-sized case (N 2, 32x32 positions,
 * C 64), and v alone needing a gradient. Skipped, loudly, without a GPU. */
#include <math.h>
#include "core/ops/attention.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *attention_fn(void *ctx, tensor **in) { return op_attention(in[0], in[1], in[2], *(float *)ctx); }

static void twin(const char *label, int64_t N, int64_t Lq, int64_t Lk, int64_t C, uint64_t seed, bool v_only) {
    tensor *q = gc_input_scaled(SHAPE(N, Lq, C), seed, 1.5f);   /* 1.5: attention not flat */
    tensor *k = gc_input_scaled(SHAPE(N, Lk, C), seed + 1, 1.5f);
    tensor *v = gc_input(SHAPE(N, Lk, C), seed + 2);
    if (v_only) q->requires_grad = k->requires_grad = false;
    float scale = 1.0f / sqrtf((float)C);
    cuda_twin_check(label, attention_fn, &scale, 3, (tensor *[]){q, k, v}, NULL);
    tensor_release(q);
    tensor_release(k);
    tensor_release(v);
}

TEST(test_cuda_attention_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    twin("cuda_attention.self", 2, 5, 5, 4, 41, false);
    twin("cuda_attention.cross", 2, 3, 7, 4, 51, false);
    twin("cuda_attention.one_key", 1, 6, 1, 3, 61, false);
    twin("cuda_attention.long_rows", 1, 37, 700, 16, 71, false);
    twin("cuda_attention.mid_block", 2, 1024, 1024, 64, 81, false);
    twin("cuda_attention.v_only", 2, 5, 5, 4, 91, true);
}
