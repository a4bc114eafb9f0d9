/* conv_algo.c: ordering and filtering of cuDNN convolution algorithms, as plain C (see conv_algo.h). */
#include "core/ops/conv_algo.h"
#include <stdio.h>
#include <string.h>
#include "core/check.h"   // defines: FATAL

static bool listed(const conv_algo_list *l, int algo) {
    for (int i = 0; i < l->n; i++)
        if (l->algo[i] == algo) return true;
    return false;
}

/* whether the heuristic itself reported algo unsupported: then no last resort brings it back */
static bool refused(const conv_algo_perf *perf, int n, int algo) {
    for (int i = 0; i < n; i++)
        if (perf[i].algo == algo && !perf[i].last_resort && !perf[i].supported) return true;
    return false;
}

typedef enum { TAKE, UNSUPPORTED, TENSOR_MATH, APPROX, WORKSPACE } verdict;

static verdict judge(const conv_algo_perf *perf, int n, const conv_algo_perf *p, const conv_algo_policy *pol) {
    if (!p->supported || (p->last_resort && refused(perf, n, p->algo))) return UNSUPPORTED;
    if (!pol->bf16 && p->tensor_math) return TENSOR_MATH;
    if (!pol->bf16 && p->approx) return APPROX;
    if (p->workspace > pol->max_workspace) return WORKSPACE;
    return TAKE;
}

/* appends the entries of one determinism kind (any, without the wish) that keep the policy, in the
 * heuristic's order, and counts why the others were passed over */
static void take_kind(const conv_algo_perf *perf, int n, const conv_algo_policy *pol, bool deterministic,
                      conv_algo_list *l) {
    for (int i = 0; i < n; i++) {
        const conv_algo_perf *p = &perf[i];
        if (pol->deterministic && p->deterministic != deterministic) continue;
        if (listed(l, p->algo)) continue;
        switch (judge(perf, n, p, pol)) {
        case UNSUPPORTED: l->n_unsupported++; continue;
        case TENSOR_MATH: l->n_tensor_math++; continue;
        case APPROX: l->n_approx++; continue;
        case WORKSPACE: l->n_workspace++; continue;
        case TAKE: break;
        }
        if (l->n == CONV_ALGO_MAX) return;
        l->algo[l->n] = p->algo;
        l->workspace[l->n++] = p->workspace;
    }
}

void conv_algo_order(const conv_algo_perf *perf, int n, const conv_algo_policy *pol, conv_algo_list *out) {
    memset(out, 0, sizeof *out);
    take_kind(perf, n, pol, true, out);
    out->n_deterministic = out->n;
    if (pol->deterministic) take_kind(perf, n, pol, false, out);   /* the fallback */
    else out->n_deterministic = out->n;
}

void conv_algo_shape(const conv_geom *g, bool bf16, char *buf, size_t n) {
    snprintf(buf, n,
             "%s x (%lld,%lld,%lld,%lld,%lld) w (%lld,%lld,%lld,%lld,%lld) stride (%d,%d,%d) pad (%d,%d,%d,%d,%d,%d)",
             bf16 ? "bf16" : "fp32", (long long)g->B, (long long)g->T, (long long)g->H, (long long)g->W,
             (long long)g->cin, (long long)g->cout, (long long)g->kt, (long long)g->kh, (long long)g->kw,
             (long long)g->cin, g->st, g->sh, g->sw, g->pad[0], g->pad[1], g->pad[2], g->pad[3], g->pad[4], g->pad[5]);
}

void conv_algo_require(const conv_algo_list *l, const char *pass, const char *shape) {
    if (l->n > 0) return;
    vaec_fatal(__FILE__, __LINE__,
               "try another cuDNN 9 release, or train this model with --set train.device=cpu and report the shape",
               "conv (CUDA) %s: cuDNN offers no usable algorithm for %s (%d unsupported, %d only with TF32/tensor "
               "math, %d FFT or non-fused Winograd (fp32 error near 1e-5), %d needing more workspace than allowed)",
               pass, shape, l->n_unsupported, l->n_tensor_math, l->n_approx, l->n_workspace);
}

bool conv_algo_note(const conv_algo_list *l, const char *pass, const char *shape, char *buf, size_t n) {
    if (l->warned || l->cur < l->n_deterministic || l->cur >= l->n) return false;
    snprintf(buf, n,
             "vaec: warning: conv (CUDA) %s: cuDNN has no deterministic algorithm that runs %s; using "
             "non-deterministic algorithm %d: this conv's results may differ in the last bits from run to run",
             pass, shape, l->algo[l->cur]);
    return true;
}

int conv_algo_take(conv_algo_list *l, const char *pass, const char *shape) {
    char note[768];
    if (conv_algo_note(l, pass, shape, note, sizeof note)) {
        fprintf(stderr, "%s\n", note);
        l->warned = true;
    }
    return l->cur;
}

bool conv_algo_advance(conv_algo_list *l) {
    if (l->cur + 1 >= l->n) return false;
    l->cur++;
    return true;
}
