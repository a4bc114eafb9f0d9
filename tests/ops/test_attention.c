/* test_attention.c: op_attention gradient checks (self and cross attention), PyTorch goldens, and
   shape errors. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops/attention.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *attention_fn(void *ctx, tensor **in) { return op_attention(in[0], in[1], in[2], *(float *)ctx); }

static void attention_gradcheck(const char *label, int64_t N, int64_t Lq, int64_t Lk, int64_t C, uint64_t seed) {
    tensor *q = gc_input_scaled(SHAPE(N, Lq, C), seed, 1.5f);   /* 1.5: attention not flat */
    tensor *k = gc_input_scaled(SHAPE(N, Lk, C), seed + 1, 1.5f);
    tensor *v = gc_input(SHAPE(N, Lk, C), seed + 2);
    float scale = 1.0f / sqrtf((float)C);
    gradcheck(label, attention_fn, &scale, 3, (tensor *[]){q, k, v}, NULL);
    tensor_release(q);
    tensor_release(k);
    tensor_release(v);
}

TEST(test_attention_grad_self) { attention_gradcheck("attention.self", 2, 5, 5, 4, 41); }
TEST(test_attention_grad_cross_lq_ne_lk) {
    attention_gradcheck("attention.cross", 2, 3, 7, 4, 51);
    attention_gradcheck("attention.cross1", 1, 6, 1, 3, 61);   /* one key: probabilities all 1 */
}

/* only v needs a gradient: the dq/dk path is skipped */
TEST(test_attention_grad_v_only) {
    tensor *q = gc_input(SHAPE(2, 5, 4), 71), *k = gc_input(SHAPE(2, 5, 4), 72), *v = gc_input(SHAPE(2, 5, 4), 73);
    q->requires_grad = k->requires_grad = false;
    float scale = 0.5f;
    gradcheck("attention.v_only", attention_fn, &scale, 3, (tensor *[]){q, k, v}, NULL);
    EXPECT(!q->grad && !k->grad, "q or k got a gradient it did not ask for");
    tensor_release(q);
    tensor_release(k);
    tensor_release(v);
}

/* diffusers' scale, 1/sqrt(C), from the golden's own q */
static tensor *attention_sqrt_c_fn(void *ctx, tensor **in) {
    return op_attention(in[0], in[1], in[2], 1.0f / sqrtf((float)in[0]->shape[2]));
}

static void attention_golden(golden_file *g, const char *key) {
    golden_check_op(g, key, attention_sqrt_c_fn, NULL, 3, (const char *[]){"q", "k", "v"}, (const char *[]){"gq", "gk", "gv"},
                    "y", 1e-5);
}

TEST(test_attention_matches_torch) {
    golden_file *g = golden_open("norm");
    attention_golden(g, "att16");   /* N=2, 4x4 image (L=16), C=8 */
    attention_golden(g, "att9");    /* N=2, L=9, C=5 */
    attention_golden(g, "attx");    /* N=2, Lq=6, Lk=10, C=4 */
    golden_close(g);
}

static void attention_bad_channels(void *ctx) {
    tensor *q = tensor_zeros(SHAPE(1, 4, 8)), *k = tensor_zeros(SHAPE(1, 4, 8)), *v = tensor_zeros(SHAPE(1, 4, 6));
    op_attention(q, k, v, 1.0f);
}

static void attention_bad_keys(void *ctx) {
    tensor *q = tensor_zeros(SHAPE(1, 4, 8)), *k = tensor_zeros(SHAPE(1, 5, 8)), *v = tensor_zeros(SHAPE(1, 4, 8));
    op_attention(q, k, v, 1.0f);
}

TEST(test_attention_mismatched_shapes_are_fatal) {
    EXPECT(test_expect_fatal(attention_bad_channels, NULL, "channels C differ"),
           "v with C=6 against q/k with C=8 did not stop with a clear message");
    EXPECT(test_expect_fatal(attention_bad_keys, NULL, "one row per key"),
           "v with 4 rows for 5 keys did not stop with a clear message");
}
