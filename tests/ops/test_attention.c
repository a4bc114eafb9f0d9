/* test_attention.c: op_attention gradient checks (self and cross attention), PyTorch goldens, and
   shape errors. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops/attention.h"
#include "tests/harness/gradcheck.h"
#include "core/cpu/dnnl_util.h"   // defines: cpu_backend_set
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

/* enough keys for several blocks of query rows and a short last one (attention.c: 512 KiB of scores a block,
   32 rows at 4096 keys): the forward with a gradient to come (P kept) and without (P never written out) give
   the same bits, and both match softmax(q k^T s) v summed in double */
/* both CPU paths (oneDNN's GEMMs: blocks of query rows; OpenBLAS's: whole-sample GEMMs) against a double
   reference, each the same bits with and without keeping P */
static void attention_against_reference(const char *path) {
    const int64_t N = 2, Lq = 150, Lk = 4096, C = 8;
    const float scale = 0.7f;
    tensor *q = gc_input(SHAPE(N, Lq, C), 81), *k = gc_input(SHAPE(N, Lk, C), 82), *v = gc_input(SHAPE(N, Lk, C), 83);
    tensor_scope_begin();
    tensor *with_grad = op_attention(q, k, v, scale);
    bool prev = ag_set_grad_enabled(false);
    tensor *no_grad = op_attention(q, k, v, scale);
    ag_set_grad_enabled(prev);
    EXPECT(!memcmp(with_grad->data, no_grad->data, (size_t)with_grad->numel * sizeof(float)),
           "%s: the forward without a gradient differs from the one that keeps P", path);
    const float *qd = q->data, *kd = k->data, *vd = v->data, *y = no_grad->data;
    double worst = 0, *s = malloc((size_t)Lk * sizeof(double));
    for (int64_t n = 0; n < N; n++)
        for (int64_t i = 0; i < Lq; i++) {
            double mx = -INFINITY, sum = 0;
            for (int64_t j = 0; j < Lk; j++) {
                double d = 0;
                for (int64_t c = 0; c < C; c++) d += (double)qd[(n * Lq + i) * C + c] * kd[(n * Lk + j) * C + c];
                s[j] = d * scale;
                mx = fmax(mx, s[j]);
            }
            for (int64_t j = 0; j < Lk; j++) sum += s[j] = exp(s[j] - mx);
            for (int64_t c = 0; c < C; c++) {
                double o = 0;
                for (int64_t j = 0; j < Lk; j++) o += s[j] / sum * vd[(n * Lk + j) * C + c];
                worst = fmax(worst, fabs(o - y[(n * Lq + i) * C + c]));
            }
        }
    free(s);
    EXPECT(worst < 1e-5, "%s attention is %.3g from the double reference", path, worst);
    tensor_scope_end(NULL);
    tensor_release(q), tensor_release(k), tensor_release(v);
}

TEST(test_attention_blocked_rows_match_reference) {
    attention_against_reference("blocked (oneDNN GEMMs)");
    cpu_backend_set(CPU_BACKEND_OWN);
    attention_against_reference("whole-sample (OpenBLAS GEMMs)");
    cpu_backend_set(CPU_BACKEND_AUTO);
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
