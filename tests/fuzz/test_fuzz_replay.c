/* test_fuzz_replay.c: every committed fuzz input (seed corpus and regressions, tests/fuzz/) replayed through
 * its parser in the normal suite, no libFuzzer needed: each input either loads or is refused with a message
 * naming the file; a crash, an abort or an exit() fails the test and names the input. Seeds, which vaec's own
 * writers made, must load. Under `make test-asan` the same replay runs with the sanitizers. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/check.h"                // defines: vaec_last_error
#include "tests/fuzz/fuzz_targets.h"   // defines: fuzz_targets, fuzz_read_file
#include "tests/harness/test.h"        // defines: TEST, EXPECT

/* Under AddressSanitizer (make test-asan) a malloc too large to serve returns NULL, as glibc's does, instead of
 * stopping the process: HDF5 asks for sizes read from corrupt headers and handles the NULL
 * (tests/fuzz/regressions/h5video/hdf5-malloc-size-from-corrupt-header). Unused in other builds. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* runs the target on one file in a child; the exit status says LOADED/REJECTED, a signal or 1 a crash/exit */
static int replay_one(const fuzz_target *t, const char *path, char *why, size_t why_n) {
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        size_t n;
        uint8_t *data = fuzz_read_file(path, &n);
        if (!data) _exit(3);
        int r = t->run(data, n);
        free(data);
        fuzz_cleanup();
        _exit(r == FUZZ_LOADED ? 10 : r == FUZZ_REJECTED ? 11 : 4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status)) { snprintf(why, why_n, "killed by signal %d", WTERMSIG(status)); return -1; }
    int code = WEXITSTATUS(status);
    if (code == 10) return FUZZ_LOADED;
    if (code == 11) return FUZZ_REJECTED;
    snprintf(why, why_n, "exited with status %d (a parser exit()ed or a sanitizer reported)", code);
    return -1;
}

/* every file in tests/fuzz/<kind>/<target>/; returns how many were replayed */
static int replay_dir(const fuzz_target *t, const char *kind, bool must_load) {
    char rel[256];
    snprintf(rel, sizeof rel, "tests/fuzz/%s/%s", kind, t->name);
    char *dir = test_path(rel);
    DIR *d = opendir(dir);
    int count = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[2048], why[256] = "";
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        int r = replay_one(t, path, why, sizeof why);
        EXPECT(r >= 0, "fuzz %s: %s/%s: %s", t->name, rel, e->d_name, why);
        EXPECT(!must_load || r == FUZZ_LOADED, "fuzz %s: the seed %s/%s, written by vaec, does not load", t->name, rel,
               e->d_name);
        count++;
    }
    if (d) closedir(d);
    free(dir);
    return count;
}

static void replay_target(const char *name) {
    const fuzz_target *t = fuzz_targets;
    while (t->name && strcmp(t->name, name)) t++;
    EXPECT(t->name != NULL, "no fuzz target '%s'", name);
    if (!t->name) return;
    int seeds = replay_dir(t, "corpus", true);
    replay_dir(t, "regressions", false);
    EXPECT(seeds >= 2, "fuzz %s: tests/fuzz/corpus/%s holds %d seeds, expected at least 2", name, name, seeds);
}

TEST(test_fuzz_replay_safetensors) { replay_target("safetensors"); }
TEST(test_fuzz_replay_config) { replay_target("config"); }
TEST(test_fuzz_replay_h5video) { replay_target("h5video"); }
TEST(test_fuzz_replay_image) { replay_target("image"); }
TEST(test_fuzz_replay_checkpoint) { replay_target("checkpoint"); }
