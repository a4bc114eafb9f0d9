/* test_scalar.c: add/mul/rsub/pow with a constant: gradient checks and PyTorch goldens. */
#include <math.h>
#include "core/ops/scalar.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *add_fn(void *c, tensor **in) { return op_add_scalar(in[0], 1.5f); }
static tensor *mul_fn(void *c, tensor **in) { return op_mul_scalar(in[0], -2.5f); }
static tensor *rsub_fn(void *c, tensor **in) { return op_rsub_scalar(in[0], 3.0f); }
static tensor *pow_fn(void *c, tensor **in) { return op_pow_scalar(in[0], 1.7f); }
static const struct { const char *name; gc_fn fn; } cases[] = {
    {"add_scalar", add_fn}, {"mul_scalar", mul_fn}, {"rsub_scalar", rsub_fn}, {"pow_scalar", pow_fn}};

TEST(test_scalar_ops_grad) {
    for (int c = 0; c < 4; c++) {
        tensor *x = gc_input(SHAPE(2, 3, 5), 50 + (uint64_t)c);
        float *d = tensor_f32(x);
        for (int64_t i = 0; i < x->numel; i++) d[i] = fabsf(d[i]) + 0.2f;   /* pow's domain */
        char label[64];
        snprintf(label, sizeof label, "%s.grad", cases[c].name);
        gradcheck(label, cases[c].fn, NULL, 1, &x, &(gc_opts){.eps = 1e-3});
        tensor_release(x);
    }
}

TEST(test_scalar_ops_match_torch) {
    golden_file *g = golden_open("elem");
    for (int c = 0; c < 4; c++)
        golden_check_op(g, cases[c].name, cases[c].fn, NULL, 1, (const char *[]){"x"}, (const char *[]){"gx"}, "y", 1e-6);
    golden_close(g);
}

static tensor *pow3_fn(void *c, tensor **in) { return op_pow_scalar(in[0], 3.0f); }
static tensor *pow0_fn(void *c, tensor **in) { return op_pow_scalar(in[0], 0.0f); }

/* integer exponents take negative bases; x^0 has gradient 0 everywhere (as PyTorch) */
TEST(test_pow_scalar_integer_exponent_negative_base_and_zero_exponent) {
    tensor *x = gc_input(SHAPE(3, 4), 60);
    gradcheck("pow_scalar.int3", pow3_fn, NULL, 1, &x, &(gc_opts){.eps = 1e-3});
    gradcheck("pow_scalar.zero", pow0_fn, NULL, 1, &x, &(gc_opts){.eps = 1e-3});
    tensor_scope_begin();
    tensor *y = pow0_fn(NULL, &x);
    for (int64_t i = 0; i < y->numel; i++) EXPECT(tensor_f32(y)[i] == 1.0f, "x^0 = %g", tensor_f32(y)[i]);
    tensor_scope_end(NULL);
    tensor_release(x);
}
