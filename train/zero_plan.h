/* zero_plan.h: where every trainable value lives under ZeRO (docs/distributed.md, "ZeRO"): buckets, the
 * part of each bucket a rank owns, and the bytes a rank holds. Pure arithmetic, no communication.
 *
 * The parameters, last first (backward finishes them in about that order), are packed into buckets of about
 * bucket_bytes of whole parameters (a bucket is never smaller than the parameter it starts with). A bucket is
 * padded to a multiple of the world size and cut into `world` equal parts: rank r owns part r of every
 * bucket, so shards are balanced by bytes to within one value a bucket, and a parameter may be split
 * between ranks. The same plan serves every zero_stage, which is why stages 0, 1 and 2 reduce, clip and
 * update the same values in the same order (and agree bit for bit):
 *   stage 0  every rank owns every part (the whole model), gradients all-reduced
 *   stage 1  AdamW state (and fp32 masters) of its parts only; gradients all-reduced
 *   stage 2  as 1, and gradients reduce-scattered: a rank receives the sums of its parts only
 *
 *   zero_plan p;
 *   zero_plan_build(&p, numels, n, world, 25 << 20);
 *   zero_piece pc[64]; int k = zero_plan_pieces(&p, b, p.buckets[b].part * r, p.buckets[b].part * (r + 1), pc, 64);
 */
#ifndef VAEC_TRAIN_ZERO_PLAN_H
#define VAEC_TRAIN_ZERO_PLAN_H
#include <stddef.h>
#include <stdint.h>

typedef struct {
    int first, count;        /* params [first, first + count); laid out last first from bucket offset 0 */
    int64_t values;          /* parameter values in the bucket */
    int64_t part;            /* padded size / world: the values of one rank's part */
} zero_bucket;

typedef struct {              /* a run of one parameter inside a bucket */
    int param;
    int64_t param_at, bucket_at, len;
} zero_piece;

typedef struct {
    int world, n_params, n_buckets;
    int64_t *numel;          /* per parameter */
    int *bucket_of;          /* per parameter: its bucket */
    int64_t *bucket_at;      /* per parameter: its first value's offset in its bucket */
    zero_bucket *buckets;    /* in reduction order: bucket 0 holds the last parameters */
    int64_t *part_at;        /* per bucket: where a rank's part of it starts in the rank's shard */
    int64_t total;           /* parameter values */
    int64_t part_total;      /* one rank's parts of every bucket together (padding included) */
    int64_t largest_bucket;  /* padded values of the largest bucket */
} zero_plan;

void zero_plan_build(zero_plan *p, const int64_t *numel, int n, int world, size_t bucket_bytes);
void zero_plan_free(zero_plan *p);
/* the runs of parameters inside [lo, hi) of bucket b, in bucket order, into out (cap entries); their count */
int zero_plan_pieces(const zero_plan *p, int b, int64_t lo, int64_t hi, zero_piece *out, int cap);

/* bytes one rank holds, as `vaec train` prints them at start */
typedef struct {
    size_t weights;          /* the model's trainable weights as compute uses them (every rank: all of them) */
    size_t masters;          /* fp32 master copies beside them (only when compute is not fp32: bf16) */
    size_t optimizer;        /* AdamW exp_avg + exp_avg_sq */
    size_t grads;            /* reduced gradients kept for the update */
    size_t grads_backward;   /* peak of gradients autograd holds during backward before they are reduced */
    size_t buckets;          /* communication buffers */
} zero_memory;

/* weight_bytes: bytes a value of the compute weights (4 fp32, 2 bf16); in_flight: buckets in flight at once */
zero_memory zero_memory_of(const zero_plan *p, int stage, int weight_bytes, int in_flight);

#endif
