/* dist.c: launcher detection, watched collectives, abort and the test hook (see dist.h). */
#include "train/dist.h"
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/check.h"       // defines: FATAL, CHECK_HINT
#include "core/device.h"      // defines: device_cuda_visible, device_cuda_select
#include "train/dist_mpi.h"   // defines: dist_mpi_init, dist_mpi_allreduce

static dist_info info = {0, 1, 0, "none", -1};
static bool mpi_on;
static double comm_seconds;
/* every MPI call after MPI_Init is made under this lock (MPI_THREAD_SERIALIZED), so that the progress thread
   may call MPI while the main thread computes */
static pthread_mutex_t mpi_mu = PTHREAD_MUTEX_INITIALIZER;

/* the progress thread (VAEC_MPI_PROGRESS_THREAD=1): while non-blocking collectives are in flight, it makes
   an MPI call every 200 us so that MPI moves them on while backward computes (OpenMPI progresses them only
   inside MPI calls; without the thread, the gradient-ready hook's MPI_Test calls do it) */
static struct {
    pthread_t thread;
    bool running;
    int in_flight, stop;   /* atomics */
} prog;

static void *progress_main(void *arg) {
    (void)arg;
    const struct timespec active = {0, 200 * 1000}, idle = {0, 2000 * 1000};
    while (!__atomic_load_n(&prog.stop, __ATOMIC_ACQUIRE)) {
        bool busy = __atomic_load_n(&prog.in_flight, __ATOMIC_ACQUIRE) > 0;
        if (busy && pthread_mutex_trylock(&mpi_mu) == 0) {   /* the main thread in MPI progresses them itself */
            dist_mpi_progress();
            pthread_mutex_unlock(&mpi_mu);
        }
        nanosleep(busy ? &active : &idle, NULL);
    }
    return NULL;
}

/* the watchdog: a thread that ends the job when one collective runs longer than the timeout */
static struct {
    pthread_t thread;
    pthread_mutex_t mu;
    bool running, in_collective;
    const char *what;
    double started, timeout_s;
    long step;
} wd = {.mu = PTHREAD_MUTEX_INITIALIZER, .step = -1};

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static void *watchdog_main(void *arg) {
    (void)arg;
    struct timespec tick = {0, 100 * 1000 * 1000};
    for (;;) {
        nanosleep(&tick, NULL);
        pthread_mutex_lock(&wd.mu);
        bool late = wd.in_collective && now_s() - wd.started > wd.timeout_s;
        const char *what = wd.what;
        long step = wd.step;
        pthread_mutex_unlock(&wd.mu);
        if (late)
            dist_abort("%s at step %ld did not complete within %.0f s ([train] dist_timeout_s): another rank has died, hung "
                       "or fallen far behind (see its messages above); ending every rank", what, step + 1, wd.timeout_s);
    }
    return NULL;
}

/* the first launcher whose variables are set */
static bool env_int(const char *(*get)(const char *), const char *name, int *out) {
    const char *v = get(name);
    if (!v || !*v) return false;
    char *end;
    long x = strtol(v, &end, 10);
    CHECK(*end == 0 && x >= 0 && x < (1 << 24), "environment variable %s = '%s' is not a rank or a count", name, v);
    *out = (int)x;
    return true;
}

static bool from_env(const char *(*get)(const char *), const char *rank, const char *size, const char *local,
                     const char *source, dist_info *info) {
    int r, w, l = -1;
    if (!env_int(get, rank, &r) || !env_int(get, size, &w)) return false;
    env_int(get, local, &l);
    CHECK(w >= 1 && r < w, "%s says rank %d of %d (%s, %s)", source, r, w, rank, size);
    *info = (dist_info){r, w, w == 1 ? 0 : l, source, -1};
    return true;
}

/* the launchers, first match wins; slurm's variables count only inside a job step */
static const struct { const char *rank, *size, *local, *source; bool step_only; } launchers[] = {
    {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK", "mpirun", false},
    {"PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "mpiexec", false},
    {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID", "srun", true},
    {"RANK", "WORLD_SIZE", "LOCAL_RANK", "RANK/WORLD_SIZE", false},
};

dist_info dist_info_from(const char *(*get)(const char *name)) {
    dist_info d = {0, 1, 0, "none", -1};
    for (size_t i = 0; i < sizeof launchers / sizeof launchers[0]; i++) {
        if (launchers[i].step_only && !get("SLURM_STEP_ID")) continue;
        if (from_env(get, launchers[i].rank, launchers[i].size, launchers[i].local, launchers[i].source, &d)) break;
    }
    return d;
}

int dist_gpu_for(int local_rank, int n_visible) {
    if (n_visible <= 0 || local_rank < 0) return -1;
    return local_rank % n_visible;
}

static const char *process_env(const char *name) { return getenv(name); }

double dist_timeout_seconds(void) { return wd.timeout_s > 0 && wd.timeout_s < 1e29 ? wd.timeout_s : 600.0; }

/* the GPU of this rank, selected before any stream, handle or weight exists (they belong to the device
 * current when they are made) */
static void select_gpu(void) {
    char err[512];
    if (info.local_rank < 0 && dist_mpi_local_rank(&info.local_rank, err, sizeof err) != 0)
        dist_abort("%s names no local rank, and MPI could not tell the ranks of this node apart: %s", info.source, err);
    int n = device_cuda_visible();
    CHECK_HINT(n > 0, "check nvidia-smi and CUDA_VISIBLE_DEVICES on every node, or train with --set train.device=cpu",
               "rank %d: [train] device = cuda, but this rank sees no GPU", info.rank);
    info.device = dist_gpu_for(info.local_rank, n);
    if (info.local_rank >= n)
        fprintf(stderr, "vaec: warning: rank %d is local rank %d on a node where it sees %d GPUs: it shares GPU %d with "
                "another rank (start at most as many ranks a node as GPUs)\n", info.rank, info.local_rank, n, info.device);
    device_cuda_select(info.device);
}

void dist_init(double timeout_s, device_t dev) {
    info = dist_info_from(process_env);
    if (info.world == 1) return;   /* a plain run: no MPI at all, the default GPU */
    CHECK_HINT(dist_mpi_built(), "install libopenmpi-dev (scripts/install-deps.sh) and rebuild, or run one process",
               "%s started %d ranks, but this vaec was built without MPI", info.source, info.world);
    int rank, world;
    char err[512];
    /* VAEC_MPI_PROGRESS_THREAD=1: a thread moves the gradient buckets' collectives on while backward computes;
       worth a core of its own: on oversubscribed ranks (more ranks and threads than cores) it slows every step */
    const char *pt = getenv("VAEC_MPI_PROGRESS_THREAD");
    const bool want_progress = pt && !strcmp(pt, "1");
    if (dist_mpi_init(&rank, &world, want_progress, err, sizeof err) != 0) FATAL("rank %d: %s", info.rank, err);
    mpi_on = true;
    CHECK_HINT(rank == info.rank && world == info.world,
               "launch with mpirun, or with srun --mpi=pmix (docs/distributed.md); RANK/WORLD_SIZE alone cannot start MPI",
               "%s says rank %d of %d, MPI says rank %d of %d", info.source, info.rank, info.world, rank, world);
    if (dev == DEVICE_CUDA) select_gpu();
    if (info.rank != 0) {   /* rank 0 alone prints progress; errors still reach stderr */
        fflush(stdout);
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) { dup2(fd, STDOUT_FILENO); close(fd); }
    }
    if (want_progress && dist_mpi_progress_possible())
        prog.running = pthread_create(&prog.thread, NULL, progress_main, NULL) == 0;
    if (timeout_s > 0) {
        wd.timeout_s = timeout_s;
        wd.running = pthread_create(&wd.thread, NULL, watchdog_main, NULL) == 0;
        if (wd.running) pthread_detach(wd.thread);
        else fprintf(stderr, "vaec: warning: rank %d: no watchdog thread: a hung rank will not time out\n", info.rank);
    }
}

const dist_info *dist_get(void) { return &info; }
bool dist_progress_thread(void) { return prog.running; }
int dist_rank(void) { return info.rank; }
int dist_world(void) { return info.world; }
double dist_comm_seconds(void) { return comm_seconds; }

void dist_set_step(long step) {
    pthread_mutex_lock(&wd.mu);
    wd.step = step;
    pthread_mutex_unlock(&wd.mu);
}

void dist_finalize(void) {
    if (!mpi_on) return;
    dist_barrier("the final barrier");   /* no rank leaves while another still needs it */
    if (prog.running) {
        __atomic_store_n(&prog.stop, 1, __ATOMIC_RELEASE);
        pthread_join(prog.thread, NULL);
        prog.running = false;
    }
    pthread_mutex_lock(&wd.mu);
    wd.timeout_s = 1e30;   /* MPI_Finalize is not a watched collective */
    pthread_mutex_unlock(&wd.mu);
    dist_mpi_finalize();
    mpi_on = false;
}

void dist_abort(const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "vaec: error: rank %d of %d: %s\n", info.rank, info.world, msg);
    fflush(stderr);
    fflush(stdout);
    dist_mpi_abort(1);
    _Exit(1);
}

/* the arguments of one collective */
typedef struct {
    void *buf;
    int64_t count;
    size_t bytes;
    dist_type type;
    dist_op op;
    int root;
    enum { CALL_ALLREDUCE, CALL_BCAST, CALL_BARRIER } kind;
} call;

/* runs one collective under the watchdog and the clock; an MPI error ends the job */
static void watched(const call *c, const char *what) {
    char err[512] = "";
    double t0 = now_s();
    pthread_mutex_lock(&wd.mu);
    wd.in_collective = true, wd.what = what, wd.started = t0;
    long step = wd.step;
    pthread_mutex_unlock(&wd.mu);
    int rc;
    pthread_mutex_lock(&mpi_mu);
    if (c->kind == CALL_ALLREDUCE && c->type == DIST_F32 && c->op == DIST_SUM)
        rc = dist_mpi_allreduce_same_f32(c->buf, c->count, err, sizeof err);
    else if (c->kind == CALL_ALLREDUCE) rc = dist_mpi_allreduce(c->buf, c->count, c->type, c->op, err, sizeof err);
    else if (c->kind == CALL_BCAST) rc = dist_mpi_bcast(c->buf, c->bytes, c->root, err, sizeof err);
    else rc = dist_mpi_barrier(err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    pthread_mutex_lock(&wd.mu);
    wd.in_collective = false;
    pthread_mutex_unlock(&wd.mu);
    comm_seconds += now_s() - t0;
    if (rc != 0) dist_abort("%s at step %ld failed: %s", what, step + 1, err);
}

static void allreduce(void *buf, int64_t count, dist_type t, dist_op op, const char *what) {
    if (!mpi_on || count == 0) return;
    watched(&(call){.buf = buf, .count = count, .type = t, .op = op, .kind = CALL_ALLREDUCE}, what);
}

void dist_allreduce_sum_f64(double *v, int n, const char *what) { allreduce(v, n, DIST_F64, DIST_SUM, what); }
void dist_allreduce_max_i32(int *v, int n, const char *what) { allreduce(v, n, DIST_I32, DIST_MAX, what); }
void dist_allreduce_sum_f32(float *v, int64_t n, const char *what) { allreduce(v, n, DIST_F32, DIST_SUM, what); }

void dist_broadcast(void *buf, size_t bytes, int root, const char *what) {
    if (!mpi_on || bytes == 0) return;
    watched(&(call){.buf = buf, .bytes = bytes, .root = root, .kind = CALL_BCAST}, what);
}

void dist_barrier(const char *what) {
    if (!mpi_on) return;
    watched(&(call){.kind = CALL_BARRIER}, what);
}

void dist_test_hook(long step) {
    const char *at = getenv("VAEC_TEST_DIE_AT_STEP"), *rank = getenv("VAEC_TEST_DIE_RANK");
    if (!at || !rank || atol(at) != step + 1 || atoi(rank) != info.rank) return;
    const char *mode = getenv("VAEC_TEST_DIE_MODE");
    if (mode && !strcmp(mode, "sigterm")) {   /* pre-emption reaching one rank: the step's all-reduce stops them all */
        fprintf(stderr, "vaec: test hook: rank %d gets SIGTERM at step %ld\n", info.rank, step + 1);
        raise(SIGTERM);
        return;
    }
    if (mode && !strcmp(mode, "hang")) {
        fprintf(stderr, "vaec: test hook: rank %d hangs at step %ld\n", info.rank, step + 1);
        for (;;) pause();
    }
    fprintf(stderr, "vaec: test hook: rank %d exits at step %ld\n", info.rank, step + 1);
    _Exit(3);
}

/* ---- the non-blocking collectives and the gathers of ZeRO (see dist.h) ---- */
static double watch_begin(const char *what) {
    double t0 = now_s();
    pthread_mutex_lock(&wd.mu);
    wd.in_collective = true, wd.what = what, wd.started = t0;
    pthread_mutex_unlock(&wd.mu);
    return t0;
}

static void watch_end(double t0, int rc, const char *what, const char *err) {
    pthread_mutex_lock(&wd.mu);
    wd.in_collective = false;
    long step = wd.step;
    pthread_mutex_unlock(&wd.mu);
    comm_seconds += now_s() - t0;
    if (rc != 0) dist_abort("%s at step %ld failed: %s", what, step + 1, err);
}

static void started_or_abort(int rc, const char *what, const char *err) {
    if (rc != 0) dist_abort("starting %s at step %ld failed: %s", what, wd.step + 1, err);
}

int dist_ialltoall_f32(const float *send, float *recv, int64_t part, const char *what) {
    if (!mpi_on) { memmove(recv, send, (size_t)part * sizeof(float)); return -1; }
    char err[512] = "";
    int req;
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_ialltoall_f32(send, recv, part, &req, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    started_or_abort(rc, what, err);
    __atomic_add_fetch(&prog.in_flight, 1, __ATOMIC_ACQ_REL);
    return req;
}

int dist_iallgather_f32(float *buf, int64_t part, const char *what) {
    if (!mpi_on) return -1;
    char err[512] = "";
    int req;
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_iallgather_f32(buf, part, &req, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    started_or_abort(rc, what, err);
    __atomic_add_fetch(&prog.in_flight, 1, __ATOMIC_ACQ_REL);
    return req;
}

bool dist_test(int req, const char *what) {
    if (req < 0) return true;
    char err[512] = "";
    int done = 0;
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_test(req, &done, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    if (rc != 0) dist_abort("%s at step %ld failed: %s", what, wd.step + 1, err);
    if (done) __atomic_sub_fetch(&prog.in_flight, 1, __ATOMIC_ACQ_REL);
    return done != 0;
}

void dist_wait(int req, const char *what) {
    if (req < 0) return;
    char err[512] = "";
    double t0 = watch_begin(what);
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_wait(req, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    __atomic_sub_fetch(&prog.in_flight, 1, __ATOMIC_ACQ_REL);
    watch_end(t0, rc, what, err);
}

void dist_gather_f32(const float *send, float *recv, int64_t part, int root, const char *what) {
    if (!mpi_on) { memmove(recv, send, (size_t)part * sizeof(float)); return; }
    char err[512] = "";
    double t0 = watch_begin(what);
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_gather_f32(send, recv, part, root, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    watch_end(t0, rc, what, err);
}

void dist_allgather_f64(double *buf, int part, const char *what) {
    if (!mpi_on) return;
    char err[512] = "";
    double t0 = watch_begin(what);
    pthread_mutex_lock(&mpi_mu);
    int rc = dist_mpi_allgather_f64(buf, part, err, sizeof err);
    pthread_mutex_unlock(&mpi_mu);
    watch_end(t0, rc, what, err);
}
