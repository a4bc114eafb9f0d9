/* dist.h: data-parallel training across processes, one process a rank (docs/distributed.md).
 *
 * dist_init reads rank, world size and local rank from whatever launched the process, first match wins:
 *   mpirun (OpenMPI)      OMPI_COMM_WORLD_RANK, OMPI_COMM_WORLD_SIZE, OMPI_COMM_WORLD_LOCAL_RANK
 *   mpiexec (MPICH)       PMI_RANK, PMI_SIZE, MPI_LOCALRANKID
 *   srun (a job step)     SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID (only with SLURM_STEP_ID set)
 *   torchrun style        RANK, WORLD_SIZE, LOCAL_RANK
 * World size 1, or nothing set (a plain run): no MPI call is ever made and every collective below is a
 * no-op, so a plain run behaves as if this file did not exist. World size > 1: MPI_Init, and MPI must
 * agree with the environment. Ranks other than 0 send their stdout to /dev/null (stderr stays): rank 0
 * alone prints progress.
 *
 * The GPU: with world > 1 and dev = DEVICE_CUDA, dist_init selects GPU (local rank mod the GPUs visible)
 * before anything else touches CUDA, so the compute stream, the cuBLAS/cuDNN handles, the weights and NCCL
 * all live on it. A launcher that names no local rank (MPICH without MPI_LOCALRANKID, say) gets it from MPI:
 * the rank's index among the ranks sharing its node. A plain run keeps the default GPU (0, or the first
 * of CUDA_VISIBLE_DEVICES).
 *
 * Every collective is watched: one that has not completed within timeout_s ends the whole job with
 * MPI_Abort and a message naming the collective, the rank and the step, so a dead or hung rank never
 * leaves the others waiting forever. MPI errors end the job the same way.
 *
 *   dist_init(600.0, DEVICE_CUDA);
 *   for (step...) { dist_set_step(step); backward...; dist_allreduce_grads(params, n, 1.0f / dist_world()); }
 *   if (dist_rank() == 0) write checkpoints;
 *   dist_finalize();
 */
#ifndef VAEC_TRAIN_DIST_H
#define VAEC_TRAIN_DIST_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/tensor.h"   // defines: tensor

typedef struct {
    int rank, world, local_rank;   /* local_rank -1: the launcher named none (dist_init asks MPI) */
    const char *source;    /* which launcher's variables gave them: "mpirun", "srun", ... or "none" */
    int device;            /* the GPU this rank selected; -1: none (CPU training, a plain run, no GPU) */
} dist_info;

/* once, before any CUDA work; fatal when launched with world > 1 and no MPI. dev: the training device */
void dist_init(double timeout_s, device_t dev);
/* what the launcher's variables say, first match as above; get looks one up (getenv, or a table in tests).
 * Nothing set: rank 0 of 1, local rank 0, source "none". Malformed values are fatal, naming the variable. */
dist_info dist_info_from(const char *(*get)(const char *name));
/* the GPU of a rank: its local rank modulo the GPUs it sees (ranks share GPUs when there are more ranks on
 * a node than GPUs); -1 when it sees none or the local rank is unknown */
int dist_gpu_for(int local_rank, int n_visible);
const dist_info *dist_get(void);
int dist_rank(void);
int dist_world(void);
void dist_set_step(long step);             /* the step named in watchdog messages */
void dist_finalize(void);                  /* MPI_Finalize when MPI was started */

/* collectives: in place, identical result on every rank (float sums: reduce-scatter + all-gather, so the
 * same bits everywhere whatever MPI's algorithm); `what` names them in error messages */
void dist_allreduce_sum_f64(double *v, int n, const char *what);
void dist_allreduce_max_i32(int *v, int n, const char *what);
void dist_allreduce_sum_f32(float *v, int64_t n, const char *what);
void dist_broadcast(void *buf, size_t bytes, int root, const char *what);
void dist_barrier(const char *what);
double dist_comm_seconds(void);            /* wall time spent in collectives since dist_init */

/* non-blocking collectives of the gradient buckets (train/grad_sync.c): started at once, each returns a handle
 * (-1: nothing to wait for: a world of one, where alltoall copies send to recv and allgather does nothing).
 * MPI progresses them inside MPI calls, so the backward hook calls dist_test. dist_wait is watched like the
 * blocking collectives and its time counts in dist_comm_seconds (the communication backward did not hide). */
int dist_ialltoall_f32(const float *send, float *recv, int64_t part, const char *what);
int dist_iallgather_f32(float *buf, int64_t part, const char *what);
bool dist_test(int req, const char *what);   /* true once complete (the handle is then spent) */
bool dist_progress_thread(void);             /* VAEC_MPI_PROGRESS_THREAD=1 started MPI's progress thread */
void dist_wait(int req, const char *what);
/* blocking: every rank's `part` values into root's recv in rank order; an in-place all-gather of doubles */
void dist_gather_f32(const float *send, float *recv, int64_t part, int root, const char *what);
void dist_allgather_f64(double *buf, int part, const char *what);

/* (The trainer calls this with one rank only, for the micro-step average; with several ranks it reduces
 * through ZeRO's train/grad_sync.h.)
 * Averages the gradients of params across ranks: flattened into buckets of about bucket_bytes, summed
 * with one MPI_Allreduce a bucket, multiplied by scale (1 / (ranks * micro-steps)) on the way back.
 * A parameter that has a gradient on some rank gets one on every rank (zeros where it had none). */
void dist_allreduce_grads(tensor *const *params, int n, float scale, size_t bucket_bytes);
/* the same for gradients on the GPU, through NCCL (dist_grads_device.c); dist_allreduce_grads calls it */
void dist_allreduce_grads_device(tensor *const *params, int n, float scale, size_t bucket_bytes);
double dist_timeout_seconds(void);
/* before packing: a gradient some rank has becomes zeros where missing; returns the bucket size in floats
 * (bucket_bytes, or the largest gradient when that is bigger) and, when largest is not NULL, that gradient's size */
int64_t dist_grads_prepare(tensor *const *params, int n, size_t bucket_bytes, int64_t *largest);         /* [train] dist_timeout_s as dist_init got it */

/* ends every rank now: prints the message (with the rank) and calls MPI_Abort, or exits when alone */
void dist_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* test-only hook: VAEC_TEST_DIE_AT_STEP=s VAEC_TEST_DIE_RANK=r [VAEC_TEST_DIE_MODE=exit|hang|sigterm] makes rank r
 * exit (or hang, or receive SIGTERM) at the start of step s, to prove the others do not wait forever (or stop
 * with it) */
void dist_test_hook(long step);

#endif
