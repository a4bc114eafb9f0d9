/* test_grad_of.c: ag_grad_of, the partial backward that keeps the tape (torch.autograd.grad with
 * retain_graph): its gradients against central finite differences, against a full backward of the same
 * scalar, with respect to an intermediate, through a checkpointed segment whose weights are the target,
 * zeros where the scalar does not depend on the target; and that no .grad changes and the tape still
 * backpropagates afterwards. */
#include <math.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static const conv2d_args same3 = {{1, 1}, {1, 1, 1, 1}};

/* a small graph of several ops: two scalars out of one conv */
typedef struct { tensor *x, *w1, *w2, *r; } net;

static void net_init(net *n) {
    n->x = gc_input(SHAPE(2, 5, 5, 3), 301);
    n->w1 = gc_input_scaled(SHAPE(4, 3, 3, 3), 302, 0.3f);
    n->w2 = gc_input_scaled(SHAPE(2, 3, 3, 4), 303, 0.3f);
    n->r = gc_input(SHAPE(2, 5, 5, 2), 304);
    n->r->requires_grad = false;
}

static void net_free(net *n) {
    tensor_release(n->x);
    tensor_release(n->w1);
    tensor_release(n->w2);
    tensor_release(n->r);
}

/* a = sum(conv(silu(conv(x, w1)), w2) * r); b = mean(h^2) of the middle activation h; *mid = h */
static tensor *net_forward(const net *n, tensor **b, tensor **mid) {
    tensor *h = op_silu(op_conv2d(n->x, n->w1, NULL, &same3));
    tensor *a = op_sum_all(op_mul(op_conv2d(h, n->w2, NULL, &same3), n->r));
    if (b) *b = op_mean_all(op_square(h));
    if (mid) *mid = h;
    return a;
}

static double scalar_at(const net *n) {
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    double v = tensor_item(net_forward(n, NULL, NULL));
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    return v;
}

TEST(test_grad_of_matches_finite_differences) {
    net n;
    net_init(&n);
    tensor *targets[2] = {n.w1, n.x}, *grads[2];
    tensor_scope_begin();
    tensor *a = net_forward(&n, NULL, NULL);
    ag_grad_of(a, 2, targets, grads);
    tensor_scope_end(NULL);
    ag_tape_clear();
    for (int t = 0; t < 2; t++) {
        float *p = tensor_f32(targets[t]);
        const float *g = tensor_f32(grads[t]);
        double worst = 0, scale = 0;
        for (int64_t i = 0; i < targets[t]->numel; i++) scale = fmax(scale, fabs(g[i]));
        for (int64_t i = 0; i < targets[t]->numel; i += 3) {
            const float keep = p[i];
            p[i] = keep + 1e-2f;
            tensor_mark_written(targets[t]);   /* p was taken once: each write says so (cached conv weights) */
            double up = scalar_at(&n);
            p[i] = keep - 1e-2f;
            tensor_mark_written(targets[t]);
            double down = scalar_at(&n);
            p[i] = keep;
            tensor_mark_written(targets[t]);
            double fd = (up - down) / 2e-2;
            worst = fmax(worst, fabs(fd - g[i]) / (scale + 1e-12));
        }
        EXPECT(worst < 1e-2, "ag_grad_of target %d: worst error %.3g against central differences", t, worst);
        tensor_release(grads[t]);
    }
    EXPECT(n.w1->grad == NULL && n.x->grad == NULL && n.w2->grad == NULL, "ag_grad_of left a .grad behind");
    net_free(&n);
}

TEST(test_grad_of_keeps_the_tape_and_leaves_grads_alone) {
    net n;
    net_init(&n);
    tensor *before = tensor_full(SHAPE(4, 3, 3, 3), 0.25f);
    n.w1->grad = tensor_clone(before);   /* a gradient accumulated earlier (a micro-step) */
    tensor_scope_begin();
    tensor *b, *a = net_forward(&n, &b, NULL);
    const int tape = ag_tape_size();
    tensor *g_a, *g_b, *g_a2;
    ag_grad_of(a, 1, &n.w1, &g_a);
    ag_grad_of(b, 1, &n.w1, &g_b);
    ag_grad_of(a, 1, &n.w1, &g_a2);   /* the same again: nothing was consumed */
    EXPECT(ag_tape_size() == tape, "the tape went from %d to %d nodes", tape, ag_tape_size());
    EXPECT(rel_error(n.w1->grad, before) == 0 && n.w2->grad == NULL && n.x->grad == NULL,
           "ag_grad_of changed a .grad");
    EXPECT(rel_error(g_a, g_a2) == 0, "a second ag_grad_of of the same scalar differs");
    ag_backward(a);   /* the full backward still runs and accumulates on top of the earlier gradient */
    tensor_scope_end(NULL);
    tensor *want = tensor_clone(before);
    tensor_add_(want, g_a);
    double e = golden_compare("grad_of.full_backward", n.w1->grad, want, 1e-6);
    EXPECT(e < 1e-6, "w1.grad after the full backward: error %.3g against earlier + ag_grad_of", e);
    EXPECT(n.w2->grad != NULL && n.x->grad != NULL, "the full backward after ag_grad_of missed a leaf");
    tensor_release(want);
    tensor_release(before);
    tensor_release(g_a);
    tensor_release(g_a2);
    /* b depends on w1 but not on w2 */
    tensor_scope_begin();
    tensor *b2, *g_b2;
    net_forward(&n, &b2, NULL);
    ag_grad_of(b2, 1, &n.w2, &g_b2);
    ag_tape_clear();
    tensor_scope_end(NULL);
    double ss = 0;
    for (int64_t i = 0; i < g_b2->numel; i++) ss += fabs(tensor_f32(g_b2)[i]);
    EXPECT(ss == 0 && tensor_same_shape(g_b2, n.w2), "the gradient of a scalar that does not depend on w2 is not zero");
    tensor_release(g_b);
    tensor_release(g_b2);
    net_free(&n);
}

TEST(test_grad_of_intermediate_matches_retain_grad) {
    net n;
    net_init(&n);
    tensor_scope_begin();
    tensor *h, *a = net_forward(&n, NULL, &h), *g_h;
    ag_grad_of(a, 1, &h, &g_h);
    h->retain_grad = true;
    ag_backward(a);
    double e = golden_compare("grad_of.intermediate", g_h, h->grad, 1e-6);
    EXPECT(e < 1e-6, "d a / d h: error %.3g against the full backward's retained gradient", e);
    tensor_scope_end(NULL);
    tensor_release(g_h);
    net_free(&n);
}

static tensor *segment(void *ctx, tensor **in) {
    const net *n = ctx;
    return op_silu(op_conv2d(in[0], n->w1, NULL, &same3));
}

/* the target is a weight inside a checkpointed segment: the node's inputs do not show it */
TEST(test_grad_of_through_a_checkpointed_segment) {
    net n;
    net_init(&n);
    tensor *g_plain, *g_ckpt;
    tensor_scope_begin();
    tensor *a = net_forward(&n, NULL, NULL);
    ag_grad_of(a, 1, &n.w1, &g_plain);
    ag_tape_clear();
    tensor *h = ag_checkpoint(segment, &n, 1, &n.x);
    tensor *a2 = op_sum_all(op_mul(op_conv2d(h, n.w2, NULL, &same3), n.r));
    ag_grad_of(a2, 1, &n.w1, &g_ckpt);
    EXPECT(n.w1->grad == NULL && n.x->grad == NULL && n.w2->grad == NULL, "ag_grad_of through a checkpoint left a .grad");
    ag_tape_clear();
    tensor_scope_end(NULL);
    double e = golden_compare("grad_of.checkpoint", g_ckpt, g_plain, 1e-6);
    EXPECT(e < 1e-6, "through a checkpointed segment: error %.3g", e);
    tensor_release(g_plain);
    tensor_release(g_ckpt);
    net_free(&n);
}
