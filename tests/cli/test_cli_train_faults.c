/* test_cli_train_faults.c: `vaec train` survives the faults of long runs on shared machines, each checked against
 * the same uninterrupted reference run (tests/data/train_tiny.ini, 12 steps):
 *   - SIGKILL at random moments, checkpoint writes included, then `--resume auto`, over and over: no restart fails,
 *     no checkpoint is ever found corrupt, the final weights and optimizer state are bit-identical;
 *   - a full disk while a checkpoint is written (RLIMIT_FSIZE): the run stops naming the file and its size, the
 *     previous checkpoint stays intact, and resuming from it ends bit-identical;
 *   - a corrupted byte in the newest checkpoint: `--resume auto` says so, falls back to the one before, and ends
 *     bit-identical;
 *   - out of memory ([train] max_memory): the run stops with a message naming the allocation, its tag and the
 *     use per tag, the last checkpoint kept; resuming ends bit-identical. */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "tests/fuzz/fuzz_targets.h"      // defines: fuzz_read_file, fuzz_write_file
#include "tests/harness/st_compare.h"     // defines: test_tensors_differing
#include "tests/harness/test.h"           // defines: TEST, EXPECT, test_run_command

#define STEPS 12
static char root[128];   /* the data and the reference run, made once per process */

static void remove_root(void) {
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", root);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", root);
}

/* the train command for out_dir, with extra options */
static void train_cmd(char *cmd, size_t n, const char *out_dir, const char *extra) {
    snprintf(cmd, n, "%s/vaec train %s/tests/data/train_tiny.ini --set data.path=%s/d.h5 --set train.steps=%d --out %s/%s %s",
             VAEC_BIN_DIR, test_source_dir(), root, STEPS, root, out_dir, extra);
}

/* the dataset and the uninterrupted reference run (root/full); false if they could not be made */
static bool reference(void) {
    static int made = 0;
    if (made) return made > 0;
    snprintf(root, sizeof root, "/tmp/vaec_faults_%d", (int)getpid());
    if (!getenv("VAEC_KEEP_TEST_FILES")) atexit(remove_root);   /* kept for a look when set */
    char cmd[2048], out[16384];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && %s/vaec data make --synthetic 8 --out %s/d.h5 --size 16 --num-frames 6", root,
             VAEC_BIN_DIR, root);
    made = test_run_command(cmd, out, sizeof out) == 0 ? 1 : -1;
    EXPECT(made > 0, "data make:\n%s", out);
    train_cmd(cmd, sizeof cmd, "full", "--set train.ckpt_every=2");
    if (made > 0) made = test_run_command(cmd, out, sizeof out) == 0 ? 1 : -1;
    EXPECT(made > 0, "the reference run:\n%s", out);
    return made > 0;
}

/* the final checkpoint of root/<run> against the reference's, weights and optimizer state, bit for bit */
static void expect_same_as_reference(const char *run) {
    const char *files[2] = {"model", "optimizer"};
    for (int k = 0; k < 2; k++) {
        char a[512], b[512], first[512];
        snprintf(a, sizeof a, "%s/full/ckpt-%09d/%s.safetensors", root, STEPS, files[k]);
        snprintf(b, sizeof b, "%s/%s/ckpt-%09d/%s.safetensors", root, run, STEPS, files[k]);
        int n = test_tensors_differing(a, b, first, sizeof first);
        EXPECT(n == 0, "%s: %s differs from the uninterrupted run in %d tensors (first: %s)", run, files[k], n, first);
    }
}

static double now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* whether a checkpoint write was in progress: its ckpt-<step>.tmp folder exists until it is renamed */
static bool write_in_progress(const char *dir) {
    DIR *d = opendir(dir);
    bool found = false;
    struct dirent *e;
    while (d && (e = readdir(d))) found |= !strncmp(e->d_name, "ckpt-", 5) && strstr(e->d_name, ".tmp") != NULL;
    if (d) closedir(d);
    return found;
}

/* starts `vaec train ... --resume auto` into root/killed (exec'ed directly: the pid killed is vaec's), its
 * output appended to log */
static pid_t start_resume(const char *log) {
    char bin[512], ini[512], data[256], steps[64], out[256];
    snprintf(bin, sizeof bin, "%s/vaec", VAEC_BIN_DIR);
    snprintf(ini, sizeof ini, "%s/tests/data/train_tiny.ini", test_source_dir());
    snprintf(data, sizeof data, "data.path=%s/d.h5", root);
    snprintf(steps, sizeof steps, "train.steps=%d", STEPS);
    snprintf(out, sizeof out, "%s/killed", root);
    char *argv[] = {bin, "train", ini, "--set", data, "--set", steps, "--set", "train.ckpt_every=1", "--out", out,
                    "--resume", "auto", NULL};
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        dup2(fd, 1), dup2(fd, 2);
        execv(bin, argv);
        _exit(127);
    }
    return pid;
}

TEST(test_cli_train_survives_sigkill_at_random_moments) {
    if (!reference()) return;
    char log[256], dir[200], cmd[512], out[65536];
    snprintf(log, sizeof log, "%s/killed.log", root);
    snprintf(dir, sizeof dir, "%s/killed", root);
    /* 24 kills, then the run is left to finish. Two of three come at a random moment (10 to 250 ms after the
     * start: start-up, resume, steps, checkpoints; a step takes 0.1-0.3 s); every third as soon as a checkpoint
     * write is seen under way
     * (its ckpt-<step>.tmp folder), after a random 0-2 ms more. The moments come from a fixed seed. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    int kills = 0, in_write = 0, restarts_failed = 0, finished = 0, attempts = 0;
    for (; attempts < 40 && !finished; attempts++) {
        pid_t pid = start_resume(log);
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        int status = 0;
        bool exited = false;
        if (attempts < 24) {
            bool at_write = attempts % 3 == 2;
            long wait_us = at_write ? 20000000 : 10000 + (long)(x % 240000);
            double deadline = now_us() + (double)wait_us;   /* wall time: a sleep of 0.5 ms may take several */
            while (now_us() < deadline && !exited) {
                if (at_write && write_in_progress(dir)) {
                    usleep((useconds_t)(x % 2000));
                    break;
                }
                usleep(200);
                exited = waitpid(pid, &status, WNOHANG) == pid;
            }
            if (!exited) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                in_write += write_in_progress(dir);
            }
        } else waitpid(pid, &status, 0);
        if (WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) kills++;
        else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) finished = 1;
        else restarts_failed++;
    }
    snprintf(cmd, sizeof cmd, "cat %s", log);
    test_run_command(cmd, out, sizeof out);
    EXPECT(restarts_failed == 0, "%d restarts failed; the log:\n%s", restarts_failed, out);
    EXPECT(finished, "the run never finished in %d starts; the log:\n%s", attempts, out);
    EXPECT(kills >= 3, "only %d kills landed before the run finished: the test did not test much", kills);
    EXPECT(!strstr(out, "does not load"), "a kill left a checkpoint that does not load:\n%s", out);
    expect_same_as_reference("killed");
    printf("  SIGKILLs survived: %d of %d (%d inside a checkpoint write), %d starts, final weights and optimizer "
           "bit-identical\n", kills, kills, in_write, attempts);
}

TEST(test_cli_train_disk_full_during_a_checkpoint_stops_and_resumes) {
    char cmd[2600], base[2048], out[16384];
    if (test_run_command("command -v prlimit", out, sizeof out) != 0) TEST_SKIP("no prlimit (util-linux) to limit file sizes");
    if (!reference()) return;
    /* 2 steps written normally: ckpt-2 */
    train_cmd(base, sizeof base, "diskfull", "--set train.ckpt_every=2");
    snprintf(cmd, sizeof cmd, "%s --steps 2", base);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "the first 2 steps:\n%s", out);
    /* resumed with files limited to 700 KB: the model file (641 KB) fits, the optimizer's (782 KB) does not; with
     * SIGXFSZ ignored (as a full disk's ENOSPC would be) the write fails with EFBIG */
    train_cmd(base, sizeof base, "diskfull", "--set train.ckpt_every=2 --resume auto");
    snprintf(cmd, sizeof cmd, "trap '' XFSZ; exec prlimit --fsize=700000 %s", base);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 1, "a checkpoint that cannot be written must stop the run (exit 1), got %d:\n%s", rc, out);
    EXPECT(strstr(out, "ckpt-000000004.tmp/optimizer.safetensors") && strstr(out, "bytes) failed") &&
           strstr(out, "earlier checkpoints are intact"), "the message names the file and its size:\n%s", out);
    EXPECT(!strstr(out, "step 5/"), "the run went on after the failed checkpoint:\n%s", out);
    char p[512];
    snprintf(p, sizeof p, "%s/diskfull/ckpt-000000004", root);
    EXPECT(access(p, F_OK) != 0, "a half-written ckpt-000000004 was left");
    snprintf(p, sizeof p, "%s/diskfull", root);
    EXPECT(!write_in_progress(p), "a ckpt-*.tmp folder was left");
    for (int k = 0; k < 3; k++) {   /* the previous checkpoint intact: every file verifies */
        const char *f[3] = {"model", "optimizer", "state"};
        snprintf(cmd, sizeof cmd, "%s/vaec ckpt info %s/diskfull/ckpt-000000002/%s.safetensors | tail -2", VAEC_BIN_DIR,
                 root, f[k]);
        EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "all verify"), "ckpt-2 %s:\n%s", f[k], out);
    }
    /* space again: resume continues from ckpt-2 to the end, bit-identical */
    EXPECT(test_run_command(base, out, sizeof out) == 0 && strstr(out, "resumed from") && strstr(out, "ckpt-000000002"),
           "resume after the full disk:\n%s", out);
    expect_same_as_reference("diskfull");
}

TEST(test_cli_train_resume_auto_skips_a_corrupted_checkpoint) {
    if (!reference()) return;
    char cmd[2600], out[16384], path[512];
    snprintf(cmd, sizeof cmd, "cp -r %s/full %s/corrupt", root, root);
    EXPECT(system(cmd) == 0, "copy the reference run");
    /* one byte of the newest checkpoint's weights flipped (the last: inside the last tensor's data) */
    snprintf(path, sizeof path, "%s/corrupt/ckpt-%09d/model.safetensors", root, STEPS);
    size_t n;
    uint8_t *b = fuzz_read_file(path, &n);
    EXPECT(b != NULL, "read %s", path);
    if (!b) return;
    b[n - 1] ^= 0x04;
    fuzz_write_file(path, b, n);
    free(b);
    train_cmd(cmd, sizeof cmd, "corrupt", "--set train.ckpt_every=2 --resume auto");
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "resume auto:\n%s", out);
    EXPECT(strstr(out, path) && strstr(out, "fails its checksum") && strstr(out, "falling back"),
           "the corrupted file and tensor are named, and the fallback said:\n%s", out);
    char want[64];
    snprintf(want, sizeof want, "ckpt-%09d at step %d", STEPS - 2, STEPS - 2);
    EXPECT(strstr(out, "resumed from") && strstr(out, want), "resumed from the one before (%s):\n%s", want, out);
    expect_same_as_reference("corrupt");
}

TEST(test_cli_train_out_of_memory_stops_cleanly_and_resumes) {
    if (!reference()) return;
    char cmd[2600], base[2048], out[16384];
    train_cmd(base, sizeof base, "oom", "--set train.ckpt_every=2");
    snprintf(cmd, sizeof cmd, "%s --steps 2", base);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "the first 2 steps:\n%s", out);
    /* resumed under a 2 MiB allocator limit: the tiny model's weights and Adam state fit (1.4 MiB), a step's
     * activations and workspaces do not (a step peaks at 2.0-2.5 MiB through oneDNN, more through vaec's
     * im2col kernels) */
    train_cmd(base, sizeof base, "oom", "--set train.ckpt_every=2 --resume auto");
    snprintf(cmd, sizeof cmd, "%s --set train.max_memory=2M", base);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 1, "out of memory must stop the run with exit 1, got %d:\n%s", rc, out);
    EXPECT(strstr(out, "out of memory: ") && strstr(out, "limit of 2.0 MiB ([train] max_memory); in use ") &&
           strstr(out, "(activations ") && strstr(out, "raise [train] max_memory"),
           "the message names the allocation, the tag, the limit and the use per tag:\n%s", out);
    EXPECT(!strstr(out, "Segmentation") && !strstr(out, "Aborted"), "not a clean exit:\n%s", out);
    char p[512];
    snprintf(p, sizeof p, "%s/oom/ckpt-000000004", root);
    EXPECT(access(p, F_OK) != 0, "a checkpoint after the failure was written");
    for (int k = 0; k < 3; k++) {   /* the last checkpoint kept, intact */
        const char *f[3] = {"model", "optimizer", "state"};
        snprintf(cmd, sizeof cmd, "%s/vaec ckpt info %s/oom/ckpt-000000002/%s.safetensors | tail -2", VAEC_BIN_DIR, root,
                 f[k]);
        EXPECT(test_run_command(cmd, out, sizeof out) == 0 && strstr(out, "all verify"), "ckpt-2 %s:\n%s", f[k], out);
    }
    EXPECT(test_run_command(base, out, sizeof out) == 0 && strstr(out, "ckpt-000000002 at step 2"),
           "resume without the limit:\n%s", out);
    expect_same_as_reference("oom");
}
