/* dist_mpi.c: MPI_Init, allreduce, broadcast, barrier, abort (see dist_mpi.h). */
#include "train/dist_mpi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VAEC_HAVE_MPI
#include <mpi.h>   // defines: MPI_Allreduce, MPI_Bcast, MPI_Abort

static int mpi_started;
/* the gradient buckets' non-blocking collectives: a communicator for the reductions and one for the
 * all-gathers that follow them, so that each sees its collectives in the same order on every rank (bucket
 * order) however the two interleave on a rank */
static MPI_Comm channels[2] = {MPI_COMM_NULL, MPI_COMM_NULL};
static MPI_Comm progress_comm = MPI_COMM_NULL;   /* never carries a message: probing it drives MPI's progress engine */
static int threads_serialized;                   /* MPI allows calls from a second thread, one at a time */

/* MPI counts are int: long buffers go in pieces */
enum { MAX_PIECE = 1 << 28 };

static int fail(int rc, const char *what, char *err, size_t n) {
    char text[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, text, &len) != MPI_SUCCESS) snprintf(text, sizeof text, "MPI error %d", rc);
    snprintf(err, n, "%s: %s", what, text);
    return rc;
}

int dist_mpi_built(void) { return 1; }

int dist_mpi_init(int *rank, int *world, int serialized, char *err, size_t n) {
    /* serialized: the progress thread (dist.c) may call MPI while the main thread is not */
    int provided, rc = MPI_Init_thread(NULL, NULL, serialized ? MPI_THREAD_SERIALIZED : MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Init_thread", err, n);
    mpi_started = 1;
    threads_serialized = provided >= MPI_THREAD_SERIALIZED;
    /* errors come back as codes, so the message names the collective before the job ends */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, world);
    for (int i = 0; i < 2; i++) {
        rc = MPI_Comm_dup(MPI_COMM_WORLD, &channels[i]);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Comm_dup", err, n);
        MPI_Comm_set_errhandler(channels[i], MPI_ERRORS_RETURN);
    }
    rc = MPI_Comm_dup(MPI_COMM_WORLD, &progress_comm);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Comm_dup", err, n);
    return 0;
}

int dist_mpi_progress_possible(void) { return threads_serialized; }

void dist_mpi_progress(void) {
    int flag;
    MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, progress_comm, &flag, MPI_STATUS_IGNORE);
}

int dist_mpi_allreduce(void *buf, int64_t count, dist_type t, dist_op op, char *err, size_t n) {
    MPI_Datatype dt = t == DIST_F32 ? MPI_FLOAT : t == DIST_F64 ? MPI_DOUBLE : MPI_INT;
    size_t size = t == DIST_F64 ? 8 : 4;
    for (int64_t at = 0; at < count; at += MAX_PIECE) {
        int k = (int)(count - at < MAX_PIECE ? count - at : MAX_PIECE);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + (size_t)at * size, k, dt, op == DIST_SUM ? MPI_SUM : MPI_MAX,
                               MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Allreduce", err, n);
    }
    return 0;
}

int dist_mpi_allreduce_same_f32(float *buf, int64_t count, char *err, size_t n) {
    int world, rank, rc;
    MPI_Comm_size(MPI_COMM_WORLD, &world);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    /* in pieces of `world` equal parts: each part is summed once, by its owner, then copied to all */
    int64_t piece = (int64_t)MAX_PIECE / world * world;
    for (int64_t at = 0; at + world <= count; at += piece) {
        int64_t len = count - at < piece ? (count - at) / world * world : piece;
        int part = (int)(len / world);
        float *p = buf + at;
        rc = MPI_Reduce_scatter_block(MPI_IN_PLACE, p, part, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Reduce_scatter_block", err, n);
        if (rank) memmove(p + (int64_t)rank * part, p, (size_t)part * sizeof(float));   /* in place: result comes first */
        rc = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, p, part, MPI_FLOAT, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Allgather", err, n);
    }
    int64_t tail = count % world;   /* fewer than `world` values: summed on rank 0, broadcast */
    if (tail) {
        float *p = buf + count - tail;
        rc = MPI_Reduce(rank == 0 ? MPI_IN_PLACE : p, p, (int)tail, MPI_FLOAT, MPI_SUM, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Reduce", err, n);
        rc = MPI_Bcast(p, (int)tail, MPI_FLOAT, 0, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Bcast", err, n);
    }
    return 0;
}

int dist_mpi_local_rank(int *local, char *err, size_t n) {
    MPI_Comm node;
    int rc = MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Comm_split_type (the ranks sharing this node)", err, n);
    MPI_Comm_rank(node, local);
    MPI_Comm_free(&node);
    return 0;
}

int dist_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t n) {
    for (size_t at = 0; at < bytes; at += MAX_PIECE) {
        int k = (int)(bytes - at < MAX_PIECE ? bytes - at : MAX_PIECE);
        int rc = MPI_Bcast((char *)buf + at, k, MPI_BYTE, root, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return fail(rc, "MPI_Bcast", err, n);
    }
    return 0;
}

int dist_mpi_barrier(char *err, size_t n) {
    int rc = MPI_Barrier(MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Barrier", err, n);
}

/* the requests of non-blocking collectives in flight, by handle */
enum { MAX_REQUESTS = 512 };
static MPI_Request requests[MAX_REQUESTS];
static int request_used[MAX_REQUESTS];

static int new_request(int *req, char *err, size_t n) {
    for (int i = 0; i < MAX_REQUESTS; i++)
        if (!request_used[i]) { request_used[i] = 1; *req = i; return 0; }
    snprintf(err, n, "more than %d non-blocking collectives in flight", MAX_REQUESTS);
    return -1;
}

static int count_ok(int64_t part, char *err, size_t n) {
    if (part >= 0 && part < (int64_t)1 << 31) return 0;
    snprintf(err, n, "a bucket part of %lld values does not fit an MPI count (lower [train] dist_bucket_mb)", (long long)part);
    return -1;
}

int dist_mpi_ialltoall_f32(const float *send, float *recv, int64_t part, int *req, char *err, size_t n) {
    if (count_ok(part, err, n) || new_request(req, err, n)) return -1;
    int rc = MPI_Ialltoall(send, (int)part, MPI_FLOAT, recv, (int)part, MPI_FLOAT, channels[0], &requests[*req]);
    if (rc != MPI_SUCCESS) { request_used[*req] = 0; return fail(rc, "MPI_Ialltoall", err, n); }
    return 0;
}

int dist_mpi_iallgather_f32(float *buf, int64_t part, int *req, char *err, size_t n) {
    if (count_ok(part, err, n) || new_request(req, err, n)) return -1;
    int rc = MPI_Iallgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, (int)part, MPI_FLOAT, channels[1], &requests[*req]);
    if (rc != MPI_SUCCESS) { request_used[*req] = 0; return fail(rc, "MPI_Iallgather", err, n); }
    return 0;
}

int dist_mpi_test(int req, int *done, char *err, size_t n) {
    int rc = MPI_Test(&requests[req], done, MPI_STATUS_IGNORE);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Test", err, n);
    if (*done) request_used[req] = 0;
    return 0;
}

int dist_mpi_wait(int req, char *err, size_t n) {
    int rc = MPI_Wait(&requests[req], MPI_STATUS_IGNORE);
    request_used[req] = 0;
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Wait", err, n);
}

int dist_mpi_gather_f32(const float *send, float *recv, int64_t part, int root, char *err, size_t n) {
    if (count_ok(part, err, n)) return -1;
    int rc = MPI_Gather(send, (int)part, MPI_FLOAT, recv, (int)part, MPI_FLOAT, root, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Gather", err, n);
}

int dist_mpi_allgather_f64(double *buf, int part, char *err, size_t n) {
    int rc = MPI_Allgather(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, part, MPI_DOUBLE, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? 0 : fail(rc, "MPI_Allgather", err, n);
}

void dist_mpi_abort(int code) {
    if (mpi_started) MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);
}

void dist_mpi_finalize(void) {
    for (int i = 0; i < 2; i++)
        if (mpi_started && channels[i] != MPI_COMM_NULL) MPI_Comm_free(&channels[i]);
    if (mpi_started && progress_comm != MPI_COMM_NULL) MPI_Comm_free(&progress_comm);
    if (mpi_started) MPI_Finalize();
    mpi_started = 0;
}

#else   /* built without MPI: a launched job with world > 1 stops in dist_init before any of these */

static int none(char *err, size_t n) {
    snprintf(err, n, "vaec was built without MPI");
    return -1;
}
int dist_mpi_built(void) { return 0; }
int dist_mpi_init(int *rank, int *world, int serialized, char *err, size_t n) { return none(err, n); }
int dist_mpi_allreduce(void *buf, int64_t count, dist_type t, dist_op op, char *err, size_t n) { return none(err, n); }
int dist_mpi_allreduce_same_f32(float *buf, int64_t count, char *err, size_t n) { return none(err, n); }
int dist_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t n) { return none(err, n); }
int dist_mpi_local_rank(int *local, char *err, size_t n) { return none(err, n); }
int dist_mpi_barrier(char *err, size_t n) { return none(err, n); }
int dist_mpi_ialltoall_f32(const float *send, float *recv, int64_t part, int *req, char *err, size_t n) { return none(err, n); }
int dist_mpi_iallgather_f32(float *buf, int64_t part, int *req, char *err, size_t n) { return none(err, n); }
int dist_mpi_test(int req, int *done, char *err, size_t n) { return none(err, n); }
int dist_mpi_wait(int req, char *err, size_t n) { return none(err, n); }
int dist_mpi_gather_f32(const float *send, float *recv, int64_t part, int root, char *err, size_t n) { return none(err, n); }
int dist_mpi_allgather_f64(double *buf, int part, char *err, size_t n) { return none(err, n); }
int dist_mpi_progress_possible(void) { return 0; }
void dist_mpi_progress(void) {}
void dist_mpi_abort(int code) { _Exit(code); }
void dist_mpi_finalize(void) {}

#endif
