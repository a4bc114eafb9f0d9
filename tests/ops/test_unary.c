/* test_unary.c: abs, square, exp, log, sqrt, neg, clamp: gradient checks and PyTorch goldens. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops/unary.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { const char *name; tensor *(*fn)(tensor *); int positive; float kink[2]; int nkinks; } unary_case;

static tensor *clamp_fn(tensor *x) { return op_clamp(x, -0.5f, 0.7f); }
static const unary_case cases[] = {
    {"abs", op_abs, 0, {0, 0}, 1}, {"square", op_square, 0, {0}, 0}, {"exp", op_exp, 0, {0}, 0},
    {"log", op_log, 1, {0}, 0},    {"sqrt", op_sqrt, 1, {0}, 0},     {"neg", op_neg, 0, {0}, 0},
    {"clamp", clamp_fn, 0, {-0.5f, 0.7f}, 2},
};

static tensor *unary_fn(void *ctx, tensor **in) { return ((const unary_case *)ctx)->fn(in[0]); }

/* inputs kept away from kinks (abs at 0, clamp bounds) and positive where the domain needs it */
static tensor *input_for(const unary_case *c, int nd, const int64_t *shape, uint64_t seed) {
    tensor *x = gc_input(nd, shape, seed);
    float *d = tensor_f32(x);
    for (int64_t i = 0; i < x->numel; i++) {
        if (c->positive) d[i] = fabsf(d[i]) + 0.2f;
        for (int k = 0; k < c->nkinks; k++)
            if (fabsf(d[i] - c->kink[k]) < 0.1f) d[i] = c->kink[k] + (d[i] >= c->kink[k] ? 0.2f : -0.2f);
    }
    return x;
}

TEST(test_unary_grad) {
    int64_t shapes[][3] = {{1, 1, 7}, {3, 5, 2}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        for (int s = 0; s < 2; s++) {
            tensor *x = input_for(&cases[c], 3, shapes[s], 30 + c * 2 + (uint64_t)s);
            char label[64];
            snprintf(label, sizeof label, "%s.grad", cases[c].name);
            gradcheck(label, unary_fn, (void *)&cases[c], 1, &x, &(gc_opts){.eps = 1e-3});
            tensor_release(x);
        }
}

TEST(test_unary_matches_torch) {
    golden_file *g = golden_open("elem");
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++)
        golden_check_op(g, cases[c].name, unary_fn, (void *)&cases[c], 1, (const char *[]){"x"},
                        (const char *[]){"gx"}, "y", 1e-6);
    golden_close(g);
}

TEST(test_abs_grad_at_zero_is_zero) {
    tensor *x = tensor_zeros(SHAPE(3));
    x->requires_grad = true;
    tensor_scope_begin();
    tensor *y = op_abs(x);
    ag_backward_with_grad(y, tensor_autorelease(tensor_full(SHAPE(3), 1.0f)));
    tensor_scope_end(NULL);
    EXPECT(tensor_f32(x->grad)[0] == 0.0f, "abs'(0) = %g, PyTorch gives 0", tensor_f32(x->grad)[0]);
    tensor_release(x);
}

/* PyTorch's rule at the bounds: the gradient passes where lo <= x <= hi; NaN stays NaN */
TEST(test_clamp_grad_passes_at_bounds_and_keeps_nan) {
    tensor *x = tensor_from_data(SHAPE(5), (float[]){-0.6f, -0.5f, 0.0f, 0.7f, 0.9f});
    x->requires_grad = true;
    tensor_scope_begin();
    tensor *y = op_clamp(x, -0.5f, 0.7f);
    ag_backward_with_grad(y, tensor_autorelease(tensor_full(SHAPE(5), 1.0f)));
    const float want_y[5] = {-0.5f, -0.5f, 0.0f, 0.7f, 0.7f}, want_g[5] = {0, 1, 1, 1, 0};
    for (int i = 0; i < 5; i++)
        EXPECT(tensor_f32(y)[i] == want_y[i] && tensor_f32(x->grad)[i] == want_g[i], "clamp at %d: y %g grad %g", i,
               tensor_f32(y)[i], tensor_f32(x->grad)[i]);
    tensor *n = tensor_autorelease(tensor_from_data(SHAPE(1), (float[]){NAN}));
    EXPECT(isnan(tensor_f32(op_clamp(n, -1.0f, 1.0f))[0]), "clamp(NaN) must stay NaN");
    tensor_scope_end(NULL);
    tensor_release(x);
}
