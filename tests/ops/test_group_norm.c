/* test_group_norm.c: op_group_norm gradient checks (4-D and 5-D, groups 1..C, with and without affine),
   PyTorch goldens, numerical stability under a large offset, a bf16 input (autocast) against float32, and
   argument errors. */
#include <math.h>
#include <omp.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops/group_norm.h"
#include "core/mem.h"        // defines: mem_get_stats, mem_reset_peak
#include "core/ops/cast.h"   // defines: tensor_cast
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { int groups; float eps; } gn_args;

/* inputs: x, and optionally weight and bias (NULL entries stand for no affine) */
static tensor *gn_fn(void *ctx, tensor **in) {
    const gn_args *a = ctx;
    return op_group_norm(in[0], in[1], in[2], a->groups, a->eps);
}

/* affine: 0 none, 1 weight and bias, 2 weight only */
static void gn_gradcheck(const char *label, int ndim, const int64_t *shape, int groups, int affine, uint64_t seed) {
    const int64_t C = shape[ndim - 1];
    tensor *x = gc_input(ndim, shape, seed);
    tensor *w = affine ? gc_input_scaled(SHAPE(C), seed + 1, 0.5f) : NULL;
    tensor *b = affine == 1 ? gc_input_scaled(SHAPE(C), seed + 2, 0.5f) : NULL;
    if (w) for (int64_t c = 0; c < C; c++) tensor_f32(w)[c] += 1.0f;
    gn_args a = {groups, 1e-5f};
    char full[128];
    snprintf(full, sizeof full, "%s.g%d.affine%d", label, groups, affine);
    /* gradcheck wants the inputs it perturbs; the NULL slots go to op_group_norm unchanged */
    tensor *in[3] = {x, w, b};
    int n_in = 1 + (w != NULL) + (b != NULL);
    gradcheck(full, gn_fn, &a, n_in, in, NULL);
    tensor_release(x);
    tensor_release(w);
    tensor_release(b);
}

TEST(test_group_norm_grad_4d) {
    const int groups[] = {1, 2, 3, 6};   /* C=6: groups 3 has 2 channels per group, 6 has one */
    for (int i = 0; i < 4; i++)
        for (int affine = 0; affine < 3; affine++)
            gn_gradcheck("group_norm.4d", SHAPE(2, 3, 5, 6), groups[i], affine, 100 + (uint64_t)(10 * i + affine));
}

TEST(test_group_norm_grad_5d_spans_frames) {
    const int groups[] = {1, 2, 3, 6};
    for (int i = 0; i < 4; i++)
        for (int affine = 0; affine < 3; affine += 1)
            gn_gradcheck("group_norm.5d", SHAPE(2, 3, 3, 5, 6), groups[i], affine, 200 + (uint64_t)(10 * i + affine));
}

static void gn_golden(golden_file *g, const char *key, int groups, float eps) {
    gn_args a = {groups, eps};
    golden_check_op(g, key, gn_fn, &a, 3, (const char *[]){"x", "w", "b"}, (const char *[]){"gx", "gw", "gb"}, "y", 1e-5);
}

TEST(test_group_norm_matches_torch) {
    golden_file *g = golden_open("norm");
    gn_golden(g, "gn4", 4, 1e-6f);     /* (2,5,3,8), SDXL VAE eps */
    gn_golden(g, "gn5", 2, 1e-5f);     /* (2,3,4,5,8) video: statistics over all frames */
    gn_golden(g, "gn32", 32, 1e-6f);   /* (2,3,2,32), one channel per group */
    golden_close(g);
}

/* a large common offset must not cancel the variance (two-pass statistics in double) */
TEST(test_group_norm_stable_with_large_offset) {
    tensor *x = gc_input(SHAPE(1, 4, 4, 2), 7);
    x->requires_grad = false;
    float *xd = tensor_f32(x);
    for (int64_t i = 0; i < x->numel; i++) xd[i] = 1000.0f + 0.01f * xd[i];
    tensor *y = op_group_norm(x, NULL, NULL, 1, 1e-6f);
    const float *yd = tensor_f32(y);
    double m = 0, v = 0;
    for (int64_t i = 0; i < y->numel; i++) m += yd[i];
    m /= (double)y->numel;
    for (int64_t i = 0; i < y->numel; i++) v += (yd[i] - m) * (yd[i] - m);
    v /= (double)y->numel;
    EXPECT(fabs(m) < 1e-3 && fabs(v - 1.0) < 2e-2, "normalised output has mean %g variance %g", m, v);
    tensor_release(y);
    tensor_release(x);
}

TEST(test_group_norm_no_grad_records_nothing) {
    tensor *x = gc_input(SHAPE(2, 3, 3, 4), 9);
    bool prev = ag_set_grad_enabled(false);
    int before = ag_tape_size();
    tensor *y = op_group_norm(x, NULL, NULL, 2, 1e-5f);
    EXPECT(ag_tape_size() == before && !y->requires_grad, "group_norm recorded a node under no-grad");
    ag_set_grad_enabled(prev);
    tensor_release(y);
    tensor_release(x);
}

/* forward and all gradients bitwise equal with 1 and 2 threads (input big enough to run in parallel) */
static void gn_run(int threads, tensor *x, tensor *w, tensor *b, tensor *gy, tensor **y_out) {
    omp_set_num_threads(threads);
    tensor_scope_begin();
    tensor *y = op_group_norm(x, w, b, 8, 1e-6f);
    *y_out = tensor_clone(y);
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
}

static bool bit_equal(const tensor *a, const tensor *b) {
    return a && b && a->numel == b->numel && !memcmp(a->data, b->data, (size_t)a->numel * sizeof(float));
}

TEST(test_group_norm_same_result_any_thread_count) {
    const int prev = omp_get_max_threads();
    tensor *x = gc_input(SHAPE(2, 16, 17, 64), 301), *w = gc_input(SHAPE(64), 302), *b = gc_input(SHAPE(64), 303);
    tensor *gy = gc_input(SHAPE(2, 16, 17, 64), 304);
    gy->requires_grad = false;
    tensor *y1, *y2, *g1[3];
    tensor *in[3] = {x, w, b};
    gn_run(1, x, w, b, gy, &y1);
    for (int i = 0; i < 3; i++) { g1[i] = in[i]->grad; in[i]->grad = NULL; }
    gn_run(2, x, w, b, gy, &y2);
    omp_set_num_threads(prev);
    EXPECT(bit_equal(y1, y2), "forward differs between 1 and 2 threads");
    for (int i = 0; i < 3; i++) {
        EXPECT(bit_equal(g1[i], in[i]->grad), "gradient of input %d differs between 1 and 2 threads", i);
        tensor_release(g1[i]);
        tensor_release(in[i]);
    }
    tensor_release(y1);
    tensor_release(y2);
    tensor_release(gy);
}

static void gn_bad_groups(void *ctx) {
    tensor *x = tensor_zeros(SHAPE(1, 2, 2, 6));
    op_group_norm(x, NULL, NULL, 4, 1e-5f);
}

static void gn_bad_weight(void *ctx) {
    tensor *x = tensor_zeros(SHAPE(1, 2, 2, 6)), *w = tensor_zeros(SHAPE(5));
    op_group_norm(x, w, NULL, 3, 1e-5f);
}

TEST(test_group_norm_indivisible_groups_is_fatal) {
    EXPECT(test_expect_fatal(gn_bad_groups, NULL, "not divisible by groups"),
           "C=6 with 4 groups did not stop with a clear message");
    EXPECT(test_expect_fatal(gn_bad_weight, NULL, "weight must be (C)"),
           "a (5) weight for C=6 did not stop with a clear message");
}

/* under autocast a conv hands group norm its bf16 result: the statistics come from the values the bf16
 * tensor holds, so group norm on bf16 x must equal, bit for bit, group norm on x widened to float32 first
 * (widening is exact) -- output and every gradient; the result and x's gradient are float32 */
static void gn_bf16_run(tensor *x, tensor *w, tensor *b, const tensor *gy, tensor *out[4]) {
    x->requires_grad = w->requires_grad = b->requires_grad = true;
    tensor_scope_begin();
    tensor *y = op_group_norm(x, w, b, 4, 1e-6f);
    EXPECT(y->dtype == DTYPE_F32, "group norm of a %s x returned %s (float32 expected)", dtype_name(x->dtype),
           dtype_name(y->dtype));
    out[0] = tensor_clone(y);
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
    tensor *ins[3] = {x, w, b};
    for (int i = 0; i < 3; i++) {
        EXPECT(ins[i]->grad && ins[i]->grad->dtype == DTYPE_F32, "input %d of a %s group norm: gradient missing or "
               "not float32", i, dtype_name(x->dtype));
        out[i + 1] = ins[i]->grad;
        ins[i]->grad = NULL;
    }
}

/* the small shape runs serially; the large one in parallel blocks (N*S*C > 32768) over 144 positions, so the
   last block is a partial one */
TEST(test_group_norm_bf16_input_matches_f32) {
    const int64_t shapes[2][5] = {{2, 3, 5, 6, 16}, {1, 4, 6, 6, 64}};
    for (int k = 0; k < 2; k++) {
        const int64_t *shape = shapes[k];
        tensor *x = gc_input_scaled(5, shape, 77, 2.0f);
        for (int64_t i = 0; i < x->numel; i++) tensor_f32(x)[i] += 3.0f;   /* an offset, as conv outputs have */
        tensor *xb = tensor_cast(x, DTYPE_BF16), *xw = tensor_cast(xb, DTYPE_F32);
        tensor *w = gc_input(SHAPE(shape[4]), 78), *b = gc_input(SHAPE(shape[4]), 79), *gy = gc_input(5, shape, 80);
        gy->requires_grad = false;
        tensor *got[4], *ref[4];
        gn_bf16_run(xb, w, b, gy, got);
        gn_bf16_run(xw, w, b, gy, ref);
        const char *what[4] = {"output", "x gradient", "weight gradient", "bias gradient"};
        for (int j = 0; j < 4; j++) {
            EXPECT(got[j] && ref[j] && got[j]->numel == ref[j]->numel &&
                       memcmp(got[j]->data, ref[j]->data, (size_t)ref[j]->numel * sizeof(float)) == 0,
                   "group norm on bf16 x (%lld channels): the %s differs from group norm on x widened first",
                   (long long)shape[4], what[j]);
            tensor_release(got[j]);
            tensor_release(ref[j]);
        }
        tensor_release(x), tensor_release(xb), tensor_release(xw);
        tensor_release(w), tensor_release(b), tensor_release(gy);
    }
}

/* the CPU kernels read a bf16 x in place: the forward allocates the float32 result and nothing the size of a
   float32 copy of x besides (before, a widened copy lived through the call: peak y + copy) */
TEST(test_group_norm_bf16_input_makes_no_float32_copy) {
    const int64_t shape[5] = {1, 4, 32, 32, 64};   /* 1 MiB of float32 */
    tensor *x = gc_input(5, shape, 81);
    tensor *xb = tensor_cast(x, DTYPE_BF16);
    tensor_release(x);
    const size_t y_bytes = (size_t)xb->numel * sizeof(float);
    mem_stats before, after;
    mem_get_stats(DEVICE_CPU, &before);
    mem_reset_peak();
    tensor_scope_begin();
    tensor *y = op_group_norm(xb, NULL, NULL, 8, 1e-6f);
    EXPECT(y->dtype == DTYPE_F32 && y->numel == xb->numel, "group norm of bf16 x: a float32 result of x's size");
    mem_get_stats(DEVICE_CPU, &after);
    tensor_scope_end(NULL);
    const size_t grew = after.peak_total - before.in_use_total;
    EXPECT(grew < y_bytes + y_bytes / 4, "group norm of a bf16 x took %zu bytes at its peak for a %zu-byte result: a "
           "float32 copy of x was made", grew, y_bytes);
    tensor_release(xb);
}
