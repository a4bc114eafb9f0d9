/* test_silu.c: op_silu gradient check and PyTorch golden (the template for op tests). */
#include "autograd/autograd.h"
#include "core/ops/silu.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static tensor *silu_fn(void *ctx, tensor **in) { return op_silu(in[0]); }

TEST(test_silu_grad) {
    int64_t shapes[][5] = {{1, 1, 1, 1, 7}, {2, 3, 5, 1, 3}};
    for (int i = 0; i < 2; i++) {
        tensor *x = gc_input(5, shapes[i], 10 + (uint64_t)i);
        gradcheck("silu.grad", silu_fn, NULL, 1, &x, NULL);
        tensor_release(x);
    }
}

TEST(test_silu_matches_torch) {
    golden_file *g = golden_open("silu");
    tensor *x = golden_leaf(g, "silu.x"), *gy = golden_get(g, "silu.gy");
    tensor_scope_begin();
    tensor *y = op_silu(x);
    golden_check("silu.fwd", y, g, "silu.y", 1e-6);
    ag_backward_with_grad(y, gy);
    tensor_scope_end(NULL);
    golden_check("silu.bwd", x->grad, g, "silu.gx", 1e-6);
    tensor_release(x);
    tensor_release(gy);
    golden_close(g);
}
