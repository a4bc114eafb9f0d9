/* matmul.h: matrix products through gemm_f32 / gemm_bf16 (CPU: oneDNN or OpenBLAS) and cuBLAS (CUDA).
 * op_matmul: 2-D (M,K)x(K,N) or batched 3-D (B,M,K)x(B,K,N); trans_a / trans_b transpose the last two
 * dims of a / b first (so q k^T is op_matmul(q, k, false, true)).
 * op_linear: x (..., in), w (out, in), b (out) or NULL: y = x w^T + b, as torch.nn.Linear.
 * dtype: float32, or bf16 operands (all of one dtype) -> a bf16 result, with fp32 accumulation, on either
 * device (CPU: core/cpu/gemm_bf16.c); gradients are float32 either way. */
#ifndef VAEC_OPS_MATMUL_H
#define VAEC_OPS_MATMUL_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

tensor *op_matmul(tensor *a, tensor *b, bool trans_a, bool trans_b);
tensor *op_linear(tensor *x, tensor *w, tensor *b);

#endif
