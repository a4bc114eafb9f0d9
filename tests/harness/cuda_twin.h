/* cuda_twin.h: run an op on the CPU and on CUDA with the same inputs and compare everything.
 *
 * cuda_twin_check() runs f on the given CPU inputs, backpropagates a seeded random output gradient,
 * then moves the inputs to the GPU (tensor_to, same requires_grad), runs f and the same backward there,
 * and compares the output and every input gradient with max|cuda - cpu| / max|cpu| <= tol (EXPECT; the
 * worst error goes to the summary table under the label's text before its first '.'). The CPU result is
 * the reference. Without a GPU it reports the test SKIPPED (loudly, with the reason) and returns -1: put
 * CUDA_TWIN_REQUIRE_GPU() first in the test so nothing else runs. With VAEC_CUDA_TWIN_ON_CPU=1 in the
 * environment the "CUDA" run happens on the CPU instead: a machine without a GPU checks the tests' own
 * closures and shapes that way (never the kernels).
 *
 *   static tensor *f(void *ctx, tensor **in) { return op_silu(in[0]); }
 *   TEST(test_cuda_silu) {
 *       CUDA_TWIN_REQUIRE_GPU();
 *       tensor *x = gc_input(SHAPE(2, 3, 5), 1);
 *       cuda_twin_check("cuda_silu.odd", f, NULL, 1, (tensor *[]){x}, NULL);
 *       tensor_release(x);
 *   }
 *
 * Tensors a closure needs besides its inputs (a fixed mask, a noise tensor) are kept on the CPU in ctx
 * and passed through cuda_twin_arg(), which hands back the tensor itself on the CPU run and a copy on
 * the GPU for the CUDA run. f runs exactly once per device (CPU first), so a closure that draws random
 * numbers must reset its generator itself on each call. TF32 is the caller's business: kernels compared here must run in full fp32.
 */
#ifndef VAEC_CUDA_TWIN_H
#define VAEC_CUDA_TWIN_H
#include <stdbool.h>
#include <stdint.h>
#include "core/tensor.h"              // defines: tensor, device_t
#include "tests/harness/gradcheck.h"  // defines: gc_fn
#include "tests/harness/test.h"       // defines: TEST_SKIP

typedef struct {
    double tol;        /* output: max|cuda - cpu| / max|cpu|; default 1e-5 (fp32). bf16 runs: 1e-2 */
    double grad_tol;   /* gradients; default: tol */
    uint64_t seed;     /* output-gradient seed; 0: derived from the label */
    bool no_backward;  /* forward only (an output that does not require grad) */
    dtype_t dtype;     /* DTYPE_BF16: float32 inputs go to the GPU as bf16 (the CPU run stays float32), the
                          output gradient in the output's dtype; results are compared as float32 */
} cuda_twin_opts;

/* 1: everything matched; 0: a mismatch (reported through EXPECT); -1: skipped, no GPU. */
int cuda_twin_check(const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs, const cuda_twin_opts *opts);

/* The same with the second run on `twin`; DEVICE_CPU runs the harness's own test on any machine. */
int cuda_twin_check_on(device_t twin, const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs,
                       const cuda_twin_opts *opts);

device_t cuda_twin_device(void);      /* the device of the run in progress (CPU outside a check) */
tensor *cuda_twin_arg(tensor *cpu);   /* cpu on the CPU run; an autoreleased GPU copy on the CUDA run */

/* The reason a CUDA test cannot run here, or NULL when a GPU is visible. */
const char *cuda_twin_skip_reason(void);
#define CUDA_TWIN_REQUIRE_GPU()                                \
    do {                                                       \
        const char *why_ = cuda_twin_skip_reason();            \
        if (why_) TEST_SKIP(why_);                             \
    } while (0)

#endif
