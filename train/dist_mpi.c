/* dist_mpi.c: MPI_Init, allreduce, broadcast, barrier, abort (see dist_mpi.h). */
#include "train/dist_mpi.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef VAEC_HAVE_MPI
#include <mpi.h>   // defines: MPI_Allreduce, MPI_Bcast, MPI_Abort

static int mpi_started;

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

int dist_mpi_init(int *rank, int *world, char *err, size_t n) {
    int provided, rc = MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return fail(rc, "MPI_Init_thread", err, n);
    mpi_started = 1;
    /* errors come back as codes, so the message names the collective before the job ends */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, rank);
    MPI_Comm_size(MPI_COMM_WORLD, world);
    return 0;
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

void dist_mpi_abort(int code) {
    if (mpi_started) MPI_Abort(MPI_COMM_WORLD, code);
    _Exit(code);
}

void dist_mpi_finalize(void) {
    if (mpi_started) MPI_Finalize();
    mpi_started = 0;
}

#else   /* built without MPI: a launched job with world > 1 stops in dist_init before any of these */

static int none(char *err, size_t n) {
    snprintf(err, n, "vaec was built without MPI");
    return -1;
}
int dist_mpi_built(void) { return 0; }
int dist_mpi_init(int *rank, int *world, char *err, size_t n) { return none(err, n); }
int dist_mpi_allreduce(void *buf, int64_t count, dist_type t, dist_op op, char *err, size_t n) { return none(err, n); }
int dist_mpi_allreduce_same_f32(float *buf, int64_t count, char *err, size_t n) { return none(err, n); }
int dist_mpi_bcast(void *buf, size_t bytes, int root, char *err, size_t n) { return none(err, n); }
int dist_mpi_local_rank(int *local, char *err, size_t n) { return none(err, n); }
int dist_mpi_barrier(char *err, size_t n) { return none(err, n); }
void dist_mpi_abort(int code) { _Exit(code); }
void dist_mpi_finalize(void) {}

#endif
