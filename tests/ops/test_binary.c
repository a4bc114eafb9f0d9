/* test_binary.c: add/sub/mul/div with broadcasting: gradient checks, PyTorch goldens, bad shapes. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops/binary.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef tensor *(*binop)(tensor *, tensor *);
static const char *names[] = {"add", "sub", "mul", "div"};
static const binop fns[] = {op_add, op_sub, op_mul, op_div};

static tensor *bin_fn(void *ctx, tensor **in) { return (*(const binop *)ctx)(in[0], in[1]); }

/* b bounded away from zero so div's finite differences stay smooth */
static tensor *nonzero(int nd, const int64_t *shape, uint64_t seed) {
    tensor *t = gc_input(nd, shape, seed);
    float *d = tensor_f32(t);
    for (int64_t i = 0; i < t->numel; i++) d[i] = d[i] >= 0 ? d[i] + 0.5f : d[i] - 0.5f;
    return t;
}

TEST(test_binary_grad_broadcasting) {
    struct { int na, nb; int64_t a[5], b[5]; } cases[] = {
        {3, 3, {2, 3, 4}, {2, 3, 4}}, {3, 1, {2, 3, 4}, {4}}, {3, 3, {2, 1, 4}, {1, 3, 1}},
        {2, 2, {5, 1}, {1, 4}}, {5, 1, {2, 3, 2, 3, 5}, {5}}, {2, 1, {3, 4}, {1}}, {1, 3, {4}, {2, 3, 4}},
    };
    for (int c = 0; c < 7; c++)
        for (int k = 0; k < 4; k++) {
            tensor *a = gc_input(cases[c].na, cases[c].a, 100 + (uint64_t)c), *b = nonzero(cases[c].nb, cases[c].b, 200 + (uint64_t)c);
            char label[64];
            snprintf(label, sizeof label, "%s.grad%d", names[k], c);
            gradcheck(label, bin_fn, (void *)&fns[k], 2, (tensor *[]){a, b}, NULL);
            tensor_release(a);
            tensor_release(b);
        }
}

TEST(test_binary_matches_torch) {
    golden_file *g = golden_open("elem");
    const char *cases[] = {"same", "trail", "outer", "col_row", "chan", "scalar"};
    for (int c = 0; c < 6; c++)
        for (int k = 0; k < 4; k++) {
            char prefix[64];
            snprintf(prefix, sizeof prefix, "%s.%s", names[k], cases[c]);
            golden_check_op(g, prefix, bin_fn, (void *)&fns[k], 2, (const char *[]){"a", "b"},
                            (const char *[]){"ga", "gb"}, "y", 1e-6);
        }
    golden_close(g);
}

static void bad_broadcast(void *ctx) {
    tensor *a = tensor_zeros(SHAPE(2, 3)), *b = tensor_zeros(SHAPE(4));
    op_add(a, b);
}

TEST(test_binary_incompatible_shapes_are_fatal) {
    EXPECT(test_expect_fatal(bad_broadcast, NULL, "add: shapes (2,3) and (4) cannot be broadcast"),
           "incompatible shapes must name both");
}

static tensor *square_by_mul(void *ctx, tensor **in) { return op_mul(in[0], in[0]); }

TEST(test_mul_grad_same_tensor_twice) {
    tensor *x = gc_input(SHAPE(2, 5), 90);
    gradcheck("mul.same_tensor", square_by_mul, NULL, 1, &x, NULL);
    tensor_release(x);
}

/* large broadcasts (the threaded row walk and the gradient reduction) against plain loops */
TEST(test_binary_broadcast_large_matches_naive) {
    tensor *a = gc_input(SHAPE(3, 17, 33, 24), 91), *b = gc_input(SHAPE(17, 1, 24), 92);
    tensor_scope_begin();
    tensor *y = op_mul(a, b);
    tensor *gy = tensor_autorelease(gc_input(SHAPE(3, 17, 33, 24), 93));
    gy->requires_grad = false;
    ag_backward_with_grad(y, gy);
    const float *ad = tensor_f32(a), *bd = tensor_f32(b), *yd = tensor_f32(y), *g = tensor_f32(gy), *gb = tensor_f32(b->grad);
    int64_t bad = 0;
    double worst_gb = 0;
    for (int64_t t = 0; t < 17; t++)
        for (int64_t c = 0; c < 24; c++) {
            double s = 0;
            for (int64_t n = 0; n < 3; n++)
                for (int64_t h = 0; h < 33; h++) {
                    int64_t i = ((n * 17 + t) * 33 + h) * 24 + c;
                    bad += yd[i] != ad[i] * bd[t * 24 + c];
                    s += (double)g[i] * ad[i];
                }
            worst_gb = fmax(worst_gb, fabs(s - gb[t * 24 + c]) / fmax(1.0, fabs(s)));
        }
    EXPECT(bad == 0, "large broadcast: %lld products wrong", (long long)bad);
    EXPECT(worst_gb < 1e-5, "large broadcast: reduced gradient off by %.3e", worst_gb);
    tensor_scope_end(NULL);
    tensor_release(a);
    tensor_release(b);
}
