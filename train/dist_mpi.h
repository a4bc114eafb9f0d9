/* dist_mpi.h: the MPI calls under train/dist.c, in one place (compiled to stubs without MPI).
 * Functions return 0, or an MPI error code with its text in err (size n). Used only by dist.c. */
#ifndef VAEC_TRAIN_DIST_MPI_H
#define VAEC_TRAIN_DIST_MPI_H
#include <stddef.h>
#include <stdint.h>

typedef enum { DIST_F32, DIST_F64, DIST_I32 } dist_type;
typedef enum { DIST_SUM, DIST_MAX } dist_op;

int dist_mpi_built(void);                                    /* 1 when vaec was built with MPI */
/* serialized: ask for MPI_THREAD_SERIALIZED (a progress thread), else MPI_THREAD_FUNNELED */
int dist_mpi_init(int *rank, int *world, int serialized, char *err, size_t n);
int dist_mpi_allreduce(void *buf, int64_t count, dist_type t, dist_op op, char *err, size_t n);
/* a float sum that every rank receives bit for bit the same, whatever algorithm MPI picks: reduce-scatter
 * (each part summed once) then all-gather */
int dist_mpi_allreduce_same_f32(float *buf, int64_t count, char *err, size_t n);
/* this rank's index among the ranks on its node (MPI_Comm_split_type, MPI_COMM_TYPE_SHARED) */
int dist_mpi_local_rank(int *local, char *err, size_t n);
int dist_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t n);
int dist_mpi_barrier(char *err, size_t n);
/* non-blocking collectives (grad_sync.c): *req is a handle for dist_mpi_test/wait; part counts < 2^31.
 * alltoall: part values of send to each rank, part values from each rank into recv (rank order).
 * allgather: in place, this rank's part sits at buf + rank * part. */
int dist_mpi_ialltoall_f32(const float *send, float *recv, int64_t part, int *req, char *err, size_t n);
int dist_mpi_iallgather_f32(float *buf, int64_t part, int *req, char *err, size_t n);
int dist_mpi_test(int req, int *done, char *err, size_t n);   /* *done = 1 once complete (the handle is freed) */
int dist_mpi_wait(int req, char *err, size_t n);
/* blocking: every rank's part values to root's recv (rank order); an in-place all-gather of doubles */
int dist_mpi_gather_f32(const float *send, float *recv, int64_t part, int root, char *err, size_t n);
int dist_mpi_allgather_f64(double *buf, int part, char *err, size_t n);
/* MPI moves non-blocking collectives on only inside MPI calls (OpenMPI has no progress thread of its own):
 * dist_mpi_progress is such a call, for dist.c's progress thread, possible when MPI granted
 * MPI_THREAD_SERIALIZED (dist.c then makes every MPI call under one lock) */
int dist_mpi_progress_possible(void);
void dist_mpi_progress(void);
void dist_mpi_abort(int code);                               /* ends every rank of the job */
void dist_mpi_finalize(void);

#endif
