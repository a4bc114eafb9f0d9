/* test_reparam.c: z = mean + exp(logvar/2) * eps: gradient checks, golden, reproducible sampling. */
#include <math.h>
#include <string.h>
#include "core/ops/reparam.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *reparam_fn(void *ctx, tensor **in) { return op_reparam_sample_eps(in[0], in[1], ctx); }

TEST(test_reparam_grad) {
    int64_t shapes[][5] = {{1, 1, 1, 1, 3}, {2, 3, 2, 5, 4}};
    for (int s = 0; s < 2; s++) {
        tensor *m = gc_input(5, shapes[s], 80), *lv = gc_input(5, shapes[s], 81), *eps = gc_input(5, shapes[s], 82);
        eps->requires_grad = false;
        gradcheck("reparam.grad", reparam_fn, eps, 2, (tensor *[]){m, lv}, NULL);
        tensor_release(m);
        tensor_release(lv);
        tensor_release(eps);
    }
}

TEST(test_reparam_matches_torch) {
    golden_file *g = golden_open("elem");
    tensor *eps = golden_get(g, "reparam.eps");
    golden_check_op(g, "reparam", reparam_fn, eps, 2, (const char *[]){"mean", "logvar"},
                    (const char *[]){"gmean", "glogvar"}, "z", 1e-6);
    tensor_release(eps);
    golden_close(g);
}

TEST(test_reparam_sampling_is_reproducible) {
    tensor *m = tensor_zeros(SHAPE(2, 3, 4, 4, 4)), *lv = tensor_zeros(SHAPE(2, 3, 4, 4, 4));
    tensor_scope_begin();
    rng_state a = rng_seed(5), b = rng_seed(5), c = rng_seed(6);
    tensor *za = op_reparam_sample(m, lv, &a), *zb = op_reparam_sample(m, lv, &b), *zc = op_reparam_sample(m, lv, &c);
    EXPECT(memcmp(za->data, zb->data, (size_t)za->numel * 4) == 0, "same seed, different samples");
    EXPECT(memcmp(za->data, zc->data, (size_t)za->numel * 4) != 0, "different seeds, same samples");
    /* logvar = 0 and mean = 0: z is N(0,1) */
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < za->numel; i++) { s += tensor_f32(za)[i]; s2 += tensor_f32(za)[i] * tensor_f32(za)[i]; }
    s /= (double)za->numel;
    s2 /= (double)za->numel;
    EXPECT(fabs(s) < 0.15 && fabs(s2 - 1) < 0.2, "sample mean %.3f, second moment %.3f", s, s2);
    tensor_scope_end(NULL);
    tensor_release(m);
    tensor_release(lv);
}

static void reparam_bad_shapes(void *ctx) {
    tensor *m = tensor_zeros(SHAPE(2, 4)), *lv = tensor_zeros(SHAPE(2, 3));
    rng_state r = rng_seed(1);
    op_reparam_sample(m, lv, &r);
}

TEST(test_reparam_mismatched_shapes_are_fatal) {
    EXPECT(test_expect_fatal(reparam_bad_shapes, NULL, "mean (2,4), logvar (2,3)"), "shapes must be named");
}
