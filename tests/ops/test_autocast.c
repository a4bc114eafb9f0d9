/* test_autocast.c: op_cast, and every op autocast runs in bf16 (conv2d, conv3d, matmul, linear, attention)
 * under autocast against the same op in float32 on the same float32 inputs: the output and every gradient.
 *
 * Tolerance 2e-2 of the largest value (max|autocast - fp32| / max|fp32|), from bf16's 8 significant bits
 * (each rounding is off by at most 2^-8 = 3.9e-3 of the value): the operands are rounded once, the result
 * once, the output gradient once for the products, and attention chains two products through a softmax,
 * so up to ~4 roundings of 2^-8 can meet in one value (1.6e-2); the sums themselves are float32. The
 * outputs must also differ from float32 by more than 1e-6, so a run that silently stayed in float32 fails.
 * Inside a region each op returns bf16, as torch.autocast does; outside, nothing changes: the same bits as before. */
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_backward_with_grad
#include "core/autocast.h"             // defines: autocast_set, precision_is_bf16
#include "core/bf16.h"                 // defines: bf16_from_f32, bf16_to_f32
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d, op_matmul, op_linear, op_attention
#include "core/ops/cast.h"             // defines: op_cast, tensor_cast, tensor_cast_
#include "core/rng.h"                  // defines: rng_seed, rng_fill_normal
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/gradcheck.h"   // defines: gc_input_scaled, rel_error, gc_take_input_grads
#include "tests/harness/test.h"

#define TOL_AUTOCAST 2e-2

static const conv_case conv_cases[] = {
    {"conv_in_rgb", 2, {2, 12, 10, 3}, 16, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"downsample", 2, {2, 12, 9, 16}, 16, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"causal_3x3x3", 3, {2, 5, 6, 6, 16}, 32, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    {"causal_ts2", 3, {1, 9, 6, 6, 16}, 16, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 0},
};
#define N_CONV (int)(sizeof conv_cases / sizeof *conv_cases)

static tensor *matmul_nt_fn(void *ctx, tensor **in) { return op_matmul(in[0], in[1], false, true); }
static tensor *linear_fn(void *ctx, tensor **in) { return op_linear(in[0], in[1], in[2]); }
static tensor *attention_fn(void *ctx, tensor **in) { return op_attention(in[0], in[1], in[2], 0.125f); }

typedef struct {
    const char *name;
    gc_fn f;
    int n, ndim[3];
    int64_t shape[3][3];
} other_case;

static const other_case other_cases[] = {
    {"matmul_nt", matmul_nt_fn, 2, {3, 3}, {{3, 33, 70}, {3, 17, 70}}},
    {"linear_bias", linear_fn, 3, {3, 2, 1}, {{2, 150, 64}, {96, 64}, {96}}},
    {"attention", attention_fn, 3, {3, 3, 3}, {{2, 64, 64}, {2, 48, 64}, {2, 48, 64}}},
};
#define N_OTHER (int)(sizeof other_cases / sizeof *other_cases)
#define N_CASES (N_CONV + N_OTHER)

static const char *case_name(int i) { return i < N_CONV ? conv_cases[i].name : other_cases[i - N_CONV].name; }

static int case_inputs(int i, tensor **in) {
    for (int j = 0; j < 3; j++) in[j] = NULL;
    if (i < N_CONV) {
        conv_case_inputs(&conv_cases[i], 700 + 3 * i, 0.2f, in);
        return conv_cases[i].bias ? 3 : 2;
    }
    const other_case *c = &other_cases[i - N_CONV];
    for (int j = 0; j < c->n; j++)
        in[j] = gc_input_scaled(c->ndim[j], c->shape[j], 60 + 3 * i + j, c->f == linear_fn && j == 1 ? 0.2f : 1.0f);
    return c->n;
}

static tensor *case_run(int i, tensor **in) {
    if (i < N_CONV) return conv_case_fn((void *)&conv_cases[i], in);
    return other_cases[i - N_CONV].f(NULL, in);
}

/* case i on copies of in, with or without autocast; out[0] = output, out[1..n] = gradients */
static void run_case(int i, tensor **in, int n, bool bf16, tensor **gy, tensor *out[4]) {
    tensor *x[3] = {NULL, NULL, NULL};
    for (int j = 0; j < n; j++) {
        x[j] = tensor_clone(in[j]);
        x[j]->requires_grad = true;
    }
    const bool prev = autocast_set(bf16);
    tensor_scope_begin();
    tensor *y = case_run(i, x);
    /* as torch.autocast: a bf16 result inside the region; the float32 gradient seeds it all the same */
    EXPECT(y->dtype == (bf16 ? DTYPE_BF16 : DTYPE_F32), "%s: returned %s under autocast = %d (%s expected)",
           case_name(i), dtype_name(y->dtype), bf16, bf16 ? "bf16" : "float32");
    out[0] = tensor_cast(y, DTYPE_F32);
    if (!*gy) {
        *gy = tensor_empty(y->ndim, y->shape);
        rng_state s = rng_seed(6000 + i);
        rng_fill_normal(&s, tensor_f32(*gy), (*gy)->numel, 0.0f, 1.0f);
    }
    ag_backward_with_grad(y, *gy);
    tensor_scope_end(NULL);
    autocast_set(prev);
    gc_take_input_grads(x, 3, out + 1, case_name(i));
}

static void release4(tensor *t[4]) {
    for (int k = 0; k < 4; k++) tensor_release(t[k]);
}

TEST(test_autocast_ops_match_f32) {
    for (int i = 0; i < N_CASES; i++) {
        tensor *in[3], *gy = NULL, *ref[4], *got[4];
        int n = case_inputs(i, in);
        run_case(i, in, n, false, &gy, ref);
        run_case(i, in, n, true, &gy, got);
        printf("  %-14s autocast vs fp32:", case_name(i));
        for (int k = 0; k <= n; k++) {
            double err = rel_error(got[k], ref[k]);
            EXPECT(err <= TOL_AUTOCAST, "%s: result %d (0 = output, then each input's gradient) differs from float32 by "
                   "%.3g of its max (tolerance %.3g)", case_name(i), k, err, TOL_AUTOCAST);
            if (k == 0) EXPECT(err > 1e-6, "%s: the autocast output equals float32's (%.3g): did it run in bf16?",
                               case_name(i), err);
            printf(" %.2e", err);
        }
        printf("\n");
        release4(ref), release4(got);
        tensor_release(gy);
        for (int j = 0; j < 3; j++) tensor_release(in[j]);   /* a conv case makes a bias even when it takes none */
    }
}

/* a region switched off again leaves the float32 ops exactly as they were */
TEST(test_autocast_off_changes_nothing) {
    for (int i = 0; i < N_CASES; i++) {
        tensor *in[3], *gy = NULL, *a[4], *b[4], *c[4];
        int n = case_inputs(i, in);
        run_case(i, in, n, false, &gy, a);
        run_case(i, in, n, true, &gy, c);
        run_case(i, in, n, false, &gy, b);
        for (int k = 0; k <= n; k++)
            EXPECT(memcmp(a[k]->data, b[k]->data, (size_t)a[k]->numel * sizeof(float)) == 0,
                   "%s: result %d changed after an autocast region", case_name(i), k);
        release4(a), release4(b), release4(c);
        tensor_release(gy);
        for (int j = 0; j < 3; j++) tensor_release(in[j]);   /* a conv case makes a bias even when it takes none */
    }
    EXPECT(!autocast_set(false), "autocast left on");
}

/* rounding to nearest even, exact widening, the gradient handed through as float32 */
TEST(test_cast_rounds_and_passes_the_gradient) {
    const float v[6] = {1.0f, 1.00390625f /* 1 + 2^-8: a tie, to even (1) */, 1.01171875f /* tie, to even (1.015625) */,
                        -3.3f, 1e-30f, 65504.5f};
    tensor *x = tensor_from_data(SHAPE(6), v);
    x->requires_grad = true;
    tensor_scope_begin();
    tensor *b = op_cast(x, DTYPE_BF16);
    EXPECT(b->dtype == DTYPE_BF16 && op_cast(b, DTYPE_BF16) == b, "a cast to its own dtype must return the tensor");
    tensor *f = op_cast(b, DTYPE_F32);
    const float *fv = tensor_f32(f);
    for (int i = 0; i < 6; i++)
        EXPECT(fv[i] == bf16_to_f32(bf16_from_f32(v[i])), "element %d: %.9g -> %.9g, expected %.9g", i, v[i], fv[i],
               bf16_to_f32(bf16_from_f32(v[i])));
    EXPECT(fv[1] == 1.0f && fv[2] == 1.015625f, "ties must round to even: %.9g %.9g", fv[1], fv[2]);
    const float g[6] = {0.1f, -2, 3, 4e-3f, 5, 6};
    tensor *gy = tensor_from_data(SHAPE(6), g);
    ag_backward_with_grad(f, gy);
    tensor_scope_end(NULL);
    EXPECT(x->grad && x->grad->dtype == DTYPE_F32 && memcmp(x->grad->data, g, sizeof g) == 0,
           "the float32 gradient must pass through both casts unchanged");
    /* in place: a parameter held in bf16 */
    tensor *w = tensor_from_data(SHAPE(2, 3), v);
    tensor_cast_(w, DTYPE_BF16);
    EXPECT(w->dtype == DTYPE_BF16 && ((uint16_t *)w->data)[3] == bf16_from_f32(-3.3f), "tensor_cast_ to bf16");
    tensor *back = tensor_cast(w, DTYPE_F32);
    EXPECT(tensor_f32(back)[2] == 1.015625f, "tensor_cast to float32");
    tensor_release(back);
    tensor_release(w);
    tensor_release(gy);
    tensor_release(x);
}

static void bad_precision(void *ctx) { precision_is_bf16("bf61", "config run.ini: [train] precision"); }
static void bad_cast(void *ctx) {
    tensor *x = tensor_zeros(SHAPE(2));
    op_cast(x, DTYPE_F16);
}

TEST(test_precision_typo_names_the_value) {
    EXPECT(!precision_is_bf16("fp32", "x") && precision_is_bf16("bf16", "x"), "fp32 / bf16 misread");
    EXPECT(test_expect_fatal(bad_precision, NULL, "config run.ini: [train] precision = 'bf61': precision is fp32 or bf16"),
           "a precision typo must stop with a message naming the file, the key and the value");
    EXPECT(test_expect_fatal(bad_cast, NULL, "cast: F32 to F16 is not supported"), "an unsupported cast must be named");
}

/* a cast's input is needed for its gradient only: once the scope that made it ends, its storage goes back
 * (ag_input_data_unused), and backward still routes the gradient through it */
TEST(test_cast_frees_its_input_storage_early) {
    tensor *x = gc_input(SHAPE(4, 1000), 9);
    tensor_scope_begin();
    tensor_scope_begin();
    tensor *y = op_mul_scalar(x, 3.0f);          /* an intermediate only the cast uses */
    tensor *c = op_cast(y, DTYPE_BF16);
    tensor_scope_end(c);
    EXPECT(y->data == NULL && y->block == NULL, "the cast's float32 input still holds its storage");
    tensor *gy = tensor_full(SHAPE(4, 1000), 0.5f);
    ag_backward_with_grad(c, gy);
    tensor_scope_end(NULL);
    EXPECT(x->grad != NULL, "no gradient reached x through the freed intermediate");
    if (x->grad) {
        const float *g = tensor_f32(x->grad);
        for (int64_t i = 0; i < x->numel; i++)
            if (g[i] != 1.5f) { EXPECT(false, "x.grad[%lld] = %g, expected 1.5", (long long)i, g[i]); break; }
    }
    tensor_release(gy);
    tensor_release(x);
}
