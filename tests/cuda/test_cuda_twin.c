/* test_cuda_twin.c: the CPU-versus-CUDA harness itself, run CPU against CPU so it is checked on every
 * machine: outputs and gradients of every input are compared, inputs keep their gradients untouched,
 * inputs without requires_grad get none, and ctx tensors pass through cuda_twin_arg. */
#include <stdlib.h>
#include "core/ops/binary.h"
#include "core/ops/silu.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

typedef struct { tensor *scale; int calls; } twin_ctx;

static tensor *scaled_silu(void *ctx, tensor **in) {
    twin_ctx *c = ctx;
    c->calls++;
    EXPECT(cuda_twin_arg(c->scale)->device == cuda_twin_device(), "cuda_twin_arg gave a tensor on the wrong device");
    return op_mul(op_silu(in[0]), op_add(in[1], cuda_twin_arg(c->scale)));
}

TEST(test_cuda_twin_harness_compares_cpu_with_itself) {
    tensor *x = gc_input(SHAPE(3, 4), 11), *b = gc_input(SHAPE(4), 12);
    twin_ctx c = {.scale = gc_input(SHAPE(3, 1), 13)};
    c.scale->requires_grad = false;
    int ok = cuda_twin_check_on(DEVICE_CPU, "twin_self.silu", scaled_silu, &c, 2, (tensor *[]){x, b}, NULL);
    EXPECT(ok == 1, "a CPU-vs-CPU twin check reported %d, expected 1 (a match)", ok);
    EXPECT(c.calls == 2, "the closure ran %d times, expected once per device", c.calls);
    EXPECT(x->grad == NULL && b->grad == NULL, "the harness left gradients on the caller's inputs");
    EXPECT(c.scale->grad == NULL, "a ctx tensor without requires_grad got a gradient");
    EXPECT(cuda_twin_device() == DEVICE_CPU, "the run device was not reset after the check");

    cuda_twin_opts fwd = {.no_backward = true};
    c.calls = 0;
    ok = cuda_twin_check_on(DEVICE_CPU, "twin_self.fwd", scaled_silu, &c, 2, (tensor *[]){x, b}, &fwd);
    EXPECT(ok == 1 && c.calls == 2, "forward-only twin check: result %d, %d calls", ok, c.calls);
    tensor_release(x);
    tensor_release(b);
    tensor_release(c.scale);
}

TEST(test_cuda_twin_skips_loudly_without_gpu) {
    if (device_cuda_available()) TEST_SKIP("a GPU is visible: the no-GPU path of the harness cannot run here");
    if (getenv("VAEC_CUDA_TWIN_ON_CPU")) TEST_SKIP("VAEC_CUDA_TWIN_ON_CPU is set: the harness does not skip");
    EXPECT(cuda_twin_skip_reason() != NULL, "no GPU, but the harness has no reason to skip");
    tensor *x = gc_input(SHAPE(2), 14);
    twin_ctx c = {.scale = gc_input(SHAPE(1), 15)};
    int r = cuda_twin_check("twin_self.skip", scaled_silu, &c, 2, (tensor *[]){x, x}, NULL);
    EXPECT(r == -1 && c.calls == 0, "without a GPU the check returned %d after %d calls (expected -1, 0)", r, c.calls);
    tensor_release(x);
    tensor_release(c.scale);
}
