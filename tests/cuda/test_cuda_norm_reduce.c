/* test_cuda_norm_reduce.c: group_norm (4-D and 5-D, with and without affine), softmax and sum/mean on
 * CUDA against the CPU (output and every gradient, fp32 relative error < 1e-5); skipped loudly without
 * a GPU. Sizes are chosen to reach the multi-chunk paths of the deterministic reductions. group_norm of a
 * bf16 x (autocast hands it a conv's bf16 result) too: both devices widen the same bf16 values. */
#include "core/ops/group_norm.h"
#include "core/ops/cast.h"   // defines: op_cast
#include "core/ops/reduce.h"
#include "core/ops/softmax.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { int groups; int affine; } gn_case;

static tensor *gn_fn(void *ctx, tensor **in) {
    const gn_case *c = ctx;
    return op_group_norm(in[0], c->affine ? in[1] : NULL, c->affine ? in[2] : NULL, c->groups, 1e-6f);
}

/* x rounded to bf16 on each device first, as a bf16 conv result reaches the norm under autocast */
static tensor *gn_bf16_fn(void *ctx, tensor **in) {
    const gn_case *c = ctx;
    return op_group_norm(op_cast(in[0], DTYPE_BF16), in[1], in[2], c->groups, 1e-6f);
}

TEST(test_cuda_group_norm_bf16_input_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    const int64_t shape[5] = {1, 5, 48, 48, 32};
    gn_case c = {8, 1};
    tensor *x = gc_input_scaled(5, shape, 930, 2.0f);
    tensor *w = gc_input(SHAPE(32), 931), *b = gc_input(SHAPE(32), 932);
    cuda_twin_check("cuda_group_norm.bf16_x", gn_bf16_fn, &c, 3, (tensor *[]){x, w, b}, NULL);
    tensor_release(x), tensor_release(w), tensor_release(b);
}

TEST(test_cuda_group_norm_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    struct { int nd; int64_t shape[5]; gn_case c; } cases[] = {
        {4, {2, 5, 7, 8}, {4, 1}},          /* images, Cg = 2 */
        {5, {2, 3, 4, 6, 12}, {3, 1}},      /* video: statistics span the frames */
        {4, {1, 3, 3, 6}, {6, 0}},          /* one channel per group, no affine */
        {5, {1, 5, 48, 48, 32}, {8, 1}},    /* 46080 elements a group: several chunks per group */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        int64_t C = cases[k].shape[cases[k].nd - 1];
        tensor *x = gc_input_scaled(cases[k].nd, cases[k].shape, 900 + k, 2.0f);
        float *xd = tensor_f32(x);
        for (int64_t i = 0; i < x->numel; i++) xd[i] += 0.7f;   /* an offset: the two-pass variance matters */
        tensor *w = gc_input(SHAPE(C), 910 + k), *b = gc_input(SHAPE(C), 920 + k);
        char label[64];
        snprintf(label, sizeof label, "cuda_group_norm.case%zu", k);
        cuda_twin_check(label, gn_fn, &cases[k].c, cases[k].c.affine ? 3 : 1, (tensor *[]){x, w, b}, NULL);
        tensor_release(x);
        tensor_release(w);
        tensor_release(b);
    }
}

static tensor *softmax_fn(void *ctx, tensor **in) { return op_softmax(in[0]); }

TEST(test_cuda_softmax_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    int64_t shapes[][3] = {{3, 4, 5}, {2, 64, 1000}, {1, 3, 4099}};   /* short rows, long rows, D > threads*16 */
    for (int k = 0; k < 3; k++) {
        tensor *x = gc_input_scaled(3, shapes[k], 950 + (uint64_t)k, 3.0f);
        char label[64];
        snprintf(label, sizeof label, "cuda_softmax.case%d", k);
        cuda_twin_check(label, softmax_fn, NULL, 1, &x, NULL);
        tensor_release(x);
    }
}

typedef struct { int n; int dims[3]; bool keepdim, mean, all; } reduce_case;

static tensor *reduce_fn(void *ctx, tensor **in) {
    const reduce_case *c = ctx;
    if (c->all) return c->mean ? op_mean_all(in[0]) : op_sum_all(in[0]);
    return c->mean ? op_mean(in[0], c->n, c->dims, c->keepdim) : op_sum(in[0], c->n, c->dims, c->keepdim);
}

TEST(test_cuda_sum_mean_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    reduce_case cases[] = {
        {1, {-1}, false, false, false}, {2, {0, 2}, true, true, false}, {1, {1}, false, true, false},
        {3, {0, 1, 2}, false, false, false},   /* every dim but the last: a per-channel sum */
        {0, {0}, false, false, true},          {0, {0}, false, true, true},
    };
    int64_t shapes[][4] = {{3, 5, 7, 4}, {4, 130, 97, 16}};   /* the second: 807K elements, 13 chunks */
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++)
        for (int s = 0; s < 2; s++) {
            tensor *x = gc_input(4, shapes[s], 960 + k * 2 + (uint64_t)s);
            char label[64];
            snprintf(label, sizeof label, "cuda_reduce.case%zu_%d", k, s);
            cuda_twin_check(label, reduce_fn, &cases[k], 1, &x, NULL);
            tensor_release(x);
        }
}
