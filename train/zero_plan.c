/* zero_plan.c: buckets, parts and per-rank bytes of ZeRO (see zero_plan.h). */
#include "train/zero_plan.h"
#include <stdlib.h>
#include <string.h>
#include "core/check.h"   // defines: CHECK, xcalloc

void zero_plan_build(zero_plan *p, const int64_t *numel, int n, int world, size_t bucket_bytes) {
    CHECK(world >= 1 && n >= 0, "zero plan: %d parameters on %d ranks", n, world);
    memset(p, 0, sizeof *p);
    p->world = world, p->n_params = n;
    p->numel = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    p->bucket_of = xcalloc((size_t)(n ? n : 1), sizeof(int));
    p->bucket_at = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    p->buckets = xcalloc((size_t)(n ? n : 1), sizeof(zero_bucket));
    p->part_at = xcalloc((size_t)(n ? n : 1), sizeof(int64_t));
    const int64_t cap = (int64_t)(bucket_bytes / sizeof(float)) > 0 ? (int64_t)(bucket_bytes / sizeof(float)) : 1;
    for (int i = n - 1; i >= 0; i--) {   /* last parameter first: backward's order */
        p->numel[i] = numel[i];
        p->total += numel[i];
        zero_bucket *b = p->n_buckets ? &p->buckets[p->n_buckets - 1] : NULL;
        if (!b || (b->values > 0 && b->values + numel[i] > cap)) {
            b = &p->buckets[p->n_buckets++];
            b->first = i + 1, b->count = 0, b->values = 0;
        }
        b->first = i, b->count++;
        p->bucket_of[i] = p->n_buckets - 1;
        p->bucket_at[i] = b->values;
        b->values += numel[i];
    }
    for (int k = 0; k < p->n_buckets; k++) {
        zero_bucket *b = &p->buckets[k];
        b->part = (b->values + world - 1) / world;
        p->part_at[k] = p->part_total;
        p->part_total += b->part;
        if (b->part * world > p->largest_bucket) p->largest_bucket = b->part * world;
    }
}

void zero_plan_free(zero_plan *p) {
    free(p->numel), free(p->bucket_of), free(p->bucket_at), free(p->buckets), free(p->part_at);
    memset(p, 0, sizeof *p);
}

int zero_plan_pieces(const zero_plan *p, int b, int64_t lo, int64_t hi, zero_piece *out, int cap) {
    const zero_bucket *bk = &p->buckets[b];
    int k = 0;
    for (int i = bk->first + bk->count - 1; i >= bk->first; i--) {   /* bucket order: last parameter first */
        int64_t a = p->bucket_at[i], e = a + p->numel[i];
        int64_t s = a > lo ? a : lo, t = e < hi ? e : hi;
        if (s >= t) continue;
        CHECK(k < cap, "zero plan: more than %d pieces in part [%lld, %lld) of bucket %d", cap, (long long)lo, (long long)hi, b);
        out[k++] = (zero_piece){i, s - a, s, t - s};
    }
    return k;
}

zero_memory zero_memory_of(const zero_plan *p, int stage, int weight_bytes, int in_flight) {
    const size_t all = (size_t)p->total * 4, own = (size_t)(stage >= 1 ? p->part_total : p->total) * 4;
    zero_memory m = {0};
    m.weights = (size_t)p->total * (size_t)weight_bytes;
    m.masters = weight_bytes == 4 ? 0 : own;   /* fp32 compute: the weights are the masters */
    m.optimizer = 2 * own;
    m.grads = stage >= 2 ? own : all;
    /* autograd's gradients, before they are reduced: with stage 2 a bucket's are dropped once its sums arrive */
    m.grads_backward = all;
    /* a bucket's values to send and the parts received from every rank (p->world == 1: nothing is sent) */
    m.buckets = p->world > 1 ? (size_t)in_flight * 2 * (size_t)p->largest_bucket * 4 : 0;
    return m;
}
