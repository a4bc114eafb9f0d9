/* ema.c: exponential moving average of weights (see ema.h). */
#include "optim/ema.h"
#ifdef VAEC_HAVE_CUDA
#include "optim/optim_cuda.h"   // defines: ema_update_cuda
#endif

ema *ema_new(tensor **params, int n, float decay) {
    ema *e = xcalloc(1, sizeof *e);
    e->n = n;
    e->decay = decay;
    e->params = xcalloc((size_t)n, sizeof(tensor *));
    e->shadow = xcalloc((size_t)n, sizeof(tensor *));
    mem_tag prev = mem_set_tag(MEM_OPTIMIZER);
    for (int i = 0; i < n; i++) {
        tensor_retain(params[i]);
        e->params[i] = params[i];
        e->shadow[i] = tensor_clone(params[i]);
    }
    mem_set_tag(prev);
    return e;
}

void ema_update(ema *e) {
    for (int i = 0; i < e->n; i++) {
        float *s = tensor_f32(e->shadow[i]);
        const float *p = tensor_f32(e->params[i]);
        CHECK_SAME_DEVICE("ema_update", e->shadow[i], e->params[i]);
#ifdef VAEC_HAVE_CUDA
        if (e->params[i]->device == DEVICE_CUDA) { ema_update_cuda(s, p, e->shadow[i]->numel, e->decay); continue; }
#endif
        for (int64_t k = 0; k < e->shadow[i]->numel; k++) s[k] = e->decay * s[k] + (1.0f - e->decay) * p[k];
    }
}

void ema_swap(ema *e) {
    for (int i = 0; i < e->n; i++) {
        if (e->params[i]->device != DEVICE_CPU) {   /* on a GPU: through a copy, still exact */
            tensor *tmp = tensor_clone(e->shadow[i]);
            tensor_copy_(e->shadow[i], e->params[i]);
            tensor_copy_(e->params[i], tmp);
            tensor_release(tmp);
            continue;
        }
        float *s = tensor_f32(e->shadow[i]), *p = tensor_f32(e->params[i]);
        for (int64_t k = 0; k < e->shadow[i]->numel; k++) { float v = s[k]; s[k] = p[k]; p[k] = v; }
    }
}

void ema_free(ema *e) {
    if (!e) return;
    for (int i = 0; i < e->n; i++) { tensor_release(e->params[i]); tensor_release(e->shadow[i]); }
    free(e->params);
    free(e->shadow);
    free(e);
}
