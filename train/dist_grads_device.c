/* dist_grads_device.c: gradient averaging for gradients on the GPU (see dist.h): NCCL sums flattened
 * device buckets, scaled by 1 / (ranks x micro-steps) inside NCCL. This first version packs and reduces
 * after backward (no overlap with it yet: the hand-over during backward needs a per-layer hook in autograd;
 * the communicator already supports it, see dist_nccl.h). */
#include <stdlib.h>
#include "autograd/autograd.h"   // defines: ag_set_grad_enabled
#include "core/mem.h"            // defines: mem_set_tag
#include "core/ops.h"            // defines: op_mul_scalar
#include "train/dist.h"
#include "train/dist_nccl.h"     // defines: dist_nccl_open, nccl_comm_reduce_bucket

static void scale_in_place(tensor *g, float scale) {   /* device-agnostic, through the op's own kernel */
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor_copy_(g, op_mul_scalar(g, scale));
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
}

#ifdef VAEC_HAVE_NCCL
static nccl_comm *comm;          /* opened on first use; one per process */
static tensor *slab;             /* the device bucket NCCL reduces, registered once */
static int slab_bucket = -1;

/* the first `count` values of the slab: NCCL's stream waits for the copies queued on the compute stream
 * by an event, and the copies back are queued after dist_nccl_wait has seen the reduction end */
static void reduce_slab(int64_t count, float scale) {
    char err[512];
    if (nccl_comm_reduce_bucket(comm, slab_bucket, count, scale, err, sizeof err) != 0) dist_abort("%s", err);
    dist_nccl_wait(comm, dist_timeout_seconds());
}

static void allreduce_nccl(tensor *const *params, int n, float scale, size_t bucket_bytes) {
    int64_t largest;
    const int64_t cap = dist_grads_prepare(params, n, bucket_bytes, &largest);
    if (!comm) comm = dist_nccl_open(dist_timeout_seconds());
    if (!slab) {   /* NCCL keeps the pointer: the slab lives as long as the process */
        mem_tag prev = mem_set_tag(MEM_WORKSPACE);
        slab = tensor_new(SHAPE(cap > 0 ? cap : 1), DTYPE_F32, DEVICE_CUDA);
        slab_bucket = nccl_comm_add_bucket(comm, tensor_f32(slab), slab->numel);
        mem_set_tag(prev);
    }
    CHECK(slab->numel >= largest, "the GPU gradient bucket (%lld values) is smaller than a gradient (%lld values)",
          (long long)slab->numel, (long long)largest);
    float *dst = tensor_f32(slab);
    int first = 0;
    int64_t count = 0;
    for (int i = 0; i <= n; i++) {
        tensor *g = i < n ? params[i]->grad : NULL;
        if (i == n || (g && count + g->numel > slab->numel)) {   /* flush params[first..i) */
            if (count) {
                reduce_slab(count, scale);
                int64_t at = 0;
                for (int k = first; k < i; k++)
                    if (params[k]->grad) {
                        tensor *gk = params[k]->grad;
                        device_memcpy(gk->data, DEVICE_CUDA, dst + at, DEVICE_CUDA, (size_t)gk->numel * sizeof(float));
                        at += gk->numel;
                    }
            }
            first = i, count = 0;
            if (i == n) break;
        }
        if (!g) continue;
        device_memcpy(dst + count, DEVICE_CUDA, g->data, DEVICE_CUDA, (size_t)g->numel * sizeof(float));
        count += g->numel;
    }
}
#else
static void allreduce_nccl(tensor *const *params, int n, float scale, size_t bucket_bytes) {
    (void)params, (void)n, (void)scale, (void)bucket_bytes;
    CHECK_HINT(0, "build on a machine with the CUDA toolkit and NCCL (nvcc, nccl.h, libnccl)",
               "data-parallel training on GPUs needs NCCL, and this vaec was built without it");
}
#endif

void dist_allreduce_grads_device(tensor *const *params, int n, float scale, size_t bucket_bytes) {
    if (dist_world() == 1) {   /* alone: only the micro-step average */
        for (int i = 0; scale != 1.0f && i < n; i++)
            if (params[i]->grad) scale_in_place(params[i]->grad, scale);
        return;
    }
    allreduce_nccl(params, n, scale, bucket_bytes);
}
