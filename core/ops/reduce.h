/* reduce.h: sum and mean over chosen dims, or over everything.
 * Sums accumulate in double in a fixed order, so results do not depend on the thread count.
 * dims may be negative (counted from the end); keepdim leaves reduced dims as size 1.
 * op_sum_all / op_mean_all return a 0-dim tensor (one element), ready for ag_backward. */
#ifndef VAEC_OPS_REDUCE_H
#define VAEC_OPS_REDUCE_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

tensor *op_sum(tensor *x, int n_dims, const int *dims, bool keepdim);
tensor *op_mean(tensor *x, int n_dims, const int *dims, bool keepdim);
tensor *op_sum_all(tensor *x);
tensor *op_mean_all(tensor *x);

double sum_all_cpu(const float *x, int64_t n);   /* deterministic: fixed chunks, combined in order */

#endif
