/* dist_grads_layout.c: the gradient bucket layout every rank packs alike (see dist.h), shared by the MPI
 * path (dist_grads.c) and the NCCL path (dist_grads_device.c). */
#include <stdlib.h>
#include "core/mem.h"      // defines: mem_set_tag
#include "train/dist.h"

int64_t dist_grads_prepare(tensor *const *params, int n, size_t bucket_bytes, int64_t *largest_out) {
    /* every rank must pack the same layout: a gradient missing here but present elsewhere becomes zeros */
    int *has = xcalloc((size_t)(n ? n : 1), sizeof(int));
    for (int i = 0; i < n; i++) has[i] = params[i]->grad != NULL;
    dist_allreduce_max_i32(has, n, "the gradient presence flags");
    mem_tag prev = mem_set_tag(MEM_GRADS);
    for (int i = 0; i < n; i++)
        if (has[i] && !params[i]->grad) params[i]->grad = tensor_zeros_like(params[i]);
    mem_set_tag(prev);
    free(has);
    int64_t cap = (int64_t)(bucket_bytes / sizeof(float)), largest = 0;
    for (int i = 0; i < n; i++)
        if (params[i]->grad && params[i]->grad->numel > largest) largest = params[i]->grad->numel;
    if (largest_out) *largest_out = largest;
    return cap < largest ? largest : cap;   /* one tensor never spans two buckets */
}
