/* test_cuda_elementwise.c: unary, scalar, silu, reparam and broadcasting binary ops on CUDA against the
 * CPU (output and every gradient, fp32 relative error < 1e-5); skipped loudly without a GPU. */
#include <math.h>
#include "core/ops/binary.h"
#include "core/ops/reparam.h"
#include "core/ops/scalar.h"
#include "core/ops/silu.h"
#include "core/ops/unary.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { const char *name; tensor *(*fn)(tensor *); int positive; } unary_case;

static tensor *clamp_fn(tensor *x) { return op_clamp(x, -0.5f, 0.7f); }
static tensor *add_s(tensor *x) { return op_add_scalar(x, 1.25f); }
static tensor *mul_s(tensor *x) { return op_mul_scalar(x, -0.75f); }
static tensor *rsub_s(tensor *x) { return op_rsub_scalar(x, 2.0f); }
static tensor *pow_s(tensor *x) { return op_pow_scalar(x, 1.5f); }
static const unary_case cases[] = {
    {"abs", op_abs, 0},   {"square", op_square, 0}, {"exp", op_exp, 0},          {"log", op_log, 1},
    {"sqrt", op_sqrt, 1}, {"neg", op_neg, 0},       {"clamp", clamp_fn, 0},      {"add_scalar", add_s, 0},
    {"mul_scalar", mul_s, 0}, {"rsub_scalar", rsub_s, 0}, {"pow_scalar", pow_s, 1}, {"silu", op_silu, 0},
};

static tensor *unary_fn(void *ctx, tensor **in) { return ((const unary_case *)ctx)->fn(in[0]); }

TEST(test_cuda_unary_scalar_silu_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        /* odd sizes: a partial last block; 70001 elements: several blocks */
        int64_t sizes[] = {7, 70001};
        for (int s = 0; s < 2; s++) {
            tensor *x = gc_input(SHAPE(sizes[s]), 500 + c * 2 + (uint64_t)s);
            float *d = tensor_f32(x);
            for (int64_t i = 0; i < x->numel; i++) {
                if (cases[c].positive) d[i] = fabsf(d[i]) + 0.2f;
                if (d[i] == 0.0f) d[i] = 0.3f;   /* abs' at 0 is a tie on both devices, but keep it simple */
            }
            char label[64];
            snprintf(label, sizeof label, "cuda_%s.n%lld", cases[c].name, (long long)sizes[s]);
            cuda_twin_check(label, unary_fn, (void *)&cases[c], 1, &x, NULL);
            tensor_release(x);
        }
    }
}

typedef struct { tensor *(*fn)(tensor *, tensor *); const char *name; } binary_case;
static const binary_case bins[] = {{op_add, "add"}, {op_sub, "sub"}, {op_mul, "mul"}, {op_div, "div"}};
static tensor *binary_fn(void *ctx, tensor **in) { return ((const binary_case *)ctx)->fn(in[0], in[1]); }

TEST(test_cuda_binary_broadcasting_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    /* same shape; bias over channels; per-sample scale; both sides broadcast; a large reduction (the
       block-per-output path of sum_to_shape) */
    struct { int na, nb; int64_t a[5], b[5]; } shapes[] = {
        {3, 3, {2, 3, 4}, {2, 3, 4}},
        {4, 1, {2, 5, 6, 8}, {8}},
        {5, 5, {2, 3, 4, 5, 6}, {2, 1, 1, 1, 1}},
        {3, 3, {4, 1, 6}, {1, 5, 1}},
        {3, 1, {64, 33, 16}, {16}},
    };
    for (size_t k = 0; k < sizeof bins / sizeof *bins; k++)
        for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
            tensor *a = gc_input(shapes[s].na, shapes[s].a, 600 + k * 10 + s);
            tensor *b = gc_input(shapes[s].nb, shapes[s].b, 700 + k * 10 + s);
            float *bd = tensor_f32(b);
            for (int64_t i = 0; i < b->numel; i++) bd[i] = bd[i] >= 0 ? bd[i] + 0.5f : bd[i] - 0.5f;   /* div */
            char label[64];
            snprintf(label, sizeof label, "cuda_%s.case%zu", bins[k].name, s);
            cuda_twin_check(label, binary_fn, (void *)&bins[k], 2, (tensor *[]){a, b}, NULL);
            tensor_release(a);
            tensor_release(b);
        }
}

/* op_reparam_sample draws eps on the host from the Philox stream and copies it: the CUDA sample must be
   the CPU sample. The closure restarts the generator so both runs draw the same numbers. */
static tensor *reparam_fn(void *ctx, tensor **in) {
    rng_state r = rng_seed(*(uint64_t *)ctx);
    return op_reparam_sample(in[0], in[1], &r);
}

TEST(test_cuda_reparam_sample_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *mean = gc_input(SHAPE(2, 3, 5, 7, 4), 801), *logvar = gc_input_scaled(SHAPE(2, 3, 5, 7, 4), 802, 0.5f);
    uint64_t seed = 1234;
    cuda_twin_check("cuda_reparam.sample", reparam_fn, &seed, 2, (tensor *[]){mean, logvar}, NULL);
    tensor_release(mean);
    tensor_release(logvar);
}
