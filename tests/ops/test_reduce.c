/* test_reduce.c: sum/mean over dims and over everything: gradient checks, goldens, determinism. */
#include <omp.h>
#include <string.h>
#include "core/ops/reduce.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { const char *name; int n; int dims[4]; bool keep; bool all; } red_case;
static const red_case cases[] = {
    {"d1", 1, {1}, false, false},  {"d1k", 1, {1}, true, false},        {"d02", 2, {0, 2}, false, false},
    {"neg", 1, {-1}, false, false}, {"most", 3, {0, 1, 3}, true, false}, {"all", 0, {0}, false, true},
};

static tensor *sum_fn(void *ctx, tensor **in) {
    const red_case *c = ctx;
    return c->all ? op_sum_all(in[0]) : op_sum(in[0], c->n, c->dims, c->keep);
}
static tensor *mean_fn(void *ctx, tensor **in) {
    const red_case *c = ctx;
    return c->all ? op_mean_all(in[0]) : op_mean(in[0], c->n, c->dims, c->keep);
}

TEST(test_reduce_grad) {
    for (int c = 0; c < 6; c++) {
        tensor *x = gc_input(SHAPE(3, 4, 5, 2), 70 + (uint64_t)c);
        gradcheck("sum.grad", sum_fn, (void *)&cases[c], 1, &x, NULL);
        gradcheck("mean.grad", mean_fn, (void *)&cases[c], 1, &x, NULL);
        tensor_release(x);
    }
}

TEST(test_reduce_matches_torch) {
    golden_file *g = golden_open("elem");
    for (int c = 0; c < 6; c++) {
        char prefix[64];
        snprintf(prefix, sizeof prefix, "sum.%s", cases[c].name);
        golden_check_op(g, prefix, sum_fn, (void *)&cases[c], 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
        snprintf(prefix, sizeof prefix, "mean.%s", cases[c].name);
        golden_check_op(g, prefix, mean_fn, (void *)&cases[c], 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
    }
    golden_close(g);
}

TEST(test_reduce_same_result_any_thread_count) {
    tensor *x = gc_input(SHAPE(1000003), 77);
    x->requires_grad = false;
    tensor *y = tensor_zeros(SHAPE(7, 1000, 33));
    memcpy(y->data, x->data, (size_t)y->numel * 4);
    int saved = omp_get_max_threads();
    float r[2][2];
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        tensor_scope_begin();
        r[t][0] = tensor_f32(op_sum_all(x))[0];
        tensor *s = op_sum(y, 2, (int[]){0, 2}, false);
        r[t][1] = tensor_f32(s)[999];
        tensor_scope_end(NULL);
    }
    omp_set_num_threads(saved);
    EXPECT(memcmp(r[0], r[1], sizeof r[0]) == 0, "sum differs between 1 and 2 threads: %.9g vs %.9g",
           r[0][0], r[1][0]);
    tensor_release(x);
    tensor_release(y);
}
