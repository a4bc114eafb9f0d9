/* clip.c: global-norm gradient clipping (see clip.h). */
#include "optim/clip.h"
#include <math.h>

double grad_global_norm(tensor *const *params, int n) {
    double total = 0;
    for (int i = 0; i < n; i++) {
        const tensor *g = params[i]->grad;
        if (!g) continue;
        if (g->device != DEVICE_CPU) DEVICE_UNSUPPORTED("grad_global_norm", g->device);
        const float *d = tensor_f32(g);
        double s = 0;
        for (int64_t k = 0; k < g->numel; k++) s += (double)d[k] * d[k];
        total += s;
    }
    return sqrt(total);
}

double clip_grad_norm(tensor *const *params, int n, double max_norm) {
    double total = grad_global_norm(params, n), coef = max_norm / (total + 1e-6);
    if (coef < 1.0)
        for (int i = 0; i < n; i++) {
            tensor *g = params[i]->grad;
            if (!g) continue;
            float *d = tensor_f32(g);
            for (int64_t k = 0; k < g->numel; k++) d[k] = (float)(d[k] * coef);
        }
    return total;
}
