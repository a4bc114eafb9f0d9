/* grad_sync.h: averaging gradients across ranks bucket by bucket while backward still runs (ZeRO stages 0,
 * 1, 2; docs/distributed.md, "ZeRO" and "Overlap").
 *
 * Buckets and parts come from a zero_plan. Armed before the last micro-step's backward, the sync watches the
 * parameters through autograd's gradient-ready hook (autograd.h): when every gradient of a bucket is final,
 * the bucket is packed and handed to the communicator at once, while backward goes on. Buckets are handed
 * over in plan order only (a bucket that is ready early waits for the ones before it), so every rank issues
 * the same collectives in the same order and the sums never depend on timing.
 *   CPU, MPI:  MPI_Ialltoall sends part q of the bucket to rank q; the owner adds the `world` contributions in
 *              rank order (the same float additions whatever the stage or the timing) and multiplies by
 *              scale; stages 0 and 1 then MPI_Iallgather the summed parts back into every rank's bucket. MPI
 *              progresses them inside the MPI_Test calls the hook makes.
 *   GPU, NCCL: ncclReduceScatter (pre-multiplied by scale) then, stages 0 and 1, ncclAllGather, on NCCL's own
 *              stream behind an event on the compute stream.
 * grad_sync_finish hands over what is left (everything, when not armed: the non-overlapped path, same
 * result), waits, and leaves the averaged gradients: stages 0 and 1 in every parameter's .grad, stage 2 in
 * the shard (this rank's parts, plan order) with the parameters' .grad released as soon as their bucket was
 * reduced.
 *
 *   grad_sync *s = grad_sync_new(&plan, params, n, 2, rank, DEVICE_CPU, 4);
 *   grad_sync_arm(s, shard);                    // before the last micro-step's backward
 *   ag_backward(loss);                          // buckets leave as they fill
 *   grad_sync_finish(s, 1.0f / (ranks * micro_steps), shard);
 */
#ifndef VAEC_TRAIN_GRAD_SYNC_H
#define VAEC_TRAIN_GRAD_SYNC_H
#include <stdbool.h>
#include "core/tensor.h"       // defines: tensor, device_t
#include "train/zero_plan.h"   // defines: zero_plan

typedef struct grad_sync grad_sync;

typedef struct {
    int buckets;                /* buckets in the plan */
    int handed_in_backward;     /* of them, handed to the communicator before backward ended (last step) */
    int first_nodes_left;       /* backward nodes still to run when the first bucket left (-1: none left early) */
} grad_sync_stats;

/* in_flight: bucket buffers (a send and a receive buffer each): a bucket finding none free waits for the
 * oldest one in flight. The plan and params must outlive the sync. */
grad_sync *grad_sync_new(const zero_plan *plan, tensor *const *params, int stage, int rank, device_t dev, int in_flight);
/* shard: where stage 2 writes this rank's summed parts (plan.part_total values on dev); NULL for stages 0, 1 */
void grad_sync_arm(grad_sync *s, float scale, float *shard);
void grad_sync_finish(grad_sync *s, float scale, float *shard);
grad_sync_stats grad_sync_last_stats(const grad_sync *s);
/* after finish: per parameter, whether some rank had a gradient for it (the others are not trained) */
const int *grad_sync_present(const grad_sync *s);
void grad_sync_free(grad_sync *s);

#endif
