/* grad_of.c: the gradient of one scalar with respect to chosen tensors, the tape kept (see autograd.h,
 * ag_grad_of). PyTorch's torch.autograd.grad(out, wrt, retain_graph=True).
 *
 * How: one forward pass over the tape marks every tensor that depends on a target (the targets, then
 * the outputs of nodes with a marked input; a checkpointed segment is always marked, since the weights
 * inside it are no inputs of its node). Only marked nodes run, walking the tape backward from `out`;
 * their other inputs have requires_grad switched off for the walk, so no op computes a gradient nobody
 * asked for (a conv whose weight is not a target computes only its input gradient). Nodes are not freed,
 * and while the walk runs, ag_grad_add gives no leaf but a target a gradient: every .grad is as before. */
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_node, ag_tape_nodes, ag_grad_add, ag_set_grad_enabled

/* ---- a set of tensor pointers (open addressing; sized for the tape) ---- */
typedef struct { const tensor **slots; size_t cap; } ptr_set;

static size_t ptr_hash(const tensor *t, size_t cap) { return (size_t)(((uintptr_t)t >> 4) * 0x9E3779B97F4A7C15ull) & (cap - 1); }

static void set_init(ptr_set *s, size_t n) {
    s->cap = 64;
    while (s->cap < 2 * n + 2) s->cap *= 2;
    s->slots = xcalloc(s->cap, sizeof *s->slots);
}

static bool set_has(const ptr_set *s, const tensor *t) {
    for (size_t i = ptr_hash(t, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (!s->slots[i]) return false;
        if (s->slots[i] == t) return true;
    }
}

static void set_put(ptr_set *s, const tensor *t) {
    size_t i = ptr_hash(t, s->cap);
    while (s->slots[i] && s->slots[i] != t) i = (i + 1) & (s->cap - 1);
    s->slots[i] = t;
}

typedef struct { tensor *t; bool was; } flag_undo;

void ag_grad_of(tensor *out, int n, tensor **wrt, tensor **grads) {
    CHECK(out->numel == 1, "ag_grad_of: needs a scalar, got %lld elements", (long long)out->numel);
    CHECK(n >= 1 && n + ag_partial_n_targets() <= AG_PARTIAL_MAX_TARGETS, "ag_grad_of: %d tensors to differentiate (1 to %d)", n,
          AG_PARTIAL_MAX_TARGETS);
    int n_nodes;
    ag_node **nodes = ag_tape_nodes(&n_nodes);
    ptr_set dep;
    set_init(&dep, (size_t)n_nodes + (size_t)n);
    for (int k = 0; k < n; k++) set_put(&dep, wrt[k]);
    bool *run = xcalloc((size_t)n_nodes + 1, sizeof *run);
    for (int i = 0; i < n_nodes; i++) {
        ag_node *node = nodes[i];
        bool m = !strcmp(node->op, "checkpoint");
        for (int j = 0; j < node->n_inputs && !m; j++) m = node->inputs[j] && set_has(&dep, node->inputs[j]);
        if (m && node->out) set_put(&dep, node->out);
        run[i] = m;
    }
    /* inputs of the nodes that run but on no path to a target: no gradient for the walk */
    flag_undo *undo = NULL;
    int n_undo = 0, cap_undo = 0;
    for (int i = 0; i < n_nodes; i++) {
        if (!run[i] || !strcmp(nodes[i]->op, "checkpoint")) continue;
        for (int j = 0; j < nodes[i]->n_inputs; j++) {
            tensor *x = nodes[i]->inputs[j];
            if (!x || !x->requires_grad || set_has(&dep, x)) continue;
            if (n_undo == cap_undo) undo = xrealloc(undo, (size_t)(cap_undo = cap_undo ? 2 * cap_undo : 64) * sizeof *undo);
            undo[n_undo++] = (flag_undo){x, true};
            x->requires_grad = false;
        }
    }
    tensor **stash = xcalloc((size_t)n, sizeof *stash), **captured = xcalloc((size_t)n, sizeof *captured);
    for (int k = 0; k < n; k++) {   /* a target's own gradient (accumulated earlier) waits aside */
        stash[k] = wrt[k]->grad;
        wrt[k]->grad = NULL;
        ag_partial_push_target(wrt[k]);
    }
    ag_partial_enter();
    const bool prev = ag_set_grad_enabled(false);
    if (set_has(&dep, out)) {
        CHECK(out->grad == NULL || out->retain_grad, "ag_grad_of: the scalar already holds a gradient");
        tensor *saved_out_grad = out->grad;
        out->grad = NULL;
        tensor *one = tensor_full(out->ndim, out->shape, 1.0f), *seed = out->device == DEVICE_CPU ? one : tensor_to(one, out->device);
        ag_grad_add(out, seed);
        if (seed != one) tensor_release(seed);
        tensor_release(one);
        for (int i = n_nodes - 1; i >= 0; i--) {
            ag_node *node = nodes[i];
            tensor *o = node->out;
            if (!run[i] || !o || !o->grad) continue;
            node->backward(node);
            int k = 0;
            while (k < n && wrt[k] != o) k++;
            if (k < n) captured[k] = o->grad;   /* an intermediate target: its gradient is the answer */
            else tensor_release(o->grad);
            o->grad = NULL;
        }
        if (out->grad) {   /* out is a target whose producer did not run */
            int k = 0;
            while (k < n && wrt[k] != out) k++;
            if (k < n && !captured[k]) captured[k] = out->grad;
            else tensor_release(out->grad);
        }
        out->grad = saved_out_grad;
    }
    ag_set_grad_enabled(prev);
    ag_partial_leave();
    ag_partial_pop_targets(n);
    for (int k = 0; k < n; k++) {
        tensor *g = captured[k] ? captured[k] : wrt[k]->grad;
        if (wrt[k]->grad && wrt[k]->grad != g) tensor_release(wrt[k]->grad);
        if (!g) {
            g = tensor_new(wrt[k]->ndim, wrt[k]->shape, DTYPE_F32, wrt[k]->device);
            tensor_fill(g, 0.0f);
        }
        grads[k] = g;
        wrt[k]->grad = stash[k];
    }
    for (int i = n_undo - 1; i >= 0; i--) undo[i].t->requires_grad = undo[i].was;
    free(undo);
    free(stash);
    free(captured);
    free(run);
    free(dep.slots);
}
