/* cuda_bf16_twin.h: an op with bf16 operands on CUDA against the same op in fp32 on the CPU.
 *
 * The fp32 inputs are first rounded to bf16 (tensor_to_dtype), so both runs see the same values: the CPU
 * runs on those values in fp32 (the reference), the GPU on the bf16 tensors. The output (bf16 on the GPU)
 * and every input gradient (fp32 on both) must agree within tol, max|cuda - cpu| / max|cpu| (1e-2 for
 * bf16). A seeded random fp32 output gradient drives both backward passes. Without a GPU the test is
 * reported SKIPPED (put CUDA_TWIN_REQUIRE_GPU() first, as for cuda_twin_check).
 *
 *   cuda_bf16_twin_check("cuda_linear_bf16", linear_fn, NULL, 3, (tensor *[]){x, w, b}, 1e-2);
 */
#ifndef VAEC_CUDA_BF16_TWIN_H
#define VAEC_CUDA_BF16_TWIN_H
#include "tests/harness/cuda_twin.h"   // defines: CUDA_TWIN_REQUIRE_GPU, gc_fn

/* 1: everything within tol; 0: a mismatch (reported through EXPECT); -1: skipped, no GPU */
int cuda_bf16_twin_check(const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs, double tol);

#endif
