/* autograd.h: tape-based reverse-mode automatic differentiation.
 *
 * Every differentiable op (core/ops/) that runs while grad mode is on and has an input with
 * requires_grad appends one node to the current tape: its backward function, its inputs (retained),
 * the tensors it saved, and a small context of its arguments. ag_backward(loss) walks the tape in
 * reverse (forward order is a topological order), accumulating into .grad of every tensor that
 * requires it, then frees the tape, so saved activations die as soon as backward has used them.
 *
 *   x->requires_grad = true;
 *   tensor *loss = op_sum_all(op_square(x));
 *   ag_backward(loss);                 // x->grad = 2x
 *
 *   bool prev = ag_set_grad_enabled(false);   // no-grad scope: nothing recorded, nothing kept
 *   ... frozen spatial VAE forward ...
 *   ag_set_grad_enabled(prev);
 *
 * Writing an op's node (see core/ops/README.md):
 *   ag_node *n = ag_record("silu", silu_backward, out, 1, (tensor *[]){x});
 *   if (n) ag_save(n, x);              // NULL when nothing is recorded
 */
#ifndef VAEC_AUTOGRAD_H
#define VAEC_AUTOGRAD_H
#include <stdbool.h>
#include "core/rng.h"      // defines: rng_state
#include "core/tensor.h"   // defines: tensor

#define AG_MAX_CHECKPOINT_INPUTS 8   /* inputs of one checkpointed segment */
#define AG_MAX_SAVED 4

typedef struct ag_node ag_node;
typedef void (*ag_backward_fn)(ag_node *node);

struct ag_node {
    const char *op;                     /* for messages and debug dumps */
    ag_backward_fn backward;
    tensor *out;                        /* weak: cleared when the output dies... */
    bool owns_out;                      /* ...unless a consumer handed its reference over (node_free) */
    tensor **inputs;                    /* retained; any number (concat takes many) */
    int n_inputs;
    tensor *saved[AG_MAX_SAVED];        /* retained */
    int n_saved;
    void *ctx;                          /* op arguments, freed with the node */
    void (*ctx_free)(void *ctx);        /* optional extra cleanup of ctx's contents */
    unsigned data_unused;               /* bit i: backward never reads input i's values (ag_input_data_unused) */
};

/* grad mode */
bool ag_set_grad_enabled(bool enabled);  /* returns the previous mode */
bool ag_grad_enabled(void);

/* recording (for op implementations); returns NULL when nothing needs recording */
ag_node *ag_record(const char *op, ag_backward_fn backward, tensor *out, int n_inputs, tensor **inputs);
void ag_save(ag_node *n, tensor *t);
void *ag_ctx(ag_node *n, size_t bytes);  /* zeroed, owned by the node */
void ag_node_forget_output(ag_node *n, tensor *out);
/* input i (< 32) is needed for its gradient only, never for its values (a cast): when every reference left
 * to it is of this kind, its storage is freed at once instead of living until backward */
void ag_input_data_unused(ag_node *n, int i);

/* gradient of an input: does it need one? */
static inline bool ag_needs_grad(const ag_node *n, int i) { return n->inputs[i] && n->inputs[i]->requires_grad; }

/* accumulate g into t->grad (same shape). _owned takes g over (the caller must not use it after). */
void ag_grad_add(tensor *t, const tensor *g);
void ag_grad_add_owned(tensor *t, tensor *g);

/* backward */
void ag_backward(tensor *loss);                       /* loss must have one element; seeds 1 */
void ag_backward_with_grad(tensor *out, const tensor *grad_out);
void ag_tape_clear(void);                             /* drop the graph without a backward */
int ag_tape_size(void);
void ag_zero_grad(tensor **params, int n);            /* frees the grads */

/* gradient-ready hook (data-parallel overlap, train/grad_sync.h): while armed, the next outermost backward
 * calls ready(ctx, i) for watched[i] as soon as its gradient is final, i.e. once the walk has passed the
 * earliest node that takes it as an input (no node left can add to it), while the rest of backward still
 * runs; a watched tensor used by no node, or inside an activation-checkpointed segment that runs later,
 * is reported when the walk ends. Each watched tensor is reported exactly once a backward, in the order
 * the walk finishes them. Nested walks (checkpoint recomputation) report nothing themselves. */
typedef void (*ag_ready_fn)(void *ctx, int index);
void ag_set_grad_ready_hook(tensor *const *watched, int n, ag_ready_fn ready, void *ctx);   /* NULL: disarm */
int ag_backward_nodes_left(void);   /* during a walk: the nodes of the outermost tape not yet run */
/* The gradient of the scalar `out` with respect to each of wrt[0..n) (leaves or intermediates), into
 * grads[k] (new tensors, zeros where out does not depend on wrt[k]), keeping the tape for a later
 * backward: torch.autograd.grad(out, wrt, retain_graph=True). No tensor's .grad changes, and only the
 * nodes between wrt and out run (autograd/grad_of.c). No double backward: the gradients are constants.
 *   ag_grad_of(nll, 1, &last_layer, &g_nll);   // then ag_backward(total) as usual */
void ag_grad_of(tensor *out, int n, tensor **wrt, tensor **grads);
/* for autograd.c and grad_of.c: the current tape; whether ag_grad_add passes t over during ag_grad_of
 * (a leaf that is no target); targets a checkpointed segment's recomputation adds for its inputs */
ag_node **ag_tape_nodes(int *n);
bool ag_partial_skips(const tensor *t);
bool ag_partial_active(void);
void ag_partial_push_target(const tensor *t);
void ag_partial_pop_targets(int n);
/* autograd/partial.c: grad_of.c enters and leaves a partial walk; at most AG_PARTIAL_MAX_TARGETS targets at once */
enum { AG_PARTIAL_MAX_TARGETS = 64 };
void ag_partial_enter(void);
void ag_partial_leave(void);
int ag_partial_n_targets(void);

/* activation checkpointing: run fn without recording; recompute with recording in backward */
typedef tensor *(*ag_segment_fn)(void *ctx, tensor **inputs);
tensor *ag_checkpoint(ag_segment_fn fn, void *ctx, int n_inputs, tensor **inputs);

#endif
