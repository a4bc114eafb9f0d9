/* test.h: vaec's test runner. Tests register themselves; one binary runs them all.
 *
 *   TEST(test_silu_grad) {
 *       EXPECT(cond, "what went wrong: %d", value);   // records a failure, the test goes on
 *   }
 *
 * Run `vaec_tests` for all, `vaec_tests conv` for those whose name contains "conv", `vaec_tests --exact NAME`
 * for exactly that test (an unknown name exits 2), `vaec_tests --list [SUBSTRING...]` for the names. The
 * last line is "N passed, N failed, N skipped". A test that cannot run here (no GPU, no Python) calls
 * TEST_SKIP("why"), which is printed loudly and counted. */
#ifndef VAEC_TEST_H
#define VAEC_TEST_H
#include <stdbool.h>
#include <stdio.h>
#include "core/check.h"   // defines: VAEC_PRINTF

typedef void (*test_fn)(void);
void test_register(const char *name, const char *file, test_fn fn);
void test_fail(const char *file, int line, const char *fmt, ...) VAEC_PRINTF(3, 4);
void test_skip(const char *why);
void test_note_error(const char *what, double rel_err);   /* worst-error table in the summary */
const char *test_source_dir(void);                          /* the repository root */
char *test_path(const char *rel);                           /* source dir + rel; caller frees */

#define TEST(name)                                                                      \
    static void name(void);                                                             \
    __attribute__((constructor)) static void register_##name(void) {                    \
        test_register(#name, __FILE__, name);                                           \
    }                                                                                   \
    static void name(void)

#define EXPECT(cond, ...) do { if (!(cond)) test_fail(__FILE__, __LINE__, __VA_ARGS__); } while (0)
#define TEST_SKIP(why) do { test_skip(why); return; } while (0)

/* Runs a shell command (stderr folded into stdout), keeps the first n-1 bytes of its output in out,
   returns its exit status (-1 if it could not run). */
int test_run_command(const char *cmd, char *out, size_t n);
/* Runs this test binary again as `<env> vaec_tests --exact <name>` (env: "VAR=value ..." assignments) and records a
   failure, naming `what` and the child's output, unless the child passed: for a test that needs a process of its
   own (oneDNN's ISA is fixed at its first call; a once-per-process probe). The test calls it when its env guard is
   absent and returns:   if (!getenv("ONEDNN_MAX_CPU_ISA")) { test_run_self("ONEDNN_MAX_CPU_ISA=AVX2", name, ...); return; } */
void test_run_self(const char *env, const char *name, const char *what);
/* Runs tests/golden/<script> with args under VAEC_PYTHON (default python3); returns its exit status.
   77 or 127 mean the Python lacks torch/diffusers/h5py or is absent: the caller reports itself skipped. */
int test_run_python(const char *script, const char *args, char *out, size_t n);

/* A text file's first MiB, NUL-terminated (caller frees); NULL if it cannot be opened. */
char *test_read_text(const char *path);
/* The metrics.jsonl line of `step` in text (up to its newline) copied into buf; "" when absent. */
const char *test_metrics_line(const char *text, int step, char *buf, size_t n);
/* the "loss" of `step` in the metrics.jsonl at path (its last line for the step), NAN if absent */
double test_metrics_loss(const char *path, int step);

/* Whether this build has MPI and `mpirun` is on PATH: the multi-rank tests skip, loudly, without both. */
bool test_have_mpirun(void);
/* the environment every multi-rank test runs mpirun under: root allowed (CI runs as root), one thread a rank,
   no leak report from the ranks (MPI's own allocations) */
#define TEST_MPI_ENV "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0 "

/* Whether a PATH.tmp.* file is left next to path: the trace of an atomic write that did not finish. */
bool test_tmp_left(const char *path);

/* Runs fn(ctx) in a child process and checks it exits non-zero with `needle` in its stderr. The child ends
 * through _exit (vaec_fatal_exit_at_once): it never runs the parent's atexit handlers (a test's cleanup, the
 * CUDA runtime's teardown), which are not safe in a forked copy. fn must not use the GPU: CUDA does not
 * survive fork, so a child's CUDA call fails instead of running. */
bool test_expect_fatal(void (*fn)(void *), void *ctx, const char *needle);

#endif
