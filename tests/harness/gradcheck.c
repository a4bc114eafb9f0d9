/* gradcheck.c: finite differences and golden comparisons (see gradcheck.h). */
#include "tests/harness/gradcheck.h"
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"    // defines: ag_backward_with_grad
#include "core/rng.h"             // defines: rng_fill_normal
#include "layers/params.h"         // defines: param_list
#include "tests/harness/test.h"   // defines: EXPECT

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

tensor *gc_input_scaled(int ndim, const int64_t *shape, uint64_t seed, float scale) {
    tensor *t = tensor_empty(ndim, shape);
    rng_state r = rng_seed(seed);
    rng_fill_normal(&r, tensor_f32(t), t->numel, 0.0f, scale);
    t->requires_grad = true;
    return t;
}

tensor *gc_input(int ndim, const int64_t *shape, uint64_t seed) { return gc_input_scaled(ndim, shape, seed, 1.0f); }

void gc_take_input_grads(tensor **x, int n, tensor **out, const char *what) {
    for (int j = 0; j < n; j++) {
        out[j] = NULL;
        if (!x[j]) continue;
        EXPECT(x[j]->grad && x[j]->grad->dtype == DTYPE_F32, "%s: input %d's gradient is missing or not float32", what, j);
        out[j] = x[j]->grad;
        x[j]->grad = NULL;
        tensor_release(x[j]);
    }
}

static double dot_with(const tensor *out, const tensor *r) {
    tensor *o = out->device == DEVICE_CPU ? (tensor *)out : tensor_to(out, DEVICE_CPU);
    const float *a = tensor_f32(o), *b = tensor_f32(r);
    double s = 0;
    for (int64_t i = 0; i < o->numel; i++) s += (double)a[i] * (double)b[i];
    if (o != out) tensor_release(o);
    return s;
}

int gradcheck(const char *label, gc_fn f, void *ctx, int n_inputs, tensor **inputs, const gc_opts *opts) {
    gc_opts o = {1e-2, 2e-2, 2e-3, 256};
    if (opts) {
        if (opts->eps > 0) o.eps = opts->eps;
        if (opts->rtol > 0) o.rtol = opts->rtol;
        if (opts->atol > 0) o.atol = opts->atol;
        if (opts->max_elems > 0) o.max_elems = opts->max_elems;
    }
    for (int i = 0; i < n_inputs; i++) { tensor_release(inputs[i]->grad); inputs[i]->grad = NULL; }

    /* analytic */
    tensor_scope_begin();
    tensor *out = f(ctx, inputs);
    tensor *r = tensor_empty(out->ndim, out->shape);
    rng_state rs = rng_seed(hash_str(label));
    rng_fill_normal(&rs, tensor_f32(r), r->numel, 0.0f, 1.0f);
    EXPECT(out->requires_grad, "%s: output does not require grad", label);
    if (out->requires_grad) ag_backward_with_grad(out, r);
    tensor_scope_end(NULL);

    int ok = 1;
    bool prev = ag_set_grad_enabled(false);
    for (int i = 0; i < n_inputs; i++) {
        tensor *x = inputs[i];
        if (!x->requires_grad) continue;
        EXPECT(x->grad != NULL, "%s: input %d got no gradient", label, i);
        if (!x->grad) { ok = 0; continue; }
        float *xd = tensor_f32(x);
        const float *g = tensor_f32(x->grad);
        double gmax = 0;
        for (int64_t k = 0; k < x->numel; k++) gmax = fmax(gmax, fabs(g[k]));
        int64_t count = x->numel < o.max_elems ? x->numel : o.max_elems;
        rng_state pick = rng_seed(hash_str(label) + (uint64_t)i);
        double worst = 0;
        int64_t worst_k = -1;
        double worst_num = 0, worst_ana = 0;
        for (int64_t c = 0; c < count; c++) {
            int64_t k = x->numel <= o.max_elems ? c : (int64_t)(rng_next_u32(&pick) % (uint32_t)x->numel);
            float orig = xd[k];
            tensor_scope_begin();
            xd[k] = orig + (float)o.eps;
            tensor_mark_written(x);   /* xd was taken once: each write says so (cached conv weights) */
            double lp = dot_with(f(ctx, inputs), r);
            xd[k] = orig - (float)o.eps;
            tensor_mark_written(x);
            double lm = dot_with(f(ctx, inputs), r);
            tensor_scope_end(NULL);
            xd[k] = orig;
            tensor_mark_written(x);
            double num = (lp - lm) / (2 * o.eps), ana = g[k];
            double excess = fabs(num - ana) - (o.atol * fmax(1.0, gmax) + o.rtol * fmax(fabs(num), fabs(ana)));
            if (excess > worst || worst_k < 0) {
                if (excess > worst) worst = excess;
                if (excess > 0 || worst_k < 0) { worst_k = k; worst_num = num; worst_ana = ana; }
            }
        }
        if (worst > 0) {
            ok = 0;
            EXPECT(0, "%s: input %d element %lld: analytic %.6g, finite difference %.6g", label, i,
                   (long long)worst_k, worst_ana, worst_num);
        }
    }
    ag_set_grad_enabled(prev);
    tensor_release(r);
    return ok;
}

golden_file *golden_open(const char *name) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/%s.safetensors", name);
    char *path = test_path(rel);
    st_file *f = st_open(path);
    CHECK_HINT(f != NULL, "regenerate goldens with: python3 tests/golden/gen.py (needs torch)", "%s",
               vaec_last_error());
    free(path);
    return f;
}

void golden_close(golden_file *g) { st_close(g); }
tensor *golden_get(golden_file *g, const char *key) { return st_load_checked(g, key); }

tensor *golden_leaf(golden_file *g, const char *key) {
    tensor *t = golden_get(g, key);
    t->requires_grad = true;
    return t;
}

double rel_error(const tensor *got, const tensor *want) {
    tensor *a = got->device == DEVICE_CPU ? (tensor *)got : tensor_to(got, DEVICE_CPU);
    const float *x = tensor_f32(a), *y = tensor_f32(want);
    double dmax = 0, ymax = 0;
    for (int64_t i = 0; i < want->numel; i++) {
        double d = fabs((double)x[i] - (double)y[i]);
        if (!(d <= dmax)) dmax = isnan(d) ? INFINITY : d;
        ymax = fmax(ymax, fabs((double)y[i]));
    }
    if (a != got) tensor_release(a);
    return dmax / fmax(ymax, 1e-12);
}

double golden_compare(const char *label, const tensor *got, const tensor *want, double tol) {
    char a[96], b[96];
    tensor_shape_str(got, a, sizeof a);
    tensor_shape_str(want, b, sizeof b);
    if (got->numel != want->numel || !tensor_same_shape(got, want)) {
        EXPECT(0, "%s: shape %s, golden %s", label, a, b);
        return INFINITY;
    }
    double e = rel_error(got, want);
    test_note_error(label, e);
    if (getenv("VAEC_TEST_VERBOSE")) printf("    %-48s rel. error %.3e\n", label, e);
    EXPECT(e <= tol, "%s: relative error %.3e above %.1e (shape %s)", label, e, tol, a);
    return e;
}

double golden_check(const char *label, const tensor *got, golden_file *g, const char *key, double tol) {
    tensor *want = golden_get(g, key);
    double e = got ? golden_compare(label, got, want, tol) : INFINITY;
    if (!got) EXPECT(0, "%s: no tensor to compare (missing gradient?)", label);
    tensor_release(want);
    return e;
}

void golden_check_op(golden_file *g, const char *prefix, gc_fn f, void *ctx, int n, const char *const *in,
                     const char *const *grads, const char *out, double tol) {
    char key[256], label[256];
    tensor *inputs[16];
    CHECK(n <= 16, "golden_check_op: at most 16 inputs");
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s.%s", prefix, in[i]);
        inputs[i] = golden_get(g, key);
        inputs[i]->requires_grad = grads[i] != NULL;
    }
    tensor_scope_begin();
    tensor *y = f(ctx, inputs);
    snprintf(key, sizeof key, "%s.%s", prefix, out);
    snprintf(label, sizeof label, "%s.fwd", prefix);
    golden_check(label, y, g, key, tol);
    snprintf(key, sizeof key, "%s.gy", prefix);
    tensor *gy = golden_get(g, key);
    if (y->requires_grad) ag_backward_with_grad(y, gy);
    tensor_release(gy);
    tensor_scope_end(NULL);
    for (int i = 0; i < n; i++) {
        if (grads[i]) {
            snprintf(key, sizeof key, "%s.%s", prefix, grads[i]);
            snprintf(label, sizeof label, "%s.bwd_%s", prefix, in[i]);
            golden_check(label, inputs[i]->grad, g, key, tol);
        }
        tensor_release(inputs[i]);
    }
}

double golden_check_param_grads(const char *label, const param_list *pl, golden_file *g, const char *prefix, double tol) {
    char k[600];
    tensor **want = xcalloc((size_t)pl->n, sizeof(tensor *));
    double scale = 0, worst = 0;
    for (int i = 0; i < pl->n; i++) {
        snprintf(k, sizeof k, "%s%s", prefix, pl->items[i].name);
        want[i] = golden_get(g, k);
        for (int64_t j = 0; j < want[i]->numel; j++) scale = fmax(scale, fabs(tensor_f32(want[i])[j]));
    }
    int zeros = 0;
    for (int i = 0; i < pl->n; i++) {
        const param_entry *p = &pl->items[i];
        double ref = 0, got = 0;
        for (int64_t j = 0; j < want[i]->numel; j++) ref = fmax(ref, fabs(tensor_f32(want[i])[j]));
        EXPECT(p->t->grad != NULL, "%s: %s has no gradient", label, p->name);
        if (!p->t->grad) continue;
        if (ref < 1e-9 * scale) {
            zeros++;
            for (int64_t j = 0; j < p->t->grad->numel; j++) got = fmax(got, fabs(tensor_f32(p->t->grad)[j]));
            EXPECT(got <= 1e-5 * scale, "%s: %s should have no gradient, max |g| = %.3e (scale %.3e)", label, p->name, got, scale);
        } else {
            double e = golden_compare(label, p->t->grad, want[i], tol);
            if (e > worst) worst = e;
            if (e > tol) printf("    (%s)\n", p->name);
        }
    }
    for (int i = 0; i < pl->n; i++) tensor_release(want[i]);
    free(want);
    printf("    %s: %d parameters, %lld values, worst gradient error %.2e (%d structurally zero gradients checked "
           "against the gradient scale %.2e)\n", label, pl->n, (long long)params_count(pl), worst, zeros, scale);
    return worst;
}
