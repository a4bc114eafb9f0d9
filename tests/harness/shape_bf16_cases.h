/* shape_bf16_cases.h: the shape-op cases of tests/ops/test_shape_bf16.c, shared with its CUDA twin: each a
 * function of one or two inputs, their shapes, and whether a bf16 input comes out bf16 (carried) or
 * float32 (widened on entry). */
#ifndef VAEC_TESTS_SHAPE_BF16_CASES_H
#define VAEC_TESTS_SHAPE_BF16_CASES_H
#include <stdbool.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    const char *name;
    tensor *(*f)(tensor **x);
    int n, ndim;
    int64_t shape[2][5];
    bool carries;
} shape_bf16_case;

extern const shape_bf16_case shape_bf16_cases[];
extern const int N_SHAPE_BF16_CASES;
/* a seeded float32 output gradient of the case's output shape (caller releases) */
tensor *shape_bf16_grad_seed(const shape_bf16_case *c, uint64_t seed);

#endif
