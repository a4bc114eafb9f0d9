// dist_nccl.cu: NCCL all-reduce of device gradient buckets on the communicator's own stream (see
// dist_nccl.h). Compiled to nothing without NCCL.
#ifdef VAEC_HAVE_NCCL
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "core/cuda_util.cuh"   // defines: vaec_stream
extern "C" {
#include "train/dist_nccl.h"
}

enum { MAX_BUCKETS = 256 };

struct nccl_comm {
    ncclComm_t comm;
    cudaStream_t stream;            // the communicator's stream: reductions overlap compute
    int rank, world, device;
    double timeout_s;               // for the non-blocking calls' hand-over
    float *ptr[MAX_BUCKETS];
    int64_t count[MAX_BUCKETS];
    cudaEvent_t ready[MAX_BUCKETS]; // recorded on the compute stream when a bucket is final
    int n;
    cudaEvent_t handover;           // ZeRO's collectives: the compute stream's work queued so far
};

static int cuda_fail(cudaError_t e, const char *what, char *err, size_t n) {
    snprintf(err, n, "%s: %s", what, cudaGetErrorString(e));
    return 1;
}
static int nccl_fail(ncclResult_t r, const char *what, char *err, size_t n) {
    snprintf(err, n, "%s: %s", what, ncclGetErrorString(r));
    return 1;
}

extern "C" int nccl_comm_unique_id(unsigned char id[128], char *err, size_t n) {
    ncclUniqueId u;
    ncclResult_t r = ncclGetUniqueId(&u);
    if (r != ncclSuccess) return nccl_fail(r, "ncclGetUniqueId", err, n);
    memcpy(id, u.internal, sizeof u.internal < 128 ? sizeof u.internal : 128);
    return 0;
}

extern "C" nccl_comm *nccl_comm_new(int rank, int world, int device, const unsigned char id[128], double timeout_s,
                                     char *err, size_t n) {
    int current = -1;
    cudaError_t e = cudaGetDevice(&current);
    if (e != cudaSuccess) { cuda_fail(e, "cudaGetDevice", err, n); return NULL; }
    if (current != device) {   // the stream, handles and gradients live on the current GPU: NCCL must too
        snprintf(err, n, "NCCL for GPU %d, but this rank computes on GPU %d (select the GPU in dist_init)", device,
                 current);
        return NULL;
    }
    nccl_comm *c = (nccl_comm *)calloc(1, sizeof *c);
    c->rank = rank, c->world = world, c->device = device, c->timeout_s = timeout_s;
    e = cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) { cuda_fail(e, "cudaStreamCreate", err, n); free(c); return NULL; }
    e = cudaEventCreateWithFlags(&c->handover, cudaEventDisableTiming);
    if (e != cudaSuccess) { cuda_fail(e, "cudaEventCreate", err, n); cudaStreamDestroy(c->stream); free(c); return NULL; }
    ncclUniqueId u;
    memcpy(u.internal, id, sizeof u.internal < 128 ? sizeof u.internal : 128);
    // non-blocking init: a rank that never arrives is caught by nccl_comm_wait's timeout, not a hang
    ncclConfig_t cfg = NCCL_CONFIG_INITIALIZER;
    cfg.blocking = 0;
    ncclResult_t r = ncclCommInitRankConfig(&c->comm, world, u, rank, &cfg);
    if (r != ncclSuccess && r != ncclInProgress) {
        nccl_fail(r, "ncclCommInitRankConfig", err, n);
        cudaStreamDestroy(c->stream);
        free(c);
        return NULL;
    }
    return c;
}

extern "C" int nccl_comm_add_bucket(nccl_comm *c, float *device_ptr, int64_t count) {
    if (c->n >= MAX_BUCKETS) return -1;
    c->ptr[c->n] = device_ptr;
    c->count[c->n] = count;
    cudaEventCreateWithFlags(&c->ready[c->n], cudaEventDisableTiming);
    return c->n++;
}

// waits (bounded) until the communicator is not busy with a non-blocking call
static int settle(nccl_comm *c, double timeout_s, const char *what, char *err, size_t n) {
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        ncclResult_t async;
        ncclResult_t r = ncclCommGetAsyncError(c->comm, &async);
        if (r != ncclSuccess) return nccl_fail(r, what, err, n);
        if (async == ncclSuccess) return 0;
        if (async != ncclInProgress) { ncclCommAbort(c->comm); return nccl_fail(async, what, err, n); }
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > timeout_s) {
            ncclCommAbort(c->comm);
            snprintf(err, n, "%s on rank %d did not complete within %.0f s ([train] dist_timeout_s): another rank has "
                     "died or hung", what, c->rank, timeout_s);
            return 1;
        }
    }
}

extern "C" int nccl_comm_reduce_bucket(nccl_comm *c, int bucket, int64_t count, float scale, char *err, size_t n) {
    if (bucket < 0 || bucket >= c->n) { snprintf(err, n, "NCCL bucket %d of %d", bucket, c->n); return 1; }
    if (count < 0 || count > c->count[bucket]) {
        snprintf(err, n, "NCCL bucket %d: %lld values asked for, %lld registered", bucket, (long long)count,
                 (long long)c->count[bucket]);
        return 1;
    }
    if (count == 0) return 0;
    // after everything queued on the compute stream so far: the kernels and copies that fill the bucket
    cudaError_t e = cudaEventRecord(c->ready[bucket], vaec_stream());
    if (e == cudaSuccess) e = cudaStreamWaitEvent(c->stream, c->ready[bucket], 0);
    if (e != cudaSuccess) return cuda_fail(e, "bucket hand-over", err, n);
    ncclRedOp_t op;   // sum of scale * x: the mean over ranks and micro-steps in one pass
    if (settle(c, c->timeout_s, "the NCCL communicator", err, n)) return 1;
    ncclResult_t r = ncclRedOpCreatePreMulSum(&op, &scale, ncclFloat32, ncclScalarHostImmediate, c->comm);
    if (r != ncclSuccess) return nccl_fail(r, "ncclRedOpCreatePreMulSum", err, n);
    r = ncclAllReduce(c->ptr[bucket], c->ptr[bucket], (size_t)count, ncclFloat32, op, c->comm, c->stream);
    if (r != ncclSuccess && r != ncclInProgress) return nccl_fail(r, "ncclAllReduce", err, n);
    // a non-blocking communicator may still be enqueuing: the operator lives until the call has returned
    if (settle(c, c->timeout_s, "the NCCL gradient all-reduce", err, n)) return 1;
    ncclRedOpDestroy(op, c->comm);
    return 0;
}

extern "C" int nccl_comm_wait(nccl_comm *c, double timeout_s, char *err, size_t n) {
    if (settle(c, timeout_s, "the NCCL gradient all-reduce", err, n)) return 1;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {   // poll rather than block, so a dead peer ends in a message instead of a hang
        cudaError_t e = cudaStreamQuery(c->stream);
        if (e == cudaSuccess) return 0;
        if (e != cudaErrorNotReady) return cuda_fail(e, "the NCCL stream", err, n);
        if (settle(c, timeout_s, "the NCCL gradient all-reduce", err, n)) return 1;
        clock_gettime(CLOCK_MONOTONIC, &t);
        if ((double)(t.tv_sec - t0.tv_sec) + 1e-9 * (double)(t.tv_nsec - t0.tv_nsec) > timeout_s) {
            ncclCommAbort(c->comm);
            snprintf(err, n, "the NCCL gradient all-reduce on rank %d did not complete within %.0f s "
                     "([train] dist_timeout_s): another rank has died or hung", c->rank, timeout_s);
            return 1;
        }
    }
}

// the communicator's stream waits for the compute stream's work queued so far (re-recording the one event is
// safe: a wait captures the event's state when it is queued)
static int after_compute(nccl_comm *c, char *err, size_t n) {
    cudaError_t e = cudaEventRecord(c->handover, vaec_stream());
    if (e == cudaSuccess) e = cudaStreamWaitEvent(c->stream, c->handover, 0);
    return e == cudaSuccess ? 0 : cuda_fail(e, "bucket hand-over", err, n);
}

extern "C" int nccl_comm_reduce_scatter(nccl_comm *c, float *buf, int64_t part, float scale, char *err, size_t n) {
    if (part <= 0) return 0;
    if (after_compute(c, err, n) || settle(c, c->timeout_s, "the NCCL communicator", err, n)) return 1;
    ncclRedOp_t op;
    ncclResult_t r = ncclRedOpCreatePreMulSum(&op, &scale, ncclFloat32, ncclScalarHostImmediate, c->comm);
    if (r != ncclSuccess) return nccl_fail(r, "ncclRedOpCreatePreMulSum", err, n);
    r = ncclReduceScatter(buf, buf + (int64_t)c->rank * part, (size_t)part, ncclFloat32, op, c->comm, c->stream);
    if (r != ncclSuccess && r != ncclInProgress) return nccl_fail(r, "ncclReduceScatter", err, n);
    if (settle(c, c->timeout_s, "the NCCL gradient reduce-scatter", err, n)) return 1;
    ncclRedOpDestroy(op, c->comm);
    return 0;
}

extern "C" int nccl_comm_all_gather(nccl_comm *c, float *buf, int64_t part, char *err, size_t n) {
    if (part <= 0) return 0;
    if (after_compute(c, err, n) || settle(c, c->timeout_s, "the NCCL communicator", err, n)) return 1;
    ncclResult_t r = ncclAllGather(buf + (int64_t)c->rank * part, buf, (size_t)part, ncclFloat32, c->comm, c->stream);
    if (r != ncclSuccess && r != ncclInProgress) return nccl_fail(r, "ncclAllGather", err, n);
    return settle(c, c->timeout_s, "the NCCL all-gather", err, n);
}

extern "C" int nccl_comm_copy(nccl_comm *c, float *dst, const float *src, int64_t count, char *err, size_t n) {
    if (count <= 0) return 0;
    cudaError_t e = cudaMemcpyAsync(dst, src, (size_t)count * sizeof(float), cudaMemcpyDeviceToDevice, c->stream);
    return e == cudaSuccess ? 0 : cuda_fail(e, "the NCCL stream's copy", err, n);
}

extern "C" int nccl_current_device(void) {
    int d = -1;
    return cudaGetDevice(&d) == cudaSuccess ? d : -1;
}

extern "C" void nccl_comm_free(nccl_comm *c) {
    if (!c) return;
    cudaStreamSynchronize(c->stream);
    for (int i = 0; i < c->n; i++) cudaEventDestroy(c->ready[i]);
    cudaEventDestroy(c->handover);
    char err[256];
    // a non-blocking communicator finalizes asynchronously: flush it (bounded) before destroying it
    ncclCommFinalize(c->comm);
    if (settle(c, c->timeout_s, "ncclCommFinalize", err, sizeof err) == 0) ncclCommDestroy(c->comm);   // else aborted
    else fprintf(stderr, "vaec: warning: %s\n", err);
    cudaStreamDestroy(c->stream);
    free(c);
}
#endif
