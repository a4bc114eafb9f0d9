/* test_shape_bf16.c: the shape ops on a bf16 input (a bf16 op's result under autocast, core/autocast.h):
 * reshape, permute, slice, concat and zero pad carry bf16 through (bf16 in, bf16 out), the others widen
 * it (a fill value, odd last-dim extents). Either way the values and the float32 gradients must equal, bit
 * for bit, the same op on the input widened to float32 first: these ops only move values. A CUDA twin
 * (tests/cuda/test_cuda_shape.c) runs the same cases on the GPU. */
#include <string.h>
#include "autograd/autograd.h"         // defines: ag_backward_with_grad
#include "core/ops.h"                  // defines: op_permute, op_slice, op_concat, op_pad, op_reshape, op_depth_to_time
#include "core/ops/cast.h"             // defines: tensor_cast
#include "tests/harness/gradcheck.h"   // defines: gc_input
#include "tests/harness/shape_bf16_cases.h"
#include "tests/harness/test.h"

/* case c on x (bf16 or float32, two inputs for concat): output widened to float32, gradients of x */
static void run_case(const shape_bf16_case *c, tensor *const *in, int n, const tensor *gy_seed, tensor **out,
                     dtype_t *out_dtype) {
    tensor *x[2] = {NULL, NULL};
    for (int i = 0; i < n; i++) {
        x[i] = tensor_clone(in[i]);
        x[i]->requires_grad = true;
    }
    tensor_scope_begin();
    tensor *y = c->f(x);
    *out_dtype = y->dtype;
    out[0] = tensor_cast(y, DTYPE_F32);
    tensor *gy = tensor_from_data(y->ndim, y->shape, tensor_f32((tensor *)gy_seed));
    ag_backward_with_grad(y, gy);
    tensor_release(gy);
    tensor_scope_end(NULL);
    for (int i = 0; i < n; i++) {
        EXPECT(x[i]->grad && x[i]->grad->dtype == DTYPE_F32, "%s: input %d's gradient missing or not float32", c->name, i);
        out[1 + i] = x[i]->grad;
        x[i]->grad = NULL;
        tensor_release(x[i]);
    }
}

TEST(test_shape_ops_carry_bf16) {
    for (int k = 0; k < N_SHAPE_BF16_CASES; k++) {
        const shape_bf16_case *c = &shape_bf16_cases[k];
        tensor *xb[2], *xw[2], *got[3] = {0}, *ref[3] = {0};
        for (int i = 0; i < c->n; i++) {
            tensor *x = gc_input(c->ndim, c->shape[i], 300 + 2 * k + i);
            xb[i] = tensor_cast(x, DTYPE_BF16);
            xw[i] = tensor_cast(xb[i], DTYPE_F32);   /* exact */
            tensor_release(x);
        }
        tensor *gy = shape_bf16_grad_seed(c, 400 + k);
        dtype_t db, dw;
        run_case(c, xb, c->n, gy, got, &db);
        run_case(c, xw, c->n, gy, ref, &dw);
        EXPECT(db == (c->carries ? DTYPE_BF16 : DTYPE_F32), "%s: a bf16 input gave a %s result (%s expected)", c->name,
               dtype_name(db), c->carries ? "bf16" : "float32 (widened)");
        for (int j = 0; j <= c->n; j++) {
            EXPECT(got[j]->numel == ref[j]->numel && memcmp(got[j]->data, ref[j]->data, (size_t)ref[j]->numel * 4) == 0,
                   "%s: %s %d differs from the op on the widened input", c->name, j ? "gradient" : "output", j);
            tensor_release(got[j]), tensor_release(ref[j]);
        }
        tensor_release(gy);
        for (int i = 0; i < c->n; i++) tensor_release(xb[i]), tensor_release(xw[i]);
    }
}
