/* autograd.c: the tape, recording, gradient accumulation and backward (see autograd.h). */
#include "autograd/autograd.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct { ag_node **nodes; int n, cap; } ag_tape;

#define MAX_TAPES 16
static _Thread_local ag_tape tapes[MAX_TAPES];   /* nested for checkpoint recomputation */
static _Thread_local int tape_top;               /* index of the current tape */
static _Thread_local bool grad_enabled = true;

bool ag_set_grad_enabled(bool enabled) { bool old = grad_enabled; grad_enabled = enabled; return old; }
bool ag_grad_enabled(void) { return grad_enabled; }
int ag_tape_size(void) { return tapes[tape_top].n; }
ag_node **ag_tape_nodes(int *n) { *n = tapes[tape_top].n; return tapes[tape_top].nodes; }

ag_node *ag_record(const char *op, ag_backward_fn backward, tensor *out, int n_inputs, tensor **inputs) {
    if (!grad_enabled) return NULL;
    bool any = false;
    for (int i = 0; i < n_inputs; i++) any |= inputs[i] && inputs[i]->requires_grad;
    if (!any) return NULL;
    CHECK(out->grad_fn == NULL, "op %s: output already has a producer", op);
    tensor_set_grad_fn_release(ag_node_forget_output);   /* a freed output must not be left in its node */
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
    if (!t->requires_grad || ag_partial_skips(t)) return;
    check_grad_shape(t, g);
    if (!t->grad) {
        mem_tag prev = mem_set_tag(t->grad_fn ? MEM_ACTIVATIONS : MEM_GRADS);
        t->grad = tensor_clone(g);
        mem_set_tag(prev);
    } else tensor_add_(t->grad, g);
}

void ag_grad_add_owned(tensor *t, tensor *g) {
    if (!t->requires_grad || ag_partial_skips(t)) { tensor_release(g); return; }
    check_grad_shape(t, g);
    if (!t->grad && g->refcount == 1 && g->block->refcount == 1) {
        /* nobody else holds it: take it over, no copy, as PyTorch's AccumulateGrad steals such a gradient. A
           leaf's (a parameter's) outlives the backward, so its bytes count as gradients from here on: cloning
           them instead copied and faulted in 1.2 GB a stage-1 step (309.7M parameters) */
        if (!t->grad_fn) mem_block_retag(g->block, MEM_GRADS);
        t->grad = g;
        return;
    }
    ag_grad_add(t, g);
    tensor_release(g);
}

/* ---- the gradient-ready hook (see autograd.h) ---- */
static void checkpoint_backward(ag_node *n);
static struct {
    tensor *const *watched;
    int n, n_slots;
    ag_ready_fn ready;
    void *ctx;
    int *slot;        /* open-addressing table: pointer hash -> watched index, -1 empty */
    int *first_use;   /* per watched tensor: the earliest node of the tape taking it as input */
    int *order;       /* watched indices by first use, latest first: the order the walk finishes them */
    int n_early, next, nodes_left;
    bool walking;
} hook;

static int hook_slot_of(const tensor *t) {
    uint64_t h = (uint64_t)(uintptr_t)t * 0x9E3779B97F4A7C15ull;
    int s = (int)(h >> 40) & (hook.n_slots - 1);
    while (hook.slot[s] >= 0 && hook.watched[hook.slot[s]] != t) s = (s + 1) & (hook.n_slots - 1);
    return s;
}

void ag_set_grad_ready_hook(tensor *const *watched, int n, ag_ready_fn ready, void *ctx) {
    free(hook.slot), free(hook.first_use), free(hook.order);
    memset(&hook, 0, sizeof hook);
    if (!ready || n <= 0) return;
    hook.watched = watched, hook.n = n, hook.ready = ready, hook.ctx = ctx;
    for (hook.n_slots = 16; hook.n_slots < 2 * n; hook.n_slots *= 2) {}
    hook.slot = xmalloc((size_t)hook.n_slots * sizeof(int));
    for (int i = 0; i < hook.n_slots; i++) hook.slot[i] = -1;
    for (int i = 0; i < n; i++) hook.slot[hook_slot_of(watched[i])] = i;
    hook.first_use = xmalloc((size_t)n * sizeof(int));
    hook.order = xmalloc((size_t)n * sizeof(int));
}

int ag_backward_nodes_left(void) { return hook.walking ? hook.nodes_left : 0; }

static int by_first_use_desc(const void *a, const void *b) {
    int x = hook.first_use[*(const int *)a], y = hook.first_use[*(const int *)b];
    return x != y ? (x < y ? 1 : -1) : *(const int *)a - *(const int *)b;
}

/* before the outermost walk: when each watched gradient becomes final. A checkpoint node hides the weights
   of its segment (they are not its inputs), so a tensor first used after the earliest checkpoint node might
   still receive a gradient from it: those wait for the end of the walk, as do tensors no node uses. */
static void hook_plan(const ag_tape *t) {
    int first_ckpt = t->n;
    for (int i = 0; i < hook.n; i++) hook.first_use[i] = -1;
    for (int j = t->n - 1; j >= 0; j--) {
        const ag_node *nd = t->nodes[j];
        if (nd->backward == checkpoint_backward) first_ckpt = j;
        for (int k = 0; k < nd->n_inputs; k++) {
            int w = nd->inputs[k] ? hook.slot[hook_slot_of(nd->inputs[k])] : -1;
            if (w >= 0) hook.first_use[w] = j;   /* descending j: the last write is the earliest use */
        }
    }
    int early = 0, late = hook.n;
    for (int i = 0; i < hook.n; i++) {
        if (hook.first_use[i] >= 0 && hook.first_use[i] <= first_ckpt) hook.order[early++] = i;
        else hook.order[--late] = i;
    }
    qsort(hook.order, (size_t)early, sizeof(int), by_first_use_desc);
    for (int a = late, b = hook.n - 1; a < b; a++, b--) { int x = hook.order[a]; hook.order[a] = hook.order[b]; hook.order[b] = x; }
    hook.n_early = early, hook.next = 0, hook.nodes_left = t->n, hook.walking = true;
}

/* after node i of the outermost walk: every watched tensor first used at i or later is final */
static void hook_after_node(int i) {
    hook.nodes_left = i;
    while (hook.next < hook.n_early && hook.first_use[hook.order[hook.next]] >= i) hook.ready(hook.ctx, hook.order[hook.next++]);
}

static void hook_end_walk(void) {
    hook.nodes_left = 0;
    while (hook.next < hook.n) hook.ready(hook.ctx, hook.order[hook.next++]);
    hook.walking = false;
}

/* Run the current tape backward from `out` (whose grad must be set), then free it. */
static void run_tape_backward(void) {
    ag_tape *t = &tapes[tape_top];
    const bool outer_hook = hook.ready && tape_top == 0;
    if (outer_hook) hook_plan(t);
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
        if (outer_hook) hook_after_node(i);
    }
    t->n = 0;
    if (outer_hook) hook_end_walk();
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
    const bool partial = ag_partial_active();   /* inside ag_grad_of: the segment's inputs take gradients */
    for (int i = 0; partial && i < n->n_inputs; i++) ag_partial_push_target(detached[i]);
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
    if (partial) ag_partial_pop_targets(n->n_inputs);
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
