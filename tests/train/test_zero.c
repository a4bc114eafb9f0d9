/* test_zero.c: ZeRO (train/zero.h, zero_plan.h, grad_sync.h) as users run it, `mpirun -np N vaec train` with
 * [train] zero_stage: stages 1 and 2 train bit for bit as stage 0 on 2 and 3 ranks (a tiny model whose 87
 * tensors are cut into uneven buckets and parts, parameters split between ranks); buckets handed over during
 * backward give the same bits as after it; a zero-2 checkpoint of 2 ranks resumes on 3 ranks (stage 1) and
 * on 1 rank. In process: the plan's parts cover every value once, autograd's gradient-ready hook reports
 * each gradient once, final, before backward ends; a bad zero_stage stops with the key named. On a GPU: the
 * NCCL reduce-scatter and all-gather. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "autograd/autograd.h"   // defines: ag_set_grad_ready_hook, ag_backward
#include "core/device.h"         // defines: device_cuda_available, device_malloc
#include "core/ops.h"            // defines: op_mul, op_sum_all
#include "core/rng.h"            // defines: rng_seed, rng_fill_normal
#include "optim/clip.h"          // defines: grad_global_norm
#include "core/safetensors.h"    // defines: st_open
#include "tests/harness/test.h"
#include "train/dist_nccl.h"     // defines: nccl_comm_reduce_scatter
#include "train/zero.h"          // defines: zero_new, zero_apply, zero_gather_optimizer
#include "train/zero_plan.h"     // defines: zero_plan_build

#define MPI_ENV TEST_MPI_ENV
#define MPIRUN(n) MPI_ENV "timeout 300 mpirun --oversubscribe --bind-to none -np " #n " "
/* global batch 6 (2 x 3, 3 x 2, 1 x 6); buckets of 2621 values: 29 buckets, most holding parts of tensors */
#define TRAIN " train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --set train.lr=1e-5 --steps 4 " \
              "--set train.dist_bucket_mb=0.01 "


static char work[128];
static void cleanup(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", work);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", work);
}

/* runs `vaec train` (launcher: "" or MPIRUN(n)) with extra options into WORK/name, once per name; its output */
static const char *run(const char *name, const char *launcher, const char *extra) {
    static struct { char name[32], out[16384]; } done[16];
    static int n_done;
    for (int i = 0; i < n_done; i++) if (!strcmp(done[i].name, name)) return done[i].out;
    char cmd[4096];
    if (!work[0]) {
        snprintf(work, sizeof work, "/tmp/vaec_zero_%d", (int)getpid());
        atexit(cleanup);
        snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 8 --out %s/d.h5 --size 16 --num-frames 6", work,
                 VAEC_BIN_DIR, work);
        EXPECT(test_run_command(cmd, done[0].out, sizeof done[0].out) == 0, "data make:\n%s", done[0].out);
    }
    snprintf(done[n_done].name, sizeof done[n_done].name, "%s", name);
    char *out = done[n_done++].out;
    snprintf(cmd, sizeof cmd, "%s%s/vaec" TRAIN "%s --out %s/%s", launcher[0] ? launcher : "OMP_NUM_THREADS=1 ", VAEC_BIN_DIR,
             test_source_dir(), work, extra, work, name);
    EXPECT(test_run_command(cmd, out, 16384) == 0, "%s:\n%s", name, out);
    return out;
}

/* the bytes of WORK/a/ckpt-4/FILE and WORK/b/ckpt-4/FILE are the same */
static bool same_file(const char *a, const char *b, const char *file) {
    char cmd[1024], out[1024];
    snprintf(cmd, sizeof cmd, "cmp %s/%s/ckpt-000000004/%s %s/%s/ckpt-000000004/%s", work, a, file, work, b, file);
    return test_run_command(cmd, out, sizeof out) == 0;
}

/* the "loss" of `step` in WORK/name/metrics.jsonl, NAN if absent */
static double loss_at(const char *name, int step) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s/metrics.jsonl", work, name);
    return test_metrics_loss(path, step);
}

/* a and b: the same losses at every step and the same bits in the final weights and AdamW state */
static void expect_identical(const char *a, const char *b) {
    for (int s = 1; s <= 4; s++)
        EXPECT(isfinite(loss_at(a, s)) && loss_at(a, s) == loss_at(b, s), "%s vs %s: step %d loss %.9g vs %.9g", a, b, s,
               loss_at(a, s), loss_at(b, s));
    EXPECT(same_file(a, b, "model.safetensors"), "%s vs %s: the final weights differ", a, b);
    EXPECT(same_file(a, b, "optimizer.safetensors"), "%s vs %s: the final AdamW state differs", a, b);
}

TEST(test_zero_stages_1_and_2_match_stage_0_bit_for_bit_on_2_and_3_ranks) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI): run scripts/install-deps.sh and rebuild");
    const char *out = run("np2-s2", MPIRUN(2), "--set train.batch_size=3 --set train.zero_stage=2");
    EXPECT(strstr(out, "zero_stage 2 on 2 ranks") && strstr(out, "AdamW state"), "no memory report:\n%s", out);
    run("np2-s0", MPIRUN(2), "--set train.batch_size=3 --set train.zero_stage=0");
    expect_identical("np2-s0", "np2-s2");
    run("np3-s0", MPIRUN(3), "--set train.batch_size=2 --set train.zero_stage=0");
    run("np3-s1", MPIRUN(3), "--set train.batch_size=2 --set train.zero_stage=1");
    run("np3-s2", MPIRUN(3), "--set train.batch_size=2 --set train.zero_stage=2");
    expect_identical("np3-s0", "np3-s1");
    expect_identical("np3-s0", "np3-s2");
}

/* gradient accumulation: the first micro-steps add up in .grad with the hook unarmed, the last one's backward
 * hands the buckets over; stage 2 still updates the bits of stage 0 */
TEST(test_zero2_with_gradient_accumulation_matches_stage_0) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    run("np2-accum-s0", MPIRUN(2), "--set train.batch_size=1 --set train.grad_accum_steps=3 --set train.zero_stage=0");
    const char *out = run("np2-accum-s2", MPIRUN(2), "--set train.batch_size=1 --set train.grad_accum_steps=3 --set train.zero_stage=2");
    EXPECT(strstr(out, "3 micro-steps") && !strstr(out, "overlap: 0 of"), "accumulation with overlap:\n%s", out);
    expect_identical("np2-accum-s0", "np2-accum-s2");
}

/* handed over during backward or after it, with or without MPI's progress thread: the same collectives in the
 * same order, so the same bits; the log says how many buckets left before backward ended */
TEST(test_zero_overlapped_reduction_equals_the_reduction_after_backward) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    const char *on = run("np3-s2", MPIRUN(3), "--set train.batch_size=2 --set train.zero_stage=2");
    const char *off = run("np3-s2-after", MPIRUN(3), "--set train.batch_size=2 --set train.zero_stage=2 --set train.dist_overlap=false");
    int early = -1, all = -1;
    const char *l = strstr(on, "overlap: ");
    EXPECT(l && sscanf(l, "overlap: %d of %d", &early, &all) == 2 && early > 0 && early < all + 1,
           "buckets must leave before backward ends:\n%s", on);
    EXPECT(strstr(off, "overlap: 0 of "), "without overlap no bucket leaves during backward:\n%s", off);
    expect_identical("np3-s2", "np3-s2-after");
    /* MPI's progress thread moves the same collectives on at other moments: the same bits again (2 ranks: the
       thread wants a core, 3 ranks on 2 cores would make it slow) */
    run("np2-s2", MPIRUN(2), "--set train.batch_size=3 --set train.zero_stage=2");
    const char *prog = run("np2-s2-progress", "VAEC_MPI_PROGRESS_THREAD=1 " MPIRUN(2),
                           "--set train.batch_size=3 --set train.zero_stage=2");
    EXPECT(strstr(prog, "MPI progress thread on"), "VAEC_MPI_PROGRESS_THREAD=1 started no thread:\n%s", prog);
    expect_identical("np2-s2", "np2-s2-progress");
}

/* a resumed run follows the uninterrupted one to float rounding: each world size cuts the global batch's sums
 * (loss means, gradient sums over samples) differently, as test_dist_two_rank_checkpoint_resumes_on_one_rank */
static void expect_continues(const char *name, const char *ref) {
    for (int s = 3; s <= 4; s++) {
        double x = loss_at(name, s), y = loss_at(ref, s);
        EXPECT(isfinite(x) && fabs(x - y) <= 1e-6 * fabs(y), "%s: step %d loss %.9g, uninterrupted %.9g", name, s, x, y);
    }
    char a[300], b[300];
    snprintf(a, sizeof a, "%s/%s/ckpt-000000004/model.safetensors", work, name);
    snprintf(b, sizeof b, "%s/%s/ckpt-000000004/model.safetensors", work, ref);
    st_file *fa = st_open(a), *fb = st_open(b);
    EXPECT(fa && fb, "%s: final checkpoints %s, %s", name, a, b);
    double diff = 0, scale = 0;
    for (int i = 0; fa && fb && i < fb->n_entries; i++) {
        tensor *x = st_load(fa, fb->entries[i].name), *y = st_load(fb, fb->entries[i].name);
        EXPECT(x && y && x->numel == y->numel, "%s: %s missing", name, fb->entries[i].name);
        for (int64_t k = 0; x && y && k < x->numel; k++) {
            diff = fmax(diff, fabs((double)tensor_f32(x)[k] - (double)tensor_f32(y)[k]));
            scale = fmax(scale, fabs((double)tensor_f32(y)[k]));
        }
        tensor_release(x);
        tensor_release(y);
    }
    EXPECT(diff <= 1e-6 * scale, "%s: weights differ by %.3g (largest weight %.3g)", name, diff, scale);
    test_note_error("zero: resumed on another world size", scale > 0 ? diff / scale : 0);
    if (fa) st_close(fa);
    if (fb) st_close(fb);
}

TEST(test_zero2_checkpoint_of_2_ranks_resumes_on_3_ranks_and_on_1_rank) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    run("np2-s2", MPIRUN(2), "--set train.batch_size=3 --set train.zero_stage=2");
    char extra[512];
    snprintf(extra, sizeof extra, "--set train.batch_size=2 --set train.zero_stage=1 --resume %s/np2-s2/ckpt-000000002", work);
    const char *out = run("resume-np3-s1", MPIRUN(3), extra);
    EXPECT(strstr(out, "resumed from") && strstr(out, "zero_stage 1 on 3 ranks"), "resume on 3 ranks:\n%s", out);
    expect_continues("resume-np3-s1", "np2-s2");
    snprintf(extra, sizeof extra, "--set train.batch_size=6 --resume %s/np2-s2/ckpt-000000002", work);
    out = run("resume-np1", "", extra);
    EXPECT(strstr(out, "resumed from"), "resume on 1 rank:\n%s", out);
    expect_continues("resume-np1", "np2-s2");
    /* a one-rank checkpoint holds the same optimizer file: it resumes on 2 ranks at stage 2 as well */
    snprintf(extra, sizeof extra, "--set train.batch_size=3 --set train.zero_stage=2 --resume %s/resume-np1/ckpt-000000004 --steps 5",
             work);
    out = run("resume-np2-from-np1", MPIRUN(2), extra);
    EXPECT(strstr(out, "resumed from") && strstr(out, "step 5/5"), "1-rank checkpoint on 2 ranks:\n%s", out);
}

/* a checkpoint whose optimizer state does not fit the run (one tensor cut short, checksums intact): every
 * rank stops at resume with the file and the tensor named, and the job exits non-zero */
TEST(test_zero_resume_with_mismatched_optimizer_state_names_the_tensor) {
    if (!test_have_mpirun()) TEST_SKIP("no MPI (mpirun or a build with MPI)");
    run("np2-s2", MPIRUN(2), "--set train.batch_size=3 --set train.zero_stage=2");
    char src[300], dir[300], cmd[4096], out[16384];
    snprintf(src, sizeof src, "%s/np2-s2/ckpt-000000002", work);
    snprintf(dir, sizeof dir, "%s/bad-ckpt", work);
    snprintf(cmd, sizeof cmd, "rm -rf %s && cp -r %s %s", dir, src, dir);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "copy: %s", out);
    char path[400];
    snprintf(path, sizeof path, "%s/optimizer.safetensors", src);
    st_file *f = st_open(path);
    EXPECT(f != NULL, "%s", path);
    if (!f) return;
    st_writer *w = st_writer_new();
    const char *victim = NULL;
    for (int i = 0; i < f->n_entries; i++) {
        tensor *t = st_load(f, f->entries[i].name);
        if (!victim && t->numel > 4 && !strncmp(f->entries[i].name, "exp_avg_sq.", 11)) {   /* cut it short */
            victim = f->entries[i].name;
            tensor *cut = tensor_empty(SHAPE(t->numel - 1));
            memcpy(tensor_f32(cut), tensor_f32(t), (size_t)(t->numel - 1) * sizeof(float));
            tensor_release(t);
            t = cut;
        }
        st_writer_add(w, f->entries[i].name, t, DTYPE_F32);
        tensor_release(t);
    }
    st_writer_meta(w, "adamw_step", st_meta(f, "adamw_step"));
    snprintf(path, sizeof path, "%s/optimizer.safetensors", dir);
    EXPECT(victim && st_writer_save(w, path) == 0, "rewriting %s", path);
    char want[400];
    snprintf(want, sizeof want, "optimizer state '%s' is missing or has the wrong size", victim ? victim : "?");
    st_writer_free(w);
    st_close(f);
    snprintf(cmd, sizeof cmd, MPIRUN(2) "%s/vaec" TRAIN "--set train.batch_size=3 --set train.zero_stage=2 --out %s/bad-run "
             "--resume %s", VAEC_BIN_DIR, test_source_dir(), work, work, dir);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc != 0 && rc != 124 && strstr(out, want) && strstr(out, "bad-ckpt/optimizer.safetensors"),
           "resume from a mismatched optimizer state: status %d\n%s", rc, out);
}

TEST(test_zero_stage_out_of_range_names_the_key) {
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "OMP_NUM_THREADS=1 %s/vaec train %s/tests/data/train_tiny.ini --set train.zero_stage=3 --out /tmp/vaec_zero_bad_%d",
             VAEC_BIN_DIR, test_source_dir(), (int)getpid());
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc != 0 && strstr(out, "[train] zero_stage = 3 (0, 1 or 2)") && strstr(out, "train_tiny.ini"),
           "zero_stage = 3: status %d\n%s", rc, out);
}

TEST(test_zero_plan_parts_cover_every_value_once_balanced_by_bytes) {
    const int64_t numel[] = {5, 7, 100, 3, 1, 64, 2};
    enum { N = 7 };
    for (int world = 1; world <= 4; world++) {
        zero_plan p;
        zero_plan_build(&p, numel, N, world, 40 * sizeof(float));
        int64_t seen[N] = {0}, split = 0;
        zero_piece pc[N];
        for (int b = 0; b < p.n_buckets; b++) {
            const zero_bucket *bk = &p.buckets[b];
            EXPECT(bk->part * world >= bk->values && (bk->part - 1) * world < bk->values,
                   "world %d bucket %d: part %lld for %lld values", world, b, (long long)bk->part, (long long)bk->values);
            EXPECT(b == 0 || p.buckets[b - 1].first > bk->first, "buckets go from the last parameter to the first");
            for (int r = 0; r < world; r++) {
                int k = zero_plan_pieces(&p, b, bk->part * r, bk->part * (r + 1), pc, N);
                for (int i = 0; i < k; i++) {
                    seen[pc[i].param] += pc[i].len;
                    split += pc[i].len < numel[pc[i].param];
                }
            }
        }
        for (int i = 0; i < N; i++) EXPECT(seen[i] == numel[i], "world %d: parameter %d covered %lld times its size", world, i,
                                           (long long)seen[i]);
        EXPECT(world == 1 || split > 0, "world %d: no parameter split between ranks", world);
        zero_memory m = zero_memory_of(&p, 2, 4, 2), m0 = zero_memory_of(&p, 0, 4, 2);
        EXPECT(m.optimizer == (size_t)p.part_total * 8 && m0.optimizer == (size_t)p.total * 8 && m.masters == 0,
               "world %d: AdamW state %zu bytes at stage 2, %zu at stage 0", world, m.optimizer, m0.optimizer);
        EXPECT(m.optimizer * (size_t)world <= m0.optimizer + (size_t)(8 * world * p.n_buckets), "world %d: state not divided", world);
        zero_plan_free(&p);
    }
}

/* the hook's report: the order, how many nodes were still to run, and the gradient as it stood then */
static struct { int order[8], left[8], n; float grad[8]; tensor **w; } seen;
static void on_ready(void *ctx, int i) {
    (void)ctx;
    seen.order[seen.n] = i;
    seen.left[seen.n] = ag_backward_nodes_left();
    seen.grad[seen.n++] = seen.w[i]->grad ? tensor_f32(seen.w[i]->grad)[0] : NAN;
}

TEST(test_autograd_grad_ready_hook_reports_each_gradient_final_before_backward_ends) {
    enum { L = 4 };
    tensor *w[L + 1], *x = tensor_full(SHAPE(3), 1.5f);
    for (int i = 0; i <= L; i++) {
        w[i] = tensor_full(SHAPE(3), 0.5f + 0.25f * (float)i);
        w[i]->requires_grad = true;
    }
    seen.n = 0, seen.w = w;
    ag_set_grad_ready_hook(w, L + 1, on_ready, NULL);   /* w[L] takes part in nothing: reported at the end */
    tensor_scope_begin();
    tensor *h = x;
    for (int i = 0; i < L; i++) h = op_mul(op_mul(h, w[i]), w[0]);   /* w[0] used by every layer: final last */
    ag_backward(op_sum_all(h));
    tensor_scope_end(NULL);
    ag_set_grad_ready_hook(NULL, 0, NULL, NULL);
    EXPECT(seen.n == L + 1, "%d reports for %d watched tensors", seen.n, L + 1);
    EXPECT(seen.order[0] == L - 1 && seen.left[0] > 0, "the last layer's weight first, with nodes left: %d (%d left)",
           seen.order[0], seen.left[0]);
    for (int k = 0; k < L - 1; k++) EXPECT(seen.left[k] > 0, "report %d came when backward had ended", k);
    EXPECT(seen.order[L] == L && seen.left[L] == 0, "an unused tensor is reported at the end");
    for (int k = 0; k < seen.n; k++) {
        int i = seen.order[k];
        float final = w[i]->grad ? tensor_f32(w[i]->grad)[0] : NAN;
        EXPECT((isnan(final) && isnan(seen.grad[k])) || final == seen.grad[k],
               "w[%d] was reported at %g, its gradient ended at %g", i, seen.grad[k], final);
    }
    ag_zero_grad(w, L + 1);
    for (int i = 0; i <= L; i++) tensor_release(w[i]);
    tensor_release(x);
}

TEST(test_zero_nccl_reduce_scatter_and_all_gather) {
#ifndef VAEC_HAVE_NCCL
    TEST_SKIP("built without NCCL (CUDA off, or no nccl.h and libnccl)");
#else
    if (!device_cuda_available()) TEST_SKIP("no GPU visible: ZeRO's NCCL collectives compiled and linked, not run");
    unsigned char id[128];
    char err[512];
    EXPECT(nccl_comm_unique_id(id, err, sizeof err) == 0, "%s", err);
    nccl_comm *c = nccl_comm_new(0, 1, 0, id, 60, err, sizeof err);
    EXPECT(c != NULL, "%s", err);
    if (!c) return;
    enum { PART = 5000 };
    float host[PART], back[2 * PART];
    for (int i = 0; i < PART; i++) host[i] = (float)(i % 17) - 8.0f;
    float *dev = device_malloc(DEVICE_CUDA, 2 * sizeof host);
    device_memcpy(dev, DEVICE_CUDA, host, DEVICE_CPU, sizeof host);
    /* one rank: the reduce-scatter scales its own part, the all-gather leaves it, the copy moves it on NCCL's stream */
    EXPECT(nccl_comm_reduce_scatter(c, dev, PART, 0.25f, err, sizeof err) == 0, "%s", err);
    EXPECT(nccl_comm_all_gather(c, dev, PART, err, sizeof err) == 0, "%s", err);
    EXPECT(nccl_comm_copy(c, dev + PART, dev, PART, err, sizeof err) == 0, "%s", err);
    EXPECT(nccl_comm_wait(c, 60, err, sizeof err) == 0, "%s", err);
    device_memcpy(back, DEVICE_CPU, dev, DEVICE_CUDA, sizeof back);
    int bad = 0;
    for (int i = 0; i < 2 * PART; i++) bad += back[i] != host[i % PART] * 0.25f;
    EXPECT(bad == 0, "%d values of the 1-rank reduce-scatter / all-gather / copy are wrong", bad);
    nccl_comm_free(c);
    device_free(DEVICE_CUDA, dev, 2 * sizeof host);
#endif
}

/* one process (world 1, no MPI): ZeRO's update of uneven tensors cut into small buckets, pieces and parts is
 * AdamW's bit for bit in every stage, with one tensor left without a gradient at one step; its norm is
 * grad_global_norm's to rounding; the gathered state is AdamW's; and it leaks nothing (the mpirun tests run
 * without LeakSanitizer) */
TEST(test_zero_update_equals_adamw_in_one_process) {
    enum { N = 5, STEPS = 3 };
    const int64_t sizes[N] = {7, 300, 1, 64, 33};
    const adamw_config cfg = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, false};
    for (int stage = 0; stage <= 2; stage++) {
        tensor *a[N], *b[N];
        rng_state r = rng_seed(5);
        for (int i = 0; i < N; i++) {
            a[i] = tensor_empty(SHAPE(sizes[i]));
            rng_fill_normal(&r, tensor_f32(a[i]), sizes[i], 0.0f, 1.0f);
            b[i] = tensor_clone(a[i]);
            a[i]->requires_grad = b[i]->requires_grad = true;
        }
        adamw *ref = adamw_new(a, N, cfg);
        zero *z = zero_new(b, N, cfg, stage, 40 * sizeof(float), DEVICE_CPU, true, 2);
        EXPECT(z->plan.n_buckets > 2, "stage %d: %d buckets (the test wants several)", stage, z->plan.n_buckets);
        for (int s = 0; s < STEPS; s++) {
            for (int i = 0; i < N; i++) {   /* the same gradients on both; tensor 3 gets none at step 1 */
                if (s == 1 && i == 3) continue;
                a[i]->grad = tensor_empty(SHAPE(sizes[i]));
                rng_fill_normal(&r, tensor_f32(a[i]->grad), sizes[i], 0.0f, 1.0f);
                b[i]->grad = tensor_clone(a[i]->grad);
            }
            zero_before_backward(z, 0.5f);
            zero_reduce(z, 0.5f);   /* no backward ran: every bucket is handed over here */
            step_result res = {.loss = 1.0};
            zero_apply(z, &(step_config){.grad_clip = 0}, &res);
            for (int i = 0; i < N; i++)   /* the reference: one rank's trainer, micro-step average 0.5 */
                if (a[i]->grad) for (int64_t k = 0; k < sizes[i]; k++) tensor_f32(a[i]->grad)[k] *= 0.5f;
            double norm = grad_global_norm(a, N);
            EXPECT(fabs(norm - res.grad_norm) <= 1e-12 * norm, "stage %d step %d: norm %.17g, clip's %.17g", stage, s,
                   res.grad_norm, norm);
            adamw_step(ref);
            ag_zero_grad(a, N);
        }
        for (int i = 0; i < N; i++)
            EXPECT(!memcmp(tensor_f32(a[i]), tensor_f32(b[i]), (size_t)sizes[i] * sizeof(float)) && !b[i]->grad,
                   "stage %d: tensor %d differs from AdamW's (or kept a gradient)", stage, i);
        adamw *full = zero_gather_optimizer(z);
        EXPECT(full && full->step == ref->step, "stage %d: no gathered state, or another step", stage);
        for (int i = 0; full && i < N; i++)
            EXPECT(!memcmp(tensor_f32(full->m[i]), tensor_f32(ref->m[i]), (size_t)sizes[i] * 4) &&
                   !memcmp(tensor_f32(full->v[i]), tensor_f32(ref->v[i]), (size_t)sizes[i] * 4),
                   "stage %d: the gathered state of tensor %d is not AdamW's", stage, i);
        adamw_free(full);
        zero_free(z);
        adamw_free(ref);
        for (int i = 0; i < N; i++) { tensor_release(a[i]); tensor_release(b[i]); }
    }
}

/* the GPU twin of the one-process test: ZeRO's NCCL path (a one-rank communicator: reduce-scatter with the
 * scale, all-gather, the copy into the stage-2 shard), the norm by sum_all_cuda, AdamW's kernel, clipping on,
 * against the same run on the CPU, every stage */
static void zero_run(tensor **w, int n, const int64_t *sizes, int stage, device_t dev, double *norms) {
    const adamw_config cfg = {1e-2f, 0.9f, 0.999f, 1e-8f, 0.05f, false};
    zero *z = zero_new(w, n, cfg, stage, 40 * sizeof(float), dev, true, 2);
    rng_state r = rng_seed(9);
    for (int s = 0; s < 3; s++) {
        for (int i = 0; i < n; i++) {
            tensor *g = tensor_empty(SHAPE(sizes[i]));
            rng_fill_normal(&r, tensor_f32(g), sizes[i], 0.0f, 1.0f);
            w[i]->grad = dev == DEVICE_CPU ? g : tensor_to(g, dev);
            if (w[i]->grad != g) tensor_release(g);
        }
        zero_before_backward(z, 0.5f);
        zero_reduce(z, 0.5f);
        step_result res = {.loss = 1.0};
        zero_apply(z, &(step_config){.grad_clip = 1.0f}, &res);   /* the norm is ~10: clipping on */
        norms[s] = res.grad_norm;
    }
    zero_free(z);
}

TEST(test_zero_cuda_update_matches_cpu) {
    /* VAEC_CUDA_TWIN_ON_CPU=1: both runs on the CPU, to check the test itself where there is no GPU */
    const bool on_cpu = getenv("VAEC_CUDA_TWIN_ON_CPU") != NULL;
#ifndef VAEC_HAVE_NCCL
    if (!on_cpu) TEST_SKIP("built without NCCL (CUDA off, or no nccl.h and libnccl)");
#endif
    if (!on_cpu && !device_cuda_available()) TEST_SKIP("no GPU visible: ZeRO's GPU path compiled and linked, not run");
    const device_t dev = on_cpu ? DEVICE_CPU : DEVICE_CUDA;
    enum { N = 5 };
    const int64_t sizes[N] = {7, 300, 1, 64, 33};
    for (int stage = 0; stage <= 2; stage++) {
        tensor *cpu[N], *gpu[N];
        rng_state r = rng_seed(5);
        for (int i = 0; i < N; i++) {
            cpu[i] = tensor_empty(SHAPE(sizes[i]));
            rng_fill_normal(&r, tensor_f32(cpu[i]), sizes[i], 0.0f, 1.0f);
            gpu[i] = tensor_to(cpu[i], dev);
            cpu[i]->requires_grad = gpu[i]->requires_grad = true;
        }
        double nc[3], ng[3];
        zero_run(cpu, N, sizes, stage, DEVICE_CPU, nc);
        zero_run(gpu, N, sizes, stage, dev, ng);
        for (int s = 0; s < 3; s++)
            EXPECT(fabs(nc[s] - ng[s]) <= 1e-12 * nc[s] && nc[s] > 1.0, "stage %d step %d: norm %.17g on the GPU, %.17g on the CPU",
                   stage, s, ng[s], nc[s]);
        double diff = 0, scale = 0;
        for (int i = 0; i < N; i++) {
            tensor *back = tensor_to(gpu[i], DEVICE_CPU);
            for (int64_t k = 0; k < sizes[i]; k++) {
                diff = fmax(diff, fabs((double)tensor_f32(back)[k] - (double)tensor_f32(cpu[i])[k]));
                scale = fmax(scale, fabs((double)tensor_f32(cpu[i])[k]));
            }
            tensor_release(back);
            tensor_release(cpu[i]);
            tensor_release(gpu[i]);
        }
        EXPECT(diff <= 1e-6 * scale, "stage %d: GPU weights differ from the CPU's by %.3g (largest %.3g)", stage, diff, scale);
        test_note_error("zero: cuda vs cpu", scale > 0 ? diff / scale : 0);
    }
}
