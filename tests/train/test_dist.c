/* test_dist.c: data-parallel training (train/dist.h) as users run it, `mpirun -np 2 vaec train`:
 * two ranks of batch b train exactly as one rank of batch 2b, gradient accumulation as a bigger batch, a
 * 2-rank checkpoint resumes on one rank, and a rank that dies or hangs ends the job quickly with a message.
 * Also: rank variables without a launcher, the posterior noise of a step is the same cut into any number
 * of slices, and (on a GPU) the NCCL communicator averages device buckets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "core/device.h"         // defines: device_cuda_available, device_malloc
#include "core/rng.h"            // defines: rng_fill_normal
#include "core/safetensors.h"    // defines: st_open
#include "tests/harness/test.h"
#include "train/batch_noise.h"   // defines: batch_noise_slice
#include "train/dist_nccl.h"     // defines: nccl_comm_new

/* mpirun as the tests need it: root allowed (containers), 2 ranks on 2 cores, one thread each */
/* make test-asan: OpenMPI keeps allocations in components it unloads at exit, which LeakSanitizer reports
 * from unknown modules (no suppression can name them): leaks are checked in the 1-process runs only */
#define MPI_ENV TEST_MPI_ENV
#define MPIRUN_2 "mpirun --oversubscribe --bind-to none -np 2 "
#define MPIRUN MPI_ENV MPIRUN_2
/* the tiny stage-1 run: z reconstruction + identity loss, video/image mixing, sampled posteriors; the
 * recipe's lr 1e-5 (at lr 1e-3 Adam turns float rounding of near-zero gradients into visible updates) */
/* one OpenMP thread a process everywhere: on a loaded 2-core machine spinning thread pools cost 10x */
#define ONE_THREAD "OMP_NUM_THREADS=1 "
#define TRAIN " train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --set train.lr=1e-5 --steps 5 "

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}


/* the folder with the data set and the 1-rank batch-2 reference run, made once for every test here */
static char work[128];
static void cleanup(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", work);
}
static const char *reference(void) {
    if (work[0]) return work;
    snprintf(work, sizeof work, "/tmp/vaec_dist_%d", (int)getpid());
    atexit(cleanup);
    char cmd[4096], out[16384];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 8 --out %s/d.h5 --size 16 --num-frames 6", work,
             VAEC_BIN_DIR, work);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "data make:\n%s", out);
    snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec" TRAIN "--set train.batch_size=2 --out %s/ref", VAEC_BIN_DIR, test_source_dir(), work,
             work);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "reference run:\n%s", out);
    return work;
}

/* the "loss" of `step` in run/metrics.jsonl, NAN if absent */
static double loss_at(const char *run, int step) {
    char path[300];
    snprintf(path, sizeof path, "%s/metrics.jsonl", run);
    return test_metrics_loss(path, step);
}

/* losses of steps [from, 5] and the step-5 weights of run agree with the reference to 1e-6 relative
 * (weights: max |difference| over max |weight| across the whole model) */
static void expect_same_run(const char *run, int from, const char *what) {
    char ref[256], a[300], b[300];
    snprintf(ref, sizeof ref, "%s/ref", work);
    for (int s = from; s <= 5; s++) {
        double x = loss_at(run, s), y = loss_at(ref, s);
        EXPECT(isfinite(x) && fabs(x - y) <= 1e-6 * fabs(y), "%s: step %d loss %.9g, reference %.9g", what, s, x, y);
    }
    snprintf(a, sizeof a, "%s/ckpt-000000005/model.safetensors", run);
    snprintf(b, sizeof b, "%s/ckpt-000000005/model.safetensors", ref);
    st_file *fa = st_open(a), *fb = st_open(b);
    EXPECT(fa && fb, "%s: final checkpoints %s, %s", what, a, b);
    double diff = 0, scale = 0;
    for (int i = 0; fa && fb && i < fb->n_entries; i++) {
        tensor *x = st_load(fa, fb->entries[i].name), *y = st_load(fb, fb->entries[i].name);
        EXPECT(x && x->numel == y->numel, "%s: %s missing", what, fb->entries[i].name);
        for (int64_t k = 0; x && k < x->numel; k++) {
            diff = fmax(diff, fabs((double)tensor_f32(x)[k] - (double)tensor_f32(y)[k]));
            scale = fmax(scale, fabs((double)tensor_f32(y)[k]));
        }
        tensor_release(x);
        tensor_release(y);
    }
    EXPECT(diff <= 1e-6 * scale, "%s: weights differ by %.3g (largest weight %.3g)", what, diff, scale);
    test_note_error("dist: 2 ranks vs 1", scale > 0 ? diff / scale : 0);
    st_close(fa);
    st_close(fb);
}

/* the 2-rank batch-1 run into WORK/two, once for every test that needs it; returns its output */
static const char *two_rank_run(void) {
    static char out[16384];
    static bool done;
    if (done) return out;
    done = true;
    const char *w = reference();
    char cmd[4096];
    snprintf(cmd, sizeof cmd, MPIRUN "%s/vaec" TRAIN "--set train.batch_size=1 --out %s/two", VAEC_BIN_DIR, test_source_dir(),
             w, w);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "mpirun -np 2:\n%s", out);
    return out;
}

TEST(test_dist_two_ranks_train_as_one_rank_of_twice_the_batch) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI): run scripts/install-deps.sh and rebuild");
    const char *out = two_rank_run();
    char run[256];
    snprintf(run, sizeof run, "%s/two", work);
    EXPECT(strstr(out, "2 ranks (mpirun)") && strstr(out, "allreduce"), "no data-parallel progress lines:\n%s", out);
    EXPECT(!strstr(out, "not aligned"), "the noise layout warning appeared:\n%s", out);
    expect_same_run(run, 1, "2 ranks x batch 1");
    /* rank 0 alone printed progress (once a step) and wrote files */
    int lines = 0;
    for (const char *p = out; (p = strstr(p, "step 5/5")); p++) lines++;
    EXPECT(lines == 1, "step 5 printed %d times", lines);
}

TEST(test_dist_grad_accumulation_equals_twice_the_batch) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI: the reference run is shared with the 2-rank tests");
    const char *w = reference();
    char cmd[4096], out[16384], run[256];
    snprintf(run, sizeof run, "%s/accum", w);
    snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec" TRAIN "--set train.batch_size=1 --set train.grad_accum_steps=2 --out %s", VAEC_BIN_DIR,
             test_source_dir(), w, run);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "accumulation run:\n%s", out);
    EXPECT(strstr(out, "2 micro-steps"), "no accumulation line:\n%s", out);
    expect_same_run(run, 1, "1 rank x 2 micro-steps x batch 1");
}

TEST(test_dist_two_rank_checkpoint_resumes_on_one_rank) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    const char *w = reference();
    char cmd[4096], out[16384], run[256];
    snprintf(run, sizeof run, "%s/resumed", w);
    two_rank_run();   /* its step-4 checkpoint */
    snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec" TRAIN "--set train.batch_size=2 --out %s --resume %s/two/ckpt-000000004", VAEC_BIN_DIR,
             test_source_dir(), w, run, w);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "resumed from"), "resume on 1 rank:\n%s", out);
    expect_same_run(run, 5, "2-rank checkpoint resumed on 1 rank");
}

/* a rank that exits, or hangs, at step 3: the job ends within seconds, non-zero, saying why */
static void expect_job_ends(const char *mode, const char *needle) {
    const char *w = reference();
    char cmd[4096], out[16384];
    snprintf(cmd, sizeof cmd, "VAEC_TEST_DIE_AT_STEP=3 VAEC_TEST_DIE_RANK=1 VAEC_TEST_DIE_MODE=%s " MPI_ENV "timeout 60 " MPIRUN_2
             "%s/vaec" TRAIN "--set train.batch_size=1 --set train.dist_timeout_s=2 --out %s/%s", mode, VAEC_BIN_DIR,
             test_source_dir(), w, w, mode);
    double t0 = now_s();
    int rc = test_run_command(cmd, out, sizeof out);
    double took = now_s() - t0;
    EXPECT(rc != 0 && rc != 124, "%s: exit status %d (124: still running after 60 s)", mode, rc);
    EXPECT(took < 20, "%s: the job took %.1f s to end", mode, took);
    EXPECT(strstr(out, needle), "%s: no '%s' in:\n%s", mode, needle, out);
}

TEST(test_dist_dead_rank_ends_the_job) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    expect_job_ends("exit", "rank 1 exits at step 3");
}

TEST(test_dist_hung_rank_times_out_on_every_rank) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    expect_job_ends("hang", "rank 0 of 2: the gradient");
}

TEST(test_dist_rank_variables_without_a_launcher) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    const char *w = reference();
    char cmd[4096], out[16384];
    /* torchrun-style variables for a 1-process world: a plain run */
    snprintf(cmd, sizeof cmd, "RANK=0 WORLD_SIZE=1 " ONE_THREAD "%s/vaec" TRAIN "--steps 1 --out %s/plain", VAEC_BIN_DIR,
             test_source_dir(), w, w);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && !strstr(out, "data parallel"), "RANK=0 WORLD_SIZE=1:\n%s", out);
    /* two ranks claimed, but nothing MPI can join: refused, naming both views */
    snprintf(cmd, sizeof cmd, MPI_ENV "RANK=1 WORLD_SIZE=2 timeout 60 %s/vaec" TRAIN "--out %s/claimed", VAEC_BIN_DIR,
             test_source_dir(), w, w);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc != 0 && rc != 124 && strstr(out, "says rank 1 of 2, MPI says rank 0 of 1") && strstr(out, "HINT"),
           "RANK=1 WORLD_SIZE=2 without mpirun: status %d\n%s", rc, out);
}

/* draws a step's noise as the pipeline does (spatial in chunks of `chunk` samples, then temporal) */
static void draw_slice(rng_state *r, int64_t batch, int64_t chunk, int64_t sp, int64_t tp, float *spatial, float *temporal) {
    for (int64_t a = 0; a < batch; a += chunk) {
        int64_t k = a + chunk < batch ? chunk : batch - a;
        rng_fill_normal(r, spatial + a * sp, k * sp, 0.0f, 1.0f);
    }
    rng_fill_normal(r, temporal, batch * tp, 0.0f, 1.0f);
}

TEST(test_dist_posterior_noise_is_the_same_in_any_number_of_slices) {
    enum { G = 6, SP = 20, TP = 8 };   /* 6 samples, 20 spatial and 8 temporal numbers each */
    float want_s[G * SP], want_t[G * TP], got_s[G * SP], got_t[G * TP];
    rng_state run = rng_seed(7), whole;
    run.offset = 11;
    whole = run;
    draw_slice(&whole, G, 4, SP, TP, want_s, want_t);   /* one process, the whole batch */
    int64_t cuts[3] = {2, 3, 6};
    for (int c = 0; c < 3; c++) {
        int64_t slices = cuts[c], b = G / slices;
        batch_noise n = {SP, TP, b, slices};
        for (int64_t s = 0; s < slices; s++) {
            rng_state r = batch_noise_slice(&n, run, s);
            draw_slice(&r, b, 4, SP, TP, got_s + s * b * SP, got_t + s * b * TP);
            EXPECT(batch_noise_check(&n, run, s, r), "%lld slices: slice %lld ends at the wrong offset", (long long)slices,
                   (long long)s);
        }
        EXPECT(!memcmp(got_s, want_s, sizeof want_s) && !memcmp(got_t, want_t, sizeof want_t),
               "%lld slices draw other noise than one batch", (long long)slices);
        rng_state end = batch_noise_end(&n, run);
        EXPECT(end.offset == whole.offset, "%lld slices: the run's RNG ends at %llu", (long long)slices,
               (unsigned long long)end.offset);
    }
}

TEST(test_dist_nccl_averages_device_buckets) {
#ifndef VAEC_HAVE_NCCL
    TEST_SKIP("built without NCCL (CUDA off, or no nccl.h and libnccl)");
#else
    if (!device_cuda_available()) TEST_SKIP("no GPU visible: the NCCL communicator compiled and linked, not run");
    unsigned char id[128];
    char err[512];
    EXPECT(nccl_comm_unique_id(id, err, sizeof err) == 0, "%s", err);
    nccl_comm *c = nccl_comm_new(0, 1, 0, id, 60, err, sizeof err);
    EXPECT(c != NULL, "%s", err);
    if (!c) return;
    enum { N0 = 1000, N1 = 4097 };
    float host[N0 + N1], back[N0 + N1];
    for (int i = 0; i < N0 + N1; i++) host[i] = (float)(i % 13) - 6.0f;
    float *dev = device_malloc(DEVICE_CUDA, sizeof host);
    device_memcpy(dev, DEVICE_CUDA, host, DEVICE_CPU, sizeof host);
    int b0 = nccl_comm_add_bucket(c, dev, N0), b1 = nccl_comm_add_bucket(c, dev + N0, N1);
    /* no synchronisation between the copy in and the reduction: the hand-over event must order them; the
       second bucket is filled only in part (FILLED values), and NCCL must leave the rest as it was */
    enum { FILLED = N1 - 97 };
    EXPECT(nccl_comm_reduce_bucket(c, b0, N0, 0.5f, err, sizeof err) == 0, "%s", err);
    EXPECT(nccl_comm_reduce_bucket(c, b1, FILLED, 0.25f, err, sizeof err) == 0, "%s", err);
    EXPECT(nccl_comm_reduce_bucket(c, b1, N1 + 1, 0.25f, err, sizeof err) != 0, "a count beyond the bucket must be refused");
    EXPECT(nccl_comm_wait(c, 60, err, sizeof err) == 0, "%s", err);
    device_memcpy(back, DEVICE_CPU, dev, DEVICE_CUDA, sizeof back);
    int bad = 0;
    for (int i = 0; i < N0 + N1; i++) bad += back[i] != host[i] * (i < N0 ? 0.5f : i < N0 + FILLED ? 0.25f : 1.0f);
    EXPECT(bad == 0, "%d values of the 1-rank NCCL average are wrong (or the unfilled tail was touched)", bad);
    nccl_comm_free(c);
    device_free(DEVICE_CUDA, dev, sizeof host);
#endif
}

/* pre-emption under mpirun: SIGTERM reaches rank 1 alone at step 3; both ranks stop after that step, rank 0 writes
 * one checkpoint (ckpt-3), and a 1-rank run resumed from it ends as the reference does */
TEST(test_dist_sigterm_on_one_rank_stops_all_and_resumes_on_one_rank) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    const char *w = reference();
    char cmd[4096], out[16384], run[256], path[320];
    snprintf(run, sizeof run, "%s/sigterm", w);
    snprintf(cmd, sizeof cmd, "VAEC_TEST_DIE_AT_STEP=3 VAEC_TEST_DIE_RANK=1 VAEC_TEST_DIE_MODE=sigterm " MPI_ENV "timeout 120 "
             MPIRUN_2 "%s/vaec" TRAIN "--set train.batch_size=1 --set train.ckpt_every=100 --out %s", VAEC_BIN_DIR,
             test_source_dir(), w, run);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc != 0 && rc != 124, "an interrupted job exits non-zero (not 124: still running after 120 s), got %d:\n%s", rc,
           out);
    EXPECT(strstr(out, "rank 1 gets SIGTERM at step 3") && strstr(out, "interrupted by a signal to another rank"),
           "the signal and the stop are reported:\n%s", out);
    EXPECT(!strstr(out, "step 4/"), "a rank went on after the signal:\n%s", out);
    for (int s = 1; s <= 5; s++) {   /* one checkpoint, the signal's (ckpt_every is 100) */
        snprintf(path, sizeof path, "%s/ckpt-%09d", run, s);
        EXPECT((access(path, F_OK) == 0) == (s == 3), "%s %s", path, s == 3 ? "missing" : "written");
    }
    snprintf(cmd, sizeof cmd, ONE_THREAD "%s/vaec" TRAIN "--set train.batch_size=2 --out %s --resume auto", VAEC_BIN_DIR,
             test_source_dir(), w, run);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "ckpt-000000003 at step 3"),
           "resume on 1 rank:\n%s", out);
    expect_same_run(run, 4, "2-rank run stopped by SIGTERM, resumed on 1 rank");
}
