/* autograd.c: the tape, recording, gradient accumulation and backward (see autograd.h). */
#include "autograd/autograd.h"
#include <string.h>

typedef struct { ag_node **nodes; int n, cap; } ag_tape;

#define MAX_TAPES 16
static _Thread_local ag_tape tapes[MAX_TAPES];   /* nested for checkpoint recomputation */
static _Thread_local int tape_top;               /* index of the current tape */
static _Thread_local bool grad_enabled = true;

bool ag_set_grad_enabled(bool enabled) { bool old = grad_enabled; grad_enabled = enabled; return old; }
bool ag_grad_enabled(void) { return grad_enabled; }
int ag_tape_size(void) { return tapes[tape_top].n; }

ag_node *ag_record(const char *op, ag_backward_fn backward, tensor *out, int n_inputs, tensor **inputs) {
    if (!grad_enabled) return NULL;
    bool any = false;
    for (int i = 0; i < n_inputs; i++) any |= inputs[i] && inputs[i]->requires_grad;
    if (!any) return NULL;
    CHECK(out->grad_fn == NULL, "op %s: output already has a producer", op);
    ag_node *n = xcalloc(1, sizeof *n);
    n->op = op;
    n->backward = backward;
    n->out = out;
    n->n_inputs = n_inputs;
    n->inputs = xmalloc((size_t)n_inputs * sizeof *n->inputs);
    for (int i = 0; i < n_inputs; i++) { n->inputs[i] = inputs[i]; tensor_retain(inputs[i]); }
    out->requires_grad = true;
    out->grad_fn = n;
    ag_tape *t = &tapes[tape_top];
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 256;
        t->nodes = xrealloc(t->nodes, (size_t)t->cap * sizeof *t->nodes);
    }
    t->nodes[t->n++] = n;
    return n;
}

void ag_save(ag_node *n, tensor *t) {
    CHECK(n->n_saved < AG_MAX_SAVED, "op %s saves more than %d tensors", n->op, AG_MAX_SAVED);
    tensor_retain(t);
    n->saved[n->n_saved++] = t;
}

void *ag_ctx(ag_node *n, size_t bytes) {
    CHECK(n->ctx == NULL, "op %s: context allocated twice", n->op);
    n->ctx = xcalloc(1, bytes);
    return n->ctx;
}

void ag_node_forget_output(ag_node *n, tensor *out) { if (n->out == out) n->out = NULL; }

void ag_input_data_unused(ag_node *n, int i) {
    CHECK(i >= 0 && i < n->n_inputs && i < 32 && !(n->data_unused & (1u << i)), "op %s: input %d marked twice or "
          "out of range", n->op, i);
    n->data_unused |= 1u << i;
    if (n->inputs[i]) n->inputs[i]->data_unused_refs++;
}

/* Frees a node once backward has run it (or the tape is dropped). An input that an earlier node
   produced must outlive this node: that node still has to read its gradient. If ours may be the last
   reference (the tensor scope that created it has already ended), the reference passes to the producer,
   which releases it when it is freed in turn. */
static void node_free(ag_node *n) {
    tensor *out = n->out;
    if (out) out->grad_fn = NULL;
    for (int i = 0; i < n->n_inputs; i++) {
        tensor *x = n->inputs[i];
        if (x && (n->data_unused & (1u << i))) x->data_unused_refs--;
        if (x && x->grad_fn && !x->grad_fn->owns_out) x->grad_fn->owns_out = true;
        else tensor_release(x);
    }
    if (n->owns_out && out) tensor_release(out);
    for (int i = 0; i < n->n_saved; i++) tensor_release(n->saved[i]);
    free(n->inputs);
    if (n->ctx_free) n->ctx_free(n->ctx);
    free(n->ctx);
    free(n);
}

static void check_grad_shape(const tensor *t, const tensor *g) {
    if (tensor_same_shape(t, g)) return;
    char a[96], b[96];
    tensor_shape_str(t, a, sizeof a);
    tensor_shape_str(g, b, sizeof b);
    FATAL("gradient of shape %s for a tensor of shape %s%s%s", b, a, t->grad_fn ? " produced by " : "",
          t->grad_fn ? t->grad_fn->op : "");
}

void ag_grad_add(tensor *t, const tensor *g) {
    if (!t->requires_grad) return;
    check_grad_shape(t, g);
    if (!t->grad) {
        mem_tag prev = mem_set_tag(t->grad_fn ? MEM_ACTIVATIONS : MEM_GRADS);
        t->grad = tensor_clone(g);
        mem_set_tag(prev);
    } else tensor_add_(t->grad, g);
}

void ag_grad_add_owned(tensor *t, tensor *g) {
    if (!t->requires_grad) { tensor_release(g); return; }
    check_grad_shape(t, g);
    if (!t->grad && g->refcount == 1 && g->block->refcount == 1 && t->grad_fn) {
        t->grad = g;   /* intermediate: take it over, no copy */
        return;
    }
    ag_grad_add(t, g);
    tensor_release(g);
}

/* Run the current tape backward from `out` (whose grad must be set), then free it. */
static void run_tape_backward(void) {
    ag_tape *t = &tapes[tape_top];
    for (int i = t->n - 1; i >= 0; i--) {
        ag_node *n = t->nodes[i];
        tensor *out = n->out;
        if (out && out->grad) {
            n->backward(n);
            /* an intermediate's gradient is no longer needed once its producer has run */
            if (!out->retain_grad) { tensor_release(out->grad); out->grad = NULL; }
        }
        node_free(n);
        t->nodes[i] = NULL;
    }
    t->n = 0;
}

void ag_backward_with_grad(tensor *out, const tensor *grad_out) {
    CHECK(out->requires_grad, "backward from a tensor that does not require grad (was it computed "
                              "under no-grad, or from inputs that need no gradient?)");
    bool prev = ag_set_grad_enabled(false);   /* backward records nothing */
    ag_grad_add(out, grad_out);
    run_tape_backward();
    ag_set_grad_enabled(prev);
}

void ag_backward(tensor *loss) {
    CHECK(loss->numel == 1, "backward needs a scalar loss, got %lld elements", (long long)loss->numel);
    tensor *one = tensor_new(loss->ndim, loss->shape, DTYPE_F32, DEVICE_CPU);
    tensor_f32(one)[0] = 1.0f;
    tensor *seed = loss->device == DEVICE_CPU ? one : tensor_to(one, loss->device);
    ag_backward_with_grad(loss, seed);
    if (seed != one) tensor_release(seed);
    tensor_release(one);
}

void ag_tape_clear(void) {
    ag_tape *t = &tapes[tape_top];
    for (int i = t->n - 1; i >= 0; i--) node_free(t->nodes[i]);
    t->n = 0;
}

void ag_zero_grad(tensor **params, int n) {
    for (int i = 0; i < n; i++) { tensor_release(params[i]->grad); params[i]->grad = NULL; }
}

/* ---- activation checkpointing ---- */
typedef struct {
    ag_segment_fn fn;
    void *user;
    rng_state rng;       /* replayed so sampling inside the segment draws the same noise */
} ckpt_ctx;

static void checkpoint_backward(ag_node *n) {
    ckpt_ctx *c = n->ctx;
    CHECK(tape_top + 1 < MAX_TAPES, "checkpointed segments nested deeper than %d", MAX_TAPES);
    tape_top++;
    tensor *detached[AG_MAX_CHECKPOINT_INPUTS + 1];
    for (int i = 0; i < n->n_inputs; i++) {
        tensor *x = n->inputs[i];
        detached[i] = tensor_view(x, x->ndim, x->shape);
        detached[i]->requires_grad = x->requires_grad;
    }
    rng_state saved_rng = *rng_global();
    *rng_global() = c->rng;
    ag_set_grad_enabled(true);
    tensor_scope_begin();
    tensor *out = c->fn(c->user, detached);
    if (out->requires_grad) {
        ag_grad_add(out, n->out->grad);
        run_tape_backward();
    }
    tensor_scope_end(NULL);
    ag_set_grad_enabled(false);
    *rng_global() = saved_rng;
    for (int i = 0; i < n->n_inputs; i++) {
        if (detached[i]->grad) ag_grad_add(n->inputs[i], detached[i]->grad);
        tensor_release(detached[i]);
    }
    tape_top--;
}

tensor *ag_checkpoint(ag_segment_fn fn, void *ctx, int n_inputs, tensor **inputs) {
    rng_state rng = *rng_global();
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor *out = fn(ctx, inputs);
    out = tensor_scope_end(out);
    ag_set_grad_enabled(prev);
    /* the segment's parameters are not inputs of the node, so record whenever grad mode is on:
       a segment over frozen inputs may still have trainable weights inside */
    if (!prev) return out;
    CHECK(n_inputs <= AG_MAX_CHECKPOINT_INPUTS, "a checkpointed segment takes at most %d inputs, got %d",
          AG_MAX_CHECKPOINT_INPUTS, n_inputs);
    tensor *rec_inputs[AG_MAX_CHECKPOINT_INPUTS + 1];
    for (int i = 0; i < n_inputs; i++) rec_inputs[i] = inputs[i];
    bool any = false;
    for (int i = 0; i < n_inputs; i++) any |= inputs[i]->requires_grad;
    tensor *dummy = NULL;
    if (!any) {   /* make the node record: a grad-requiring placeholder stands for the inner weights */
        dummy = tensor_zeros(SHAPE(1));
        dummy->requires_grad = true;
        rec_inputs[n_inputs++] = dummy;
    }
    ag_node *n = ag_record("checkpoint", checkpoint_backward, out, n_inputs, rec_inputs);
    tensor_release(dummy);   /* the node holds it */
    ckpt_ctx *c = ag_ctx(n, sizeof *c);
    c->fn = fn;
    c->user = ctx;
    c->rng = rng;
    return out;
}
