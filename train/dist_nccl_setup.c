/* dist_nccl_setup.c: the NCCL communicator's rendezvous over MPI (see dist_nccl.h). */
#include "train/dist_nccl.h"
#include "core/check.h"    // defines: FATAL
#include "train/dist.h"    // defines: dist_broadcast, dist_abort

#ifdef VAEC_HAVE_NCCL
int dist_nccl_built(void) { return 1; }

nccl_comm *dist_nccl_open(double timeout_s) {
    const dist_info *d = dist_get();
    unsigned char id[128] = {0};
    char err[512];
    if (d->rank == 0 && nccl_comm_unique_id(id, err, sizeof err) != 0) dist_abort("%s", err);
    dist_broadcast(id, sizeof id, 0, "the ncclUniqueId broadcast");
    CHECK(d->device >= 0, "rank %d: NCCL was opened, but dist_init selected no GPU (train.device = cuda selects one)",
          d->rank);
    nccl_comm *c = nccl_comm_new(d->rank, d->world, d->device, id, timeout_s, err, sizeof err);
    if (!c) dist_abort("%s", err);
    return c;
}

nccl_comm *dist_nccl_shared(void) {
    static nccl_comm *shared;
    if (shared) return shared;
    if (dist_world() > 1) return shared = dist_nccl_open(dist_timeout_seconds());
    unsigned char id[128] = {0};   /* alone: a one-rank communicator on the current GPU */
    char err[512];
    if (nccl_comm_unique_id(id, err, sizeof err) != 0) dist_abort("%s", err);
    shared = nccl_comm_new(0, 1, nccl_current_device(), id, dist_timeout_seconds(), err, sizeof err);
    if (!shared) dist_abort("%s", err);
    return shared;
}

void dist_nccl_wait(nccl_comm *c, double timeout_s) {
    char err[512];
    if (nccl_comm_wait(c, timeout_s, err, sizeof err) != 0) dist_abort("%s", err);
}
#else
int dist_nccl_built(void) { return 0; }
nccl_comm *dist_nccl_open(double timeout_s) {
    CHECK_HINT(0, "build on a machine with the CUDA toolkit and NCCL (nvcc, nccl.h, libnccl)",
               "this vaec was built without NCCL");
    return NULL;
}
nccl_comm *dist_nccl_shared(void) { return dist_nccl_open(0); }
void dist_nccl_wait(nccl_comm *c, double timeout_s) { (void)c, (void)timeout_s; }
#endif
