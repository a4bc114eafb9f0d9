/* partial.c: the state of a partial backward (ag_grad_of, grad_of.c), which ag_grad_add and the checkpoint
 * recomputation in autograd.c read: whether one runs and which tensors are its targets. A file of its own
 * so that autograd.c and grad_of.c both depend on it and not on each other. */
#include "autograd/autograd.h"   // defines: ag_partial_skips, AG_PARTIAL_MAX_TARGETS

static _Thread_local const tensor *targets[AG_PARTIAL_MAX_TARGETS];
static _Thread_local int n_targets, partial_depth;

bool ag_partial_skips(const tensor *t) {
    if (!partial_depth || t->grad_fn) return false;
    for (int i = 0; i < n_targets; i++)
        if (targets[i] == t) return false;
    return true;
}

bool ag_partial_active(void) { return partial_depth > 0; }

void ag_partial_push_target(const tensor *t) {
    CHECK(n_targets < AG_PARTIAL_MAX_TARGETS, "ag_grad_of: more than %d tensors to differentiate (checkpoint inputs included)",
          AG_PARTIAL_MAX_TARGETS);
    targets[n_targets++] = t;
}

void ag_partial_pop_targets(int n) { n_targets -= n; }

int ag_partial_n_targets(void) { return n_targets; }
void ag_partial_enter(void) { partial_depth++; }
void ag_partial_leave(void) { partial_depth--; }
