/* gradcheck.h: finite-difference gradient checks and PyTorch golden comparisons for op tests.
 *
 * gradcheck: loss = sum(f(inputs) * R) for a fixed random R; analytic gradients from ag_backward are
 * compared with central differences (loss accumulated in double) on every element of small inputs,
 * or on a seeded sample of max_elems elements of larger ones.
 *
 *   static tensor *f(void *ctx, tensor **in) { return op_silu(in[0]); }
 *   tensor *x = gc_input(SHAPE(2, 3, 5), 1);       // random N(0,1), requires_grad
 *   gradcheck("silu.odd", f, NULL, 1, (tensor *[]){x}, NULL);
 *
 * golden: tests/golden/<file>.safetensors written by tests/golden/gen.py.
 *   golden_file *g = golden_open("silu");
 *   golden_check("silu.fwd", out, g, "silu.y", 1e-5);
 */
#ifndef VAEC_GRADCHECK_H
#define VAEC_GRADCHECK_H
#include "core/safetensors.h"   // defines: st_file
#include "core/tensor.h"        // defines: tensor

typedef tensor *(*gc_fn)(void *ctx, tensor **inputs);

typedef struct {
    double eps;        /* step, default 1e-2 */
    double rtol;       /* default 2e-2 */
    double atol;       /* absolute floor relative to the largest gradient, default 2e-3 */
    int max_elems;     /* per input, default 256 */
} gc_opts;

/* returns 1 if all gradients match; failures are reported through EXPECT */
int gradcheck(const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs, const gc_opts *opts);

/* random N(0, scale^2) leaf tensor with requires_grad, from a seed */
tensor *gc_input(int ndim, const int64_t *shape, uint64_t seed);
tensor *gc_input_scaled(int ndim, const int64_t *shape, uint64_t seed, float scale);
/* after a backward: out[j] takes x[j]'s gradient over (x[j]->grad left NULL), for each of the n inputs that is not
   NULL (out[j] NULL for those that are); a missing or not-float32 gradient is a failure naming `what` and j.
   Then each x[j] is released: the inputs were made for this one run. */
void gc_take_input_grads(tensor **x, int n, tensor **out, const char *what);

typedef st_file golden_file;
golden_file *golden_open(const char *name);          /* fatal with a hint if missing */
void golden_close(golden_file *g);
tensor *golden_get(golden_file *g, const char *key); /* caller releases; fatal if missing */
tensor *golden_leaf(golden_file *g, const char *key);/* same, with requires_grad */
/* max|got - want| / max|want|; EXPECTs it <= tol and the shapes equal; returns the error */
double golden_compare(const char *label, const tensor *got, const tensor *want, double tol);
double rel_error(const tensor *got, const tensor *want);
/* golden_compare against golden tensor `key`, loaded and released here */
double golden_check(const char *label, const tensor *got, golden_file *g, const char *key, double tol);
/* The whole golden case `prefix`: loads inputs <prefix>.<in[i]> as leaves, runs f, compares the output
   with <prefix>.<out>, backpropagates <prefix>.gy and compares each input's gradient with
   <prefix>.<grads[i]> (grads[i] NULL: no gradient expected for that input). */
void golden_check_op(golden_file *g, const char *prefix, gc_fn f, void *ctx, int n, const char *const *in,
                     const char *const *grads, const char *out, double tol);

/* Every parameter's gradient against golden "<prefix><parameter key>" (vaec layout), tolerance tol.
   Gradients that are zero in exact arithmetic (golden max below 1e-9 of the largest gradient: e.g.
   attention's to_k.bias, or a bias feeding a group norm of one channel per group) come out of float64
   PyTorch as ~1e-15 and of float32 as rounding noise: those are checked against the model's gradient
   scale instead (below 1e-5 of it). Prints one summary line; returns the worst relative error. */
struct param_list;
double golden_check_param_grads(const char *label, const struct param_list *pl, golden_file *g, const char *prefix,
                                double tol);

#endif
