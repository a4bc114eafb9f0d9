/* grad_sync.c: bucketed gradient averaging overlapped with backward (see grad_sync.h). */
#include "train/grad_sync.h"
#include <stdlib.h>
#include <string.h>
#include "autograd/autograd.h"   // defines: ag_set_grad_ready_hook, ag_backward_nodes_left
#include "core/check.h"          // defines: CHECK, xcalloc
#include "core/device.h"         // defines: device_memcpy, device_memset0
#include "core/mem.h"            // defines: mem_alloc_tagged, MEM_WORKSPACE
#include "train/dist.h"          // defines: dist_ialltoall_f32, dist_iallgather_f32, dist_test, dist_wait
#ifdef VAEC_HAVE_NCCL
#include "train/dist_nccl.h"     // defines: nccl_comm_reduce_scatter, nccl_comm_all_gather, dist_nccl_shared
#endif

enum { PHASE_FREE, PHASE_REDUCE, PHASE_GATHER };

typedef struct {
    int bucket, phase, req;
    mem_block *send, *recv;   /* send: the bucket, padded; recv: every rank's contribution to this rank's part */
} slot;

struct grad_sync {
    const zero_plan *plan;
    tensor *const *params;
    int stage, rank, world;
    device_t dev;
    float scale, *shard;
    bool armed;
    int *ready, next;          /* per bucket: gradients reported final; buckets [0, next) handed over */
    int *present;              /* per parameter: it had a gradient (all-reduced in finish: on some rank) */
    slot *slots;
    int n_slots, *queue, q_head, q_len;   /* slots in flight, in hand-over order */
    grad_sync_stats stats;
    zero_piece *pieces;
#ifdef VAEC_HAVE_NCCL
    nccl_comm *nccl;
#endif
};

static float *fptr(mem_block *b) { return (float *)b->ptr; }

grad_sync *grad_sync_new(const zero_plan *plan, tensor *const *params, int stage, int rank, device_t dev, int in_flight) {
    CHECK(stage >= 0 && stage <= 2 && in_flight >= 1, "grad_sync: stage %d, %d buckets in flight", stage, in_flight);
    grad_sync *s = xcalloc(1, sizeof *s);
    s->plan = plan, s->params = params, s->stage = stage, s->rank = rank, s->world = plan->world, s->dev = dev;
    s->ready = xcalloc((size_t)plan->n_buckets + 1, sizeof(int));
    s->present = xcalloc((size_t)plan->n_params + 1, sizeof(int));
    s->pieces = xcalloc((size_t)plan->n_params + 1, sizeof(zero_piece));
    s->n_slots = in_flight < plan->n_buckets ? in_flight : (plan->n_buckets ? plan->n_buckets : 1);
    s->slots = xcalloc((size_t)s->n_slots, sizeof(slot));
    s->queue = xcalloc((size_t)s->n_slots, sizeof(int));
    const size_t bytes = (size_t)(plan->largest_bucket ? plan->largest_bucket : 1) * sizeof(float);
    for (int i = 0; i < s->n_slots; i++) {
        s->slots[i].send = mem_alloc_tagged(bytes, dev, MEM_WORKSPACE);
        if (dev == DEVICE_CPU) s->slots[i].recv = mem_alloc_tagged(bytes, dev, MEM_WORKSPACE);   /* NCCL: in place */
    }
    s->stats.buckets = plan->n_buckets;
    if (dev != DEVICE_CPU) {
#ifdef VAEC_HAVE_NCCL
        s->nccl = dist_nccl_shared();
#else
        CHECK_HINT(0, "build with the CUDA toolkit and NCCL (nvcc, nccl.h, libnccl)",
                   "data-parallel training on GPUs needs NCCL, and this vaec was built without it");
#endif
    }
    return s;
}

void grad_sync_free(grad_sync *s) {
    if (!s) return;
    ag_set_grad_ready_hook(NULL, 0, NULL, NULL);
    for (int i = 0; i < s->n_slots; i++) { mem_block_release(s->slots[i].send); mem_block_release(s->slots[i].recv); }
    free(s->slots), free(s->queue), free(s->ready), free(s->present), free(s->pieces);
    free(s);
}

grad_sync_stats grad_sync_last_stats(const grad_sync *s) { return s->stats; }

/* the bucket's gradients into dst at their bucket offsets, zeros where a parameter has none, and in the padding */
static void pack(grad_sync *s, int b, float *dst) {
    const zero_plan *p = s->plan;
    const zero_bucket *bk = &p->buckets[b];
    for (int i = bk->first; i < bk->first + bk->count; i++) {
        const tensor *g = s->params[i]->grad;
        float *at = dst + p->bucket_at[i];
        s->present[i] = g != NULL;
        if (!g) { device_memset0(s->dev, at, (size_t)p->numel[i] * sizeof(float)); continue; }
        CHECK(g->dtype == DTYPE_F32 && g->device == s->dev && g->numel == p->numel[i],
              "grad_sync: parameter %d's gradient is not %lld float32 values on the training device", i, (long long)p->numel[i]);
        device_memcpy(at, s->dev, tensor_f32((tensor *)g), s->dev, (size_t)g->numel * sizeof(float));
    }
    int64_t padded = bk->part * s->world;
    if (padded > bk->values) device_memset0(s->dev, dst + bk->values, (size_t)(padded - bk->values) * sizeof(float));
}

/* the summed bucket back into every parameter's .grad */
static void unpack(grad_sync *s, int b, const float *src) {
    const zero_plan *p = s->plan;
    const zero_bucket *bk = &p->buckets[b];
    for (int i = bk->first; i < bk->first + bk->count; i++) {
        tensor *t = s->params[i];
        if (!t->grad) {
            mem_tag prev = mem_set_tag(MEM_GRADS);
            t->grad = tensor_new(t->ndim, t->shape, DTYPE_F32, t->device);
            mem_set_tag(prev);
        }
        device_memcpy(tensor_f32(t->grad), s->dev, src + p->bucket_at[i], s->dev, (size_t)p->numel[i] * sizeof(float));
    }
}

/* stage 2: once a bucket's sums are in the shard, the full gradients are not needed any more */
static void release_grads(grad_sync *s, int b) {
    const zero_bucket *bk = &s->plan->buckets[b];
    for (int i = bk->first; i < bk->first + bk->count; i++) {
        tensor_release(s->params[i]->grad);
        s->params[i]->grad = NULL;
    }
}

/* this rank's part: the `world` contributions added in rank order, times scale (one rounding each, as in
 * every stage) */
static void sum_own_part(grad_sync *s, slot *sl) {
    const int64_t part = s->plan->buckets[sl->bucket].part;
    const float *r = fptr(sl->recv);
    float *own = fptr(sl->send) + (int64_t)s->rank * part;
    const int world = s->world;
    const float scale = s->scale;
#pragma omp parallel for if (part > 65536) schedule(static)
    for (int64_t k = 0; k < part; k++) {
        float acc = r[k];
        for (int q = 1; q < world; q++) acc += r[(int64_t)q * part + k];
        own[k] = acc * scale;
    }
}

static void to_shard(grad_sync *s, int b, const float *send) {
    const int64_t part = s->plan->buckets[b].part;
    device_memcpy(s->shard + s->plan->part_at[b], s->dev, send + (int64_t)s->rank * part, s->dev, (size_t)part * sizeof(float));
}

static void pop_head(grad_sync *s) {
    s->slots[s->queue[s->q_head]].phase = PHASE_FREE;
    s->q_head = (s->q_head + 1) % s->n_slots;
    s->q_len--;
}

/* moves the oldest bucket in flight one phase on, if its collective is done (or, blocking, once it is);
 * false when nothing moved. CPU only. */
static bool advance_head(grad_sync *s, bool block) {
    if (!s->q_len) return false;
    slot *sl = &s->slots[s->queue[s->q_head]];
    const char *what = sl->phase == PHASE_REDUCE ? "the gradient reduce-scatter" : "the gradient all-gather";
    if (block) dist_wait(sl->req, what);
    else if (!dist_test(sl->req, what)) return false;
    sl->req = -1;
    if (sl->phase == PHASE_REDUCE) {
        sum_own_part(s, sl);
        if (s->stage >= 2) {
            to_shard(s, sl->bucket, fptr(sl->send));
            release_grads(s, sl->bucket);
            pop_head(s);
        } else {   /* stages 0, 1: every rank gets every summed part (on the all-gather channel, in bucket order) */
            sl->phase = PHASE_GATHER;
            sl->req = dist_iallgather_f32(fptr(sl->send), s->plan->buckets[sl->bucket].part, "the gradient all-gather");
        }
    } else {
        unpack(s, sl->bucket, fptr(sl->send));
        pop_head(s);
    }
    return true;
}

#ifdef VAEC_HAVE_NCCL
/* GPU: everything queued is done on NCCL's stream: the parameters' gradients from the summed buckets */
static void drain_nccl(grad_sync *s) {
    if (!s->q_len) return;
    dist_nccl_wait(s->nccl, dist_timeout_seconds());
    while (s->q_len) {
        slot *sl = &s->slots[s->queue[s->q_head]];
        if (s->stage < 2) unpack(s, sl->bucket, fptr(sl->send));
        pop_head(s);
    }
}
#endif

/* packs bucket b and hands it to the communicator */
static void hand_over(grad_sync *s, int b) {
    while (s->q_len == s->n_slots) {   /* every buffer in flight: the oldest must land first */
#ifdef VAEC_HAVE_NCCL
        if (s->nccl) { drain_nccl(s); break; }
#endif
        advance_head(s, true);
    }
    int k = 0;
    while (s->slots[k].phase != PHASE_FREE) k++;
    slot *sl = &s->slots[k];
    sl->bucket = b;
    sl->phase = PHASE_REDUCE;
    s->queue[(s->q_head + s->q_len++) % s->n_slots] = k;
    pack(s, b, fptr(sl->send));
    const int64_t part = s->plan->buckets[b].part;
#ifdef VAEC_HAVE_NCCL
    if (s->nccl) {   /* reduce-scatter, then the all-gather or the copy into the shard: all on NCCL's stream */
        char err[512];
        int rc = nccl_comm_reduce_scatter(s->nccl, fptr(sl->send), part, s->scale, err, sizeof err);
        if (!rc && s->stage < 2) rc = nccl_comm_all_gather(s->nccl, fptr(sl->send), part, err, sizeof err);
        if (!rc && s->stage >= 2)
            rc = nccl_comm_copy(s->nccl, s->shard + s->plan->part_at[b], fptr(sl->send) + (int64_t)s->rank * part, part,
                                err, sizeof err);
        if (rc) dist_abort("%s", err);
        if (s->stage >= 2) release_grads(s, b);   /* the packing copies are queued before any reuse of the memory */
        return;
    }
#endif
    sl->req = dist_ialltoall_f32(fptr(sl->send), fptr(sl->recv), part, "the gradient reduce-scatter");
}

static void on_grad_ready(void *ctx, int i) {
    grad_sync *s = ctx;
    const zero_plan *p = s->plan;
    s->ready[p->bucket_of[i]]++;
    while (s->next < p->n_buckets && s->ready[s->next] == p->buckets[s->next].count) {
        int left = ag_backward_nodes_left();
        if (left > 0) {
            if (!s->stats.handed_in_backward) s->stats.first_nodes_left = left;
            s->stats.handed_in_backward++;
        }
        hand_over(s, s->next++);
    }
#ifdef VAEC_HAVE_NCCL
    if (s->nccl) return;   /* NCCL's stream moves on by itself */
#endif
    while (advance_head(s, false)) {}   /* let MPI move the buckets in flight on */
}

void grad_sync_arm(grad_sync *s, float scale, float *shard) {
    CHECK(s->stage < 2 || shard, "grad_sync: stage 2 needs the shard for the summed gradients");
    s->scale = scale, s->shard = shard, s->armed = true;
    s->stats.handed_in_backward = 0, s->stats.first_nodes_left = -1;
    ag_set_grad_ready_hook(s->params, s->plan->n_params, on_grad_ready, s);
}

void grad_sync_finish(grad_sync *s, float scale, float *shard) {
    CHECK(s->stage < 2 || shard, "grad_sync: stage 2 needs the shard for the summed gradients");
    if (!s->armed) s->stats.handed_in_backward = 0, s->stats.first_nodes_left = -1;
    ag_set_grad_ready_hook(NULL, 0, NULL, NULL);
    s->armed = false;
    s->scale = scale, s->shard = shard;
    while (s->next < s->plan->n_buckets) hand_over(s, s->next++);   /* not armed (or no backward): all of them now */
#ifdef VAEC_HAVE_NCCL
    if (s->nccl) drain_nccl(s);
#endif
    while (s->q_len) advance_head(s, true);
    /* a parameter some rank had a gradient for is trained on every rank; one that no rank had is skipped, as
       AdamW skips a parameter without a gradient */
    dist_allreduce_max_i32(s->present, s->plan->n_params, "the gradient presence flags");
    for (int i = 0; i < s->plan->n_params; i++)
        if (!s->present[i] && s->params[i]->grad) { tensor_release(s->params[i]->grad); s->params[i]->grad = NULL; }
    memset(s->ready, 0, (size_t)s->plan->n_buckets * sizeof(int));
    s->next = 0;
}

const int *grad_sync_present(const grad_sync *s) { return s->present; }
