/* ops.h: every differentiable op, one include. Each op's forward, backward, CPU and CUDA code sit in
 * core/ops/<file>.{c,cu}; its tests in tests/ops/test_<file>.c; its goldens in tests/golden/gen_*.py.
 *
 *   conv.h        op_conv2d, op_conv3d (stride, per-side zero pad; channels-last)
 *   group_norm.h  op_group_norm (statistics over C/groups x all positions, 4-D or 5-D)
 *   silu.h        op_silu
 *   relu.h        op_relu
 *   leaky_relu.h  op_leaky_relu (the PatchGAN discriminator's activation)
 *   batch_norm.h  op_batch_norm (BatchNorm2d: batch statistics and running ones, train and eval)
 *   max_pool.h    op_max_pool2d (2x2, stride 2)
 *   softmax.h     op_softmax (last dim)
 *   attention.h   op_attention (single head over spatial positions, fused)
 *   upsample.h    op_upsample_nearest2x
 *   binary.h      op_add, op_sub, op_mul, op_div (broadcasting)
 *   scalar.h      op_add_scalar, op_mul_scalar, op_rsub_scalar, op_pow_scalar
 *   unary.h       op_abs, op_square, op_exp, op_log, op_sqrt, op_neg, op_clamp
 *   reduce.h      op_sum, op_mean, op_sum_all, op_mean_all
 *   reparam.h     op_reparam_sample (mean + exp(logvar/2) * eps)
 *   shape.h       op_reshape, op_permute, op_depth_to_time
 *   pad.h         op_pad (constant, per side)
 *   slice.h       op_slice, op_concat
 *   matmul.h      op_matmul, op_linear
 *   cast.h        op_cast (float32 <-> bf16; autocast's casts, core/autocast.h)
 */
#ifndef VAEC_OPS_H
#define VAEC_OPS_H
#include "core/ops/attention.h"
#include "core/ops/batch_norm.h"
#include "core/ops/binary.h"
#include "core/ops/cast.h"
#include "core/ops/conv.h"
#include "core/ops/group_norm.h"
#include "core/ops/leaky_relu.h"
#include "core/ops/matmul.h"
#include "core/ops/max_pool.h"
#include "core/ops/pad.h"
#include "core/ops/reduce.h"
#include "core/ops/relu.h"
#include "core/ops/reparam.h"
#include "core/ops/scalar.h"
#include "core/ops/shape.h"
#include "core/ops/silu.h"
#include "core/ops/slice.h"
#include "core/ops/softmax.h"
#include "core/ops/unary.h"
#include "core/ops/upsample.h"
#endif
