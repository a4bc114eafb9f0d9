/* test_autograd.c: accumulation, no-grad scope, checkpointing, tape lifetime. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "core/rng.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

TEST(test_autograd_accumulates_when_tensor_used_twice) {
    /* y = x*x + silu(x): x feeds three uses; dy/dx = 2x + silu'(x) */
    tensor *x = gc_input(SHAPE(3, 5), 1);
    tensor_scope_begin();
    tensor *loss = op_sum_all(op_add(op_mul(x, x), op_silu(x)));
    ag_backward(loss);
    tensor_scope_end(NULL);
    const float *xv = tensor_f32(x), *g = tensor_f32(x->grad);
    for (int i = 0; i < 15; i++) {
        double s = 1.0 / (1.0 + exp(-xv[i]));
        double want = 2.0 * xv[i] + s * (1.0 + xv[i] * (1.0 - s));
        EXPECT(fabs(g[i] - want) < 1e-5 * (1 + fabs(want)), "grad[%d] = %g, want %g", i, g[i], want);
    }
    /* a second backward accumulates into the leaf's grad */
    tensor_scope_begin();
    ag_backward(op_sum_all(op_mul_scalar(x, 3.0f)));
    tensor_scope_end(NULL);
    for (int i = 0; i < 15; i++) {
        double s = 1.0 / (1.0 + exp(-xv[i]));
        double want = 2.0 * xv[i] + s * (1.0 + xv[i] * (1.0 - s)) + 3.0;
        EXPECT(fabs(g[i] - want) < 1e-5 * (1 + fabs(want)), "accumulated grad[%d] = %g, want %g", i, g[i], want);
    }
    ag_zero_grad(&x, 1);
    EXPECT(x->grad == NULL, "zero_grad left a gradient");
    tensor_release(x);
}

TEST(test_autograd_no_grad_scope_records_and_keeps_nothing) {
    tensor *x = gc_input(SHAPE(2, 4, 6, 6, 8), 2);
    tensor *w = gc_input_scaled(SHAPE(8, 3, 3, 3, 8), 3, 0.1f);
    mem_stats s0, s1;
    mem_get_stats(DEVICE_CPU, &s0);
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    conv3d_args a = {{1, 1, 1}, {2, 0, 1, 1, 1, 1}};
    tensor *h = x;
    for (int i = 0; i < 4; i++) h = op_silu(op_group_norm(op_conv3d(h, w, NULL, &a), NULL, NULL, 4, 1e-5f));
    EXPECT(ag_tape_size() == 0, "no-grad forward recorded %d nodes", ag_tape_size());
    EXPECT(!h->requires_grad && h->grad_fn == NULL, "no-grad output requires grad");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    mem_get_stats(DEVICE_CPU, &s1);
    EXPECT(s1.in_use[MEM_ACTIVATIONS] == s0.in_use[MEM_ACTIVATIONS], "no-grad forward kept %zu bytes",
           s1.in_use[MEM_ACTIVATIONS] - s0.in_use[MEM_ACTIVATIONS]);
    /* frozen parameters and an input that needs no grad: nothing recorded even in grad mode */
    x->requires_grad = false;
    w->requires_grad = false;
    tensor_scope_begin();
    tensor *y = op_conv3d(x, w, NULL, &a);
    EXPECT(ag_tape_size() == 0 && !y->requires_grad, "frozen layer recorded nodes");
    tensor_scope_end(NULL);
    tensor_release(x);
    tensor_release(w);
}

TEST(test_autograd_backward_frees_graph_and_intermediate_grads) {
    tensor *x = gc_input(SHAPE(4, 4), 4);
    mem_stats s0, s1;
    mem_get_stats(DEVICE_CPU, &s0);
    tensor_scope_begin();
    tensor *h = op_exp(op_mul_scalar(x, 0.5f));
    h->retain_grad = true;
    tensor *mid = op_silu(h);
    tensor *loss = op_sum_all(op_square(mid));
    EXPECT(ag_tape_size() == 5, "tape has %d nodes, expected 5", ag_tape_size());
    ag_backward(loss);
    EXPECT(ag_tape_size() == 0, "tape not freed by backward");
    EXPECT(h->grad != NULL, "retain_grad tensor lost its gradient");
    EXPECT(mid->grad == NULL, "intermediate gradient kept after backward");
    tensor_scope_end(NULL);
    tensor_release(x->grad);
    x->grad = NULL;
    mem_get_stats(DEVICE_CPU, &s1);
    EXPECT(s1.in_use_total == s0.in_use_total, "backward leaked %zd bytes", (ssize_t)(s1.in_use_total - s0.in_use_total));
    tensor_release(x);
}

static void backward_of_vector(void *ctx) {
    tensor *x = gc_input(SHAPE(3), 5);
    ag_backward(op_silu(x));
}

TEST(test_autograd_backward_needs_a_scalar) {
    EXPECT(test_expect_fatal(backward_of_vector, NULL, "scalar loss"), "non-scalar backward must fail clearly");
}

/* a segment with trainable weights inside and random sampling, like a VAE block */
typedef struct { tensor *w1, *w2, *g, *b; } seg_params;

static tensor *segment(void *ctx, tensor **in) {
    seg_params *p = ctx;
    conv3d_args a = {{1, 1, 1}, {2, 0, 1, 1, 1, 1}};
    tensor *h = op_silu(op_group_norm(op_conv3d(in[0], p->w1, NULL, &a), p->g, p->b, 2, 1e-5f));
    h = op_conv3d(h, p->w2, NULL, &a);
    tensor *mean = op_slice(h, -1, 0, 2), *logvar = op_slice(h, -1, 2, 4);
    return op_reparam_sample(mean, logvar, rng_global());
}

static void run_segment(seg_params *p, tensor *x, bool checkpointed, int *nodes) {
    *rng_global() = rng_seed(99);
    tensor_scope_begin();
    tensor *y = checkpointed ? ag_checkpoint(segment, p, 1, &x) : segment(p, &x);
    *nodes = ag_tape_size();
    tensor *loss = op_sum_all(op_square(y));
    ag_backward(loss);
    tensor_scope_end(NULL);
}

TEST(test_autograd_checkpoint_matches_plain_gradients) {
    seg_params p = {gc_input_scaled(SHAPE(4, 3, 3, 3, 3), 11, 0.2f), gc_input_scaled(SHAPE(4, 3, 3, 3, 4), 12, 0.2f),
                    gc_input(SHAPE(4), 13), gc_input(SHAPE(4), 14)};
    tensor *x = gc_input(SHAPE(1, 3, 4, 5, 3), 15);
    tensor *params[] = {p.w1, p.w2, p.g, p.b, x};
    tensor *plain[5];
    int nodes_plain, nodes_ckpt;
    run_segment(&p, x, false, &nodes_plain);
    for (int i = 0; i < 5; i++) { plain[i] = params[i]->grad; params[i]->grad = NULL; }
    run_segment(&p, x, true, &nodes_ckpt);
    EXPECT(nodes_ckpt == 1 && nodes_plain > 5, "checkpointed forward kept %d nodes (plain %d)", nodes_ckpt, nodes_plain);
    const char *names[] = {"w1", "w2", "gamma", "beta", "x"};
    for (int i = 0; i < 5; i++) {
        EXPECT(params[i]->grad != NULL, "%s: no gradient through the checkpoint", names[i]);
        if (params[i]->grad)
            EXPECT(memcmp(params[i]->grad->data, plain[i]->data, (size_t)plain[i]->numel * 4) == 0,
                   "%s: checkpointed gradient differs from plain (rel err %.3e)", names[i], rel_error(params[i]->grad, plain[i]));
        tensor_release(plain[i]);
    }
    /* frozen input, trainable weights inside: the segment still trains its weights */
    ag_zero_grad(params, 5);
    x->requires_grad = false;
    run_segment(&p, x, true, &nodes_ckpt);
    EXPECT(p.w1->grad != NULL && x->grad == NULL, "checkpoint with a frozen input lost the weights' gradients");
    ag_zero_grad(params, 5);
    for (int i = 0; i < 5; i++) tensor_release(params[i]);
}

/* a block that ends its own tensor scope before backward runs, with a skip connection: the scope's
   references are gone, so the graph alone must keep every intermediate alive until its producer has
   run (regression: gradients used to stop at the first freed node) */
static tensor *scoped_block(tensor *x, tensor *w) {
    tensor_scope_begin();
    tensor *h = op_silu(op_mul(x, w));
    tensor *skip = op_mul_scalar(x, 2.0f);
    return tensor_scope_end(op_add(skip, h));
}

static tensor *two_blocks(void *ctx, tensor **in) { return scoped_block(scoped_block(in[0], in[1]), in[1]); }

TEST(test_autograd_gradients_cross_closed_scopes) {
    tensor *x = gc_input(SHAPE(4, 3), 21), *w = gc_input(SHAPE(3), 22);
    tensor *y1 = scoped_block(x, w), *y = scoped_block(y1, w);
    tensor_release(y1);   /* only the graph holds it now */
    tensor_scope_begin();
    ag_backward(op_sum_all(y));
    tensor_scope_end(NULL);
    tensor_release(y);
    EXPECT(x->grad != NULL && w->grad != NULL, "gradient stopped at a closed scope");
    gradcheck("autograd.closed_scopes", two_blocks, NULL, 2, (tensor *[]){x, w}, NULL);
    tensor_release(x);
    tensor_release(w);
}
