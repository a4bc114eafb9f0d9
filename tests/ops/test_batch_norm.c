/* test_batch_norm.c: op_batch_norm (BatchNorm2d, channels-last) in training and eval mode: finite-difference
 * gradients of x, weight and bias, PyTorch goldens for the output, every gradient and the running statistics
 * the training mode leaves, thread-count independence, and the bad-argument messages. */
#include <string.h>
#include "autograd/autograd.h"
#include "core/cpu/threads.h"
#include "core/ops/batch_norm.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { bool training; tensor *rm, *rv; } bn_case;

static tensor *bn_fn(void *ctx, tensor **in) {
    bn_case *c = ctx;
    return op_batch_norm(in[0], in[1], in[2], c->rm, c->rv, c->training, 0.1f, 1e-5f);
}

static tensor *offset_input(int ndim, const int64_t *shape, uint64_t seed) {
    tensor *x = gc_input_scaled(ndim, shape, seed, 2.0f);
    float *p = tensor_f32(x);
    for (int64_t i = 0; i < x->numel; i++) p[i] += 0.7f;   /* a mean to remove */
    return x;
}

TEST(test_batch_norm_grad) {
    int64_t shapes[][4] = {{3, 4, 5, 6}, {2, 3, 3, 7}, {1, 2, 2, 1}};
    for (int k = 0; k < 3; k++) {
        for (int training = 1; training >= 0; training--) {
            const int64_t C = shapes[k][3];
            tensor *x = offset_input(4, shapes[k], 40 + (uint64_t)k), *w = gc_input(SHAPE(C), 50 + (uint64_t)k);
            tensor *b = gc_input(SHAPE(C), 60 + (uint64_t)k);
            bn_case c = {training, NULL, NULL};
            if (!training) {   /* eval: fixed running statistics */
                c.rm = tensor_full(SHAPE(C), 0.3f);
                c.rv = tensor_full(SHAPE(C), 1.7f);
            }
            char label[64];
            snprintf(label, sizeof label, "batch_norm.%s%d", training ? "train" : "eval", k);
            gradcheck(label, bn_fn, &c, 3, (tensor *[]){x, w, b}, NULL);
            tensor_release(c.rm);
            tensor_release(c.rv);
            tensor_release(x);
            tensor_release(w);
            tensor_release(b);
        }
    }
}

static void golden_case(golden_file *g, const char *key, bool training) {
    char k[64];
    snprintf(k, sizeof k, "%s.rm", key);
    bn_case c = {training, golden_get(g, k), NULL};
    snprintf(k, sizeof k, "%s.rv", key);
    c.rv = golden_get(g, k);
    golden_check_op(g, key, bn_fn, &c, 3, (const char *[]){"x", "w", "b"}, (const char *[]){"gx", "gw", "gb"}, "y", 1e-5);
    char label[64];
    snprintf(label, sizeof label, "%s.running_mean", key);
    snprintf(k, sizeof k, "%s.rm_after", key);
    golden_check(label, c.rm, g, k, 1e-6);
    snprintf(label, sizeof label, "%s.running_var", key);
    snprintf(k, sizeof k, "%s.rv_after", key);
    golden_check(label, c.rv, g, k, 1e-6);
    tensor_release(c.rm);
    tensor_release(c.rv);
}

TEST(test_batch_norm_matches_torch) {
    golden_file *g = golden_open("gan");
    golden_case(g, "bn_train", true);
    golden_case(g, "bn_train_odd", true);
    golden_case(g, "bn_eval", false);   /* the running statistics stay as they were */
    golden_close(g);
}

/* the partition of the sums is fixed by the shape: one thread and all threads give the same bits */
TEST(test_batch_norm_does_not_depend_on_threads) {
    tensor *x = offset_input(SHAPE(8, 32, 32, 16), 70);
    float *out[2];
    const int before = cpu_threads_apply(0);
    for (int run = 0; run < 2; run++) {
        cpu_threads_apply(run ? before : 1);
        tensor *rm = tensor_zeros(SHAPE(16)), *rv = tensor_full(SHAPE(16), 1.0f);
        tensor *y = op_batch_norm(x, NULL, NULL, rm, rv, true, 0.1f, 1e-5f);
        out[run] = malloc((size_t)(x->numel + 32) * sizeof(float));
        memcpy(out[run], tensor_f32(y), (size_t)x->numel * sizeof(float));
        memcpy(out[run] + x->numel, tensor_f32(rm), 16 * sizeof(float));
        memcpy(out[run] + x->numel + 16, tensor_f32(rv), 16 * sizeof(float));
        tensor_release(y);
        tensor_release(rm);
        tensor_release(rv);
    }
    cpu_threads_apply(before);
    EXPECT(!memcmp(out[0], out[1], (size_t)(x->numel + 32) * sizeof(float)), "batch_norm differs between 1 and %d threads",
           before);
    free(out[0]);
    free(out[1]);
    tensor_release(x);
}

static void bn_eval_without_stats(void *ctx) {
    (void)ctx;
    tensor *x = tensor_zeros(SHAPE(2, 3, 3, 4));
    op_batch_norm(x, NULL, NULL, NULL, NULL, false, 0.1f, 1e-5f);
}

static void bn_bad_weight(void *ctx) {
    (void)ctx;
    tensor *x = tensor_zeros(SHAPE(2, 3, 3, 4)), *w = tensor_zeros(SHAPE(5));
    op_batch_norm(x, w, NULL, NULL, NULL, true, 0.1f, 1e-5f);
}

static void bn_one_value(void *ctx) {
    (void)ctx;
    tensor *x = tensor_zeros(SHAPE(1, 1, 1, 4));
    op_batch_norm(x, NULL, NULL, NULL, NULL, true, 0.1f, 1e-5f);
}

TEST(test_batch_norm_bad_arguments_are_fatal) {
    EXPECT(test_expect_fatal(bn_eval_without_stats, NULL, "eval mode needs running_mean and running_var"),
           "eval without running statistics did not stop with a clear message");
    EXPECT(test_expect_fatal(bn_bad_weight, NULL, "weight must be (C) = (4)"), "a (5) weight for C=4 did not stop");
    EXPECT(test_expect_fatal(bn_one_value, NULL, "more than one value per channel"),
           "training on one value a channel did not stop");
}
