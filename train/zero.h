/* zero.h: ZeRO data parallelism as Open-Sora trains the VAE (ColossalAI's zero2 plugin): each rank keeps
 * AdamW's state (and, under bf16, the fp32 master weights) only for its shard, receives only its shard's
 * averaged gradients (stage 2), updates it, and the ranks all-gather the updated weights (docs/distributed.md,
 * "ZeRO"). `[train] zero_stage`: 0 every rank updates everything, 1 shards optimizer state and masters, 2 also
 * reduce-scatters the gradients. The trainer uses it whenever it runs on more than one rank.
 *
 * Layout, reduction and overlap: zero_plan.h, grad_sync.h. The clipping norm is exact across shards: the sum of
 * squares of every part of every bucket is taken over the same values in the same order in every stage (the
 * owner's parts, then an all-gather of those sums), so stages 0, 1 and 2 clip by the same factor and update
 * the same bits.
 *
 * With fp32 compute the weights are the masters and every rank needs them whole: stages 1 and 2 shard the
 * AdamW state (and stage 2 the kept gradients). bf16 compute with fp32 masters is not wired yet; the plan
 * (docs/distributed.md, "bf16"): a flat fp32 master shard owned here, updated in place of the weights, cast
 * to bf16 and all-gathered into the compute weights by zero_gather_weights.
 *
 *   zero *z = zero_new(params, n, cfg, 2, 25 << 20, DEVICE_CPU, true, 4);
 *   zero_before_backward(z, 1.0f / (ranks * micro));   // the last micro-step: buckets leave during backward
 *   ... backward ...
 *   zero_reduce(z, 1.0f / (ranks * micro));
 *   zero_apply(z, &step_cfg, &result);                 // clip, AdamW on the shard, all-gather, zero grads
 */
#ifndef VAEC_TRAIN_ZERO_H
#define VAEC_TRAIN_ZERO_H
#include <stdbool.h>
#include "optim/adamw.h"        // defines: adamw, adamw_config
#include "train/checkpoint.h"   // defines: ckpt_parts
#include "train/grad_sync.h"    // defines: grad_sync
#include "train/step.h"         // defines: step_config, step_result
#include "train/zero_plan.h"    // defines: zero_plan

typedef struct {
    zero_plan plan;
    int stage, rank, world;
    device_t dev;
    bool overlap;
    adamw *opt;               /* the parameters, config and step; no state of its own (m, v NULL) */
    adamw load_view;          /* opt with no parameters: ckpt_load reads only the step into it */
    tensor *m, *v;            /* AdamW state of the owned values, bucket after bucket */
    tensor *grad;             /* stage 2: the averaged gradients of this rank's parts */
    int64_t *state_at;        /* per bucket: where its owned values start in m, v */
    grad_sync *sync;
} zero;

zero *zero_new(tensor **params, int n, adamw_config cfg, int stage, size_t bucket_bytes, device_t dev, bool overlap,
               int in_flight);
void zero_free(zero *z);
/* the bytes a rank holds, as printed at start ("memory per rank: ...") */
void zero_print_memory(const zero_plan *p, int stage, int weight_bytes, int in_flight, const char *who);

void zero_before_backward(zero *z, float scale);   /* before the backward that completes the step's gradients */
void zero_reduce(zero *z, float scale);            /* after it: the averaged gradients (all, or this rank's parts) */
/* as train_apply: the exact global norm, clipping, the update of this rank's values unless the loss or the
 * norm is not finite, the all-gather of the updated weights, gradients zeroed */
void zero_apply(zero *z, const step_config *c, step_result *r);

/* checkpoints, written as with one rank: rank 0 receives the whole AdamW state (a temporary adamw on the CPU
 * to give ckpt_save, freed with adamw_free; NULL on the other ranks). Collective: every rank calls it. */
adamw *zero_gather_optimizer(zero *z);
/* after ckpt_load(dir, parts with .opt = &z->load_view): this rank's values of exp_avg and exp_avg_sq from
 * DIR/optimizer.safetensors, whatever world size and stage wrote it; 0, or -1 with vaec_last_error() */
int zero_load_optimizer(zero *z, const char *dir, const ckpt_parts *parts);

#endif
