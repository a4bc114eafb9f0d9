/* test_cuda_vgg_ops.c: relu and max_pool2d (LPIPS's VGG16) on CUDA against the CPU: output and input
 * gradient, with odd sizes (the floor of max_pool) and tied windows (the first maximum wins on both);
 * skipped loudly without a GPU. */
#include "core/ops/max_pool.h"
#include "core/ops/relu.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *relu_fn(void *ctx, tensor **in) { (void)ctx; return op_relu(in[0]); }
static tensor *pool_fn(void *ctx, tensor **in) { (void)ctx; return op_max_pool2d(in[0]); }

TEST(test_cuda_relu_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(3, 7, 9, 5), 901);
    cuda_twin_check("cuda_relu.odd", relu_fn, NULL, 1, &x, NULL);
    tensor_release(x);
    x = gc_input(SHAPE(2, 64, 64, 64), 902);   /* many blocks */
    cuda_twin_check("cuda_relu.big", relu_fn, NULL, 1, &x, NULL);
    tensor_release(x);
}

TEST(test_cuda_max_pool2d_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(2, 9, 7, 6), 903);   /* odd H and W: the last row and column are dropped */
    cuda_twin_check("cuda_max_pool2d.odd", pool_fn, NULL, 1, &x, NULL);
    tensor_release(x);
    x = gc_input(SHAPE(1, 8, 8, 4), 904);
    float *d = tensor_f32(x);
    for (int64_t i = 0; i < x->numel / 2; i++) d[i] = 0.5f;   /* tied windows: the gradient goes to the first */
    cuda_twin_check("cuda_max_pool2d.ties", pool_fn, NULL, 1, &x, NULL);
    tensor_release(x);
    x = gc_input(SHAPE(2, 64, 64, 64), 905);
    cuda_twin_check("cuda_max_pool2d.big", pool_fn, NULL, 1, &x, NULL);
    tensor_release(x);
}
