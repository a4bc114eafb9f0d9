/* dist_nccl.h: gradient averaging across GPUs with NCCL, one process a GPU (docs/distributed.md).
 *
 * The communicator reduces device buffers given by pointer: the trainer registers its flattened
 * gradient buckets once, then, during backward, hands each bucket over as soon as its gradients are
 * final. A bucket's all-reduce waits for the compute stream by an event and runs on the communicator's
 * own stream, so it overlaps the rest of backward; dist_nccl_wait blocks until every handed-over bucket
 * is reduced, and ends the job (MPI_Abort) if that takes longer than the timeout or NCCL reports an error.
 * The sum is pre-multiplied by `scale` (1 / (ranks x micro-steps)) inside NCCL: no extra kernel.
 *
 *   nccl_comm *c = dist_nccl_open(600);               // rank 0's ncclUniqueId reaches the others by MPI_Bcast
 *   int b = nccl_comm_add_bucket(c, grads_slab, n);  // device float buffer
 *   ... backward finishes the bucket's layers ... nccl_comm_reduce_bucket(c, b, filled, scale, err, 256);
 *   dist_nccl_wait(c, timeout_s);                    // before clipping and the optimizer
 *
 * The hand-over event is recorded on the backend's compute stream (vaec_stream()), where every kernel and
 * copy runs: recorded on the legacy default stream it would not wait for that non-blocking stream, and
 * NCCL could read a bucket still being written. The communicator lives on the GPU dist_init selected;
 * nccl_comm_new checks that it is the current one instead of switching.
 *
 * Built only when CUDA and NCCL are found (VAEC_HAVE_NCCL); until tensors live on the GPU (issue 7) the
 * trainer does not call it, and tests/train/test_dist.c checks it on one GPU where one is visible. */
#ifndef VAEC_TRAIN_DIST_NCCL_H
#define VAEC_TRAIN_DIST_NCCL_H
#include <stddef.h>
#include <stdint.h>

typedef struct nccl_comm nccl_comm;

/* the .cu side: 0 on success, or non-zero with a message in err (size n) */
int nccl_comm_unique_id(unsigned char id[128], char *err, size_t n);
/* device: the GPU this rank selected (dist_info.device), which must be the current one */
nccl_comm *nccl_comm_new(int rank, int world, int device, const unsigned char id[128], double timeout_s, char *err,
                         size_t n);
int nccl_comm_add_bucket(nccl_comm *c, float *device_ptr, int64_t count);     /* the bucket's index */
/* all-reduces the first `count` values of a bucket (at most its registered size: a bucket packed only in
 * part sends only that part) once the compute stream's work queued so far is done */
int nccl_comm_reduce_bucket(nccl_comm *c, int bucket, int64_t count, float scale, char *err, size_t n);
int nccl_comm_wait(nccl_comm *c, double timeout_s, char *err, size_t n);    /* aborts the communicator on failure */
void nccl_comm_free(nccl_comm *c);
/* ZeRO's bucket collectives (train/grad_sync.c), queued on the communicator's stream behind the compute
 * stream's work queued so far (an event), so they overlap whatever compute is queued next. buf holds `world`
 * parts of `part` values (device memory).
 *   reduce_scatter: in place; this rank's part (buf + rank * part) receives the sum over ranks of that part,
 *                   each rank's value multiplied by scale first (ncclRedOpCreatePreMulSum)
 *   all_gather:     in place; every rank's part of buf to every rank
 *   copy:           count values from src to dst, on the communicator's stream (after the collectives queued)
 * nccl_comm_wait then blocks (bounded) until everything queued is done. */
int nccl_comm_reduce_scatter(nccl_comm *c, float *buf, int64_t part, float scale, char *err, size_t n);
int nccl_comm_all_gather(nccl_comm *c, float *buf, int64_t part, char *err, size_t n);
int nccl_comm_copy(nccl_comm *c, float *dst, const float *src, int64_t count, char *err, size_t n);
int nccl_current_device(void);   /* the GPU current on this thread (-1 when none) */

/* the C side (dist_nccl_setup.c): rendezvous over MPI; errors end every rank */
int dist_nccl_built(void);
nccl_comm *dist_nccl_open(double timeout_s);   /* on the GPU dist_init selected */
/* the process's communicator, opened on first use (ZeRO); a plain run (world 1: tests, no dist_init GPU
 * selection) gets a one-rank communicator on the current GPU */
nccl_comm *dist_nccl_shared(void);
void dist_nccl_wait(nccl_comm *c, double timeout_s);

#endif
