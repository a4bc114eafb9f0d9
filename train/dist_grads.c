/* dist_grads.c: gradient averaging across ranks in flattened buckets (see dist.h). */
#include <stdlib.h>
#include <string.h>
#include "core/mem.h"      // defines: mem_set_tag
#include "train/dist.h"

/* sums `count` packed values of params[first..last) across ranks and writes them back times scale */
static void flush(tensor *const *params, int first, int last, float *bucket, int64_t count, float scale) {
    dist_allreduce_sum_f32(bucket, count, "the gradient all-reduce");
    int64_t at = 0;
    for (int i = first; i < last; i++) {
        tensor *g = params[i]->grad;
        if (!g) continue;
        float *d = tensor_f32(g);
        for (int64_t k = 0; k < g->numel; k++) d[k] = bucket[at + k] * scale;
        at += g->numel;
    }
}

void dist_allreduce_grads(tensor *const *params, int n, float scale, size_t bucket_bytes) {
    for (int i = 0; i < n; i++)   /* gradients on the GPU: NCCL */
        if (params[i]->grad && params[i]->grad->device != DEVICE_CPU) {
            dist_allreduce_grads_device(params, n, scale, bucket_bytes);
            return;
        }
    if (dist_world() == 1) {   /* alone: only the micro-step average */
        for (int i = 0; scale != 1.0f && i < n; i++)
            if (params[i]->grad) {
                float *d = tensor_f32(params[i]->grad);
                for (int64_t k = 0; k < params[i]->grad->numel; k++) d[k] *= scale;
            }
        return;
    }
    int64_t cap = dist_grads_prepare(params, n, bucket_bytes, NULL);
    mem_tag prev = mem_set_tag(MEM_WORKSPACE);
    tensor *buf = tensor_empty(SHAPE(cap > 0 ? cap : 1));
    mem_set_tag(prev);
    float *bucket = tensor_f32(buf);
    int first = 0;
    int64_t count = 0;
    for (int i = 0; i < n; i++) {
        tensor *g = params[i]->grad;
        if (!g) continue;
        if (count + g->numel > cap) {
            flush(params, first, i, bucket, count, scale);
            first = i, count = 0;
        }
        memcpy(bucket + count, tensor_f32(g), (size_t)g->numel * sizeof(float));
        count += g->numel;
    }
    if (count) flush(params, first, n, bucket, count, scale);
    tensor_release(buf);
}
