/* test_cuda_shape.c: pad, slice, concat, reshape, permute, depth_to_time and upsample_nearest2x on CUDA
 * against the CPU (output and every gradient; these only move data, so the match is exact); skipped
 * loudly without a GPU. The same on bf16 inputs (tests/harness/shape_bf16_cases.h): carried through as
 * bf16 or widened, the values and float32 gradients must match the CPU's bit for bit. */
#include "core/ops/pad.h"
#include "core/ops/shape.h"
#include "core/ops/silu.h"
#include "core/ops/slice.h"
#include "core/ops/upsample.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/shape_bf16_cases.h"   // defines: shape_bf16_cases
#include "core/ops/cast.h"                    // defines: op_cast

static const cuda_twin_opts exact = {.tol = 1e-30};   /* data movement: bit for bit */

static tensor *pad_causal(void *ctx, tensor **in) {
    return op_pad(in[0], (int64_t[]){0, 0, 2, 0, 0, 0, 0, 0, 0, 0}, 0.0f);   /* CausalConv3d's time pad */
}
static tensor *pad_down(void *ctx, tensor **in) {
    return op_pad(in[0], (int64_t[]){0, 0, 0, 1, 0, 1, 0, 0}, -1.5f);        /* Downsample2D's (0,1,0,1) */
}

TEST(test_cuda_pad_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *v = gc_input(SHAPE(2, 3, 5, 6, 4), 1001), *im = gc_input(SHAPE(2, 7, 9, 3), 1002);
    cuda_twin_check("cuda_pad.causal", pad_causal, NULL, 1, &v, &exact);
    cuda_twin_check("cuda_pad.down", pad_down, NULL, 1, &im, &exact);
    tensor_release(v);
    tensor_release(im);
}

static tensor *slice_fn(void *ctx, tensor **in) {
    const int *a = ctx;
    return op_slice(in[0], a[0], a[1], a[2]);
}
/* concat of three, the middle one through silu so a non-leaf's gradient flows too */
static tensor *concat_fn(void *ctx, tensor **in) {
    int dim = *(const int *)ctx;
    return op_concat(3, (tensor *[]){in[0], op_silu(in[1]), in[2]}, dim);
}

TEST(test_cuda_slice_concat_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(2, 9, 4, 5, 3), 1010);
    int slices[][3] = {{1, 2, 7}, {-1, 1, 2}, {0, 1, 2}, {3, 0, 5}};
    for (int k = 0; k < 4; k++) {
        char label[64];
        snprintf(label, sizeof label, "cuda_slice.case%d", k);
        cuda_twin_check(label, slice_fn, slices[k], 1, &x, &exact);
    }
    tensor_release(x);
    for (int dim = 0; dim < 4; dim++) {
        int64_t sa[4] = {2, 3, 4, 5}, sb[4] = {2, 3, 4, 5}, sc[4] = {2, 3, 4, 5};
        sb[dim] = 1;
        sc[dim] = 4;
        tensor *a = gc_input(4, sa, 1020 + (uint64_t)dim), *b = gc_input(4, sb, 1030 + (uint64_t)dim),
               *c = gc_input(4, sc, 1040 + (uint64_t)dim);
        char label[64];
        snprintf(label, sizeof label, "cuda_concat.dim%d", dim);
        /* silu on the GPU is not bit-exact with glibc's expf: 1e-5 here */
        cuda_twin_check(label, concat_fn, &dim, 3, (tensor *[]){a, b, c}, NULL);
        tensor_release(a);
        tensor_release(b);
        tensor_release(c);
    }
}

static tensor *permute_fn(void *ctx, tensor **in) { return op_permute(in[0], (const int *)ctx); }
static tensor *d2t_fn(void *ctx, tensor **in) { return op_depth_to_time(in[0], 4); }
/* reshape is a view: its gradient reaches the input through a permute, which needs a real layout */
static tensor *reshape_fn(void *ctx, tensor **in) {
    tensor *r = op_reshape(in[0], 3, (int64_t[]){6, -1, 5});
    return op_permute(r, (int[]){2, 0, 1});
}

TEST(test_cuda_permute_reshape_depth_to_time_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(2, 3, 4, 5, 6), 1050);
    int perms[][5] = {{0, 4, 1, 2, 3}, {0, 2, 3, 4, 1}, {4, 3, 2, 1, 0}, {0, 1, 2, 4, 3}};
    for (int k = 0; k < 4; k++) {
        char label[64];
        snprintf(label, sizeof label, "cuda_permute.case%d", k);
        cuda_twin_check(label, permute_fn, perms[k], 1, &x, &exact);
    }
    cuda_twin_check("cuda_reshape.view", reshape_fn, NULL, 1, &x, &exact);
    tensor *v = gc_input(SHAPE(1, 2, 3, 5, 16), 1051);
    cuda_twin_check("cuda_depth_to_time.ts4", d2t_fn, NULL, 1, &v, &exact);
    tensor_release(x);
    tensor_release(v);
}

static tensor *up_fn(void *ctx, tensor **in) { return op_upsample_nearest2x(in[0]); }

TEST(test_cuda_upsample_nearest2x_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *im = gc_input(SHAPE(2, 5, 7, 3), 1060), *v = gc_input(SHAPE(1, 3, 4, 6, 8), 1061);
    cuda_twin_check("cuda_upsample.image", up_fn, NULL, 1, &im, &exact);
    cuda_twin_check("cuda_upsample.video", up_fn, NULL, 1, &v, &exact);
    tensor_release(im);
    tensor_release(v);
}

/* a case on its inputs rounded to bf16 on each device; the result widened so that the twins compare float32 */
static tensor *bf16_case(void *ctx, tensor **in) {
    const shape_bf16_case *c = ctx;
    tensor *x[2];
    for (int i = 0; i < c->n; i++) x[i] = op_cast(in[i], DTYPE_BF16);
    return op_cast(c->f(x), DTYPE_F32);
}

TEST(test_cuda_shape_ops_bf16_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    for (int k = 0; k < N_SHAPE_BF16_CASES; k++) {
        const shape_bf16_case *c = &shape_bf16_cases[k];
        tensor *in[2];
        for (int i = 0; i < c->n; i++) in[i] = gc_input(c->ndim, c->shape[i], 1100 + 2 * k + i);
        char label[64];
        snprintf(label, sizeof label, "cuda_shape_bf16.%s", c->name);
        cuda_twin_check(label, bf16_case, (void *)c, c->n, in, &exact);
        for (int i = 0; i < c->n; i++) tensor_release(in[i]);
    }
}
