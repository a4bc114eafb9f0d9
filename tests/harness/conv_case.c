/* conv_case.c: running a conv_case and making its inputs (see conv_case.h). */
#include "tests/harness/conv_case.h"
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d
#include "tests/harness/gradcheck.h"   // defines: gc_input, gc_input_scaled

tensor *conv_case_fn(void *ctx, tensor **in) {
    const conv_case *c = ctx;
    tensor *b = c->bias ? in[2] : NULL;
    if (c->dims == 3) {
        conv3d_args a = {{c->stride[0], c->stride[1], c->stride[2]},
                         {c->pad[0], c->pad[1], c->pad[2], c->pad[3], c->pad[4], c->pad[5]}};
        return op_conv3d(in[0], in[1], b, &a);
    }
    conv2d_args a = {{c->stride[1], c->stride[2]}, {c->pad[2], c->pad[3], c->pad[4], c->pad[5]}};
    return op_conv2d(in[0], in[1], b, &a);
}

void conv_case_inputs(const conv_case *c, uint64_t seed, float w_scale, tensor **in) {
    const int nd = c->dims == 3 ? 5 : 4;
    const int64_t cin = c->x[nd - 1];
    int64_t wshape[5] = {c->cout, c->k[0], c->k[1], c->k[2], cin};
    if (c->dims == 2) wshape[1] = c->k[1], wshape[2] = c->k[2], wshape[3] = cin;
    in[0] = gc_input(nd, c->x, seed);
    in[1] = gc_input_scaled(nd, wshape, seed + 1, w_scale);
    in[2] = gc_input(SHAPE(c->cout), seed + 2);
}
