/* test_runner.c: the test runner as bench/gpu.sh uses it (tests/harness/test.c): `--exact NAME` runs that one
 * test even when its name is part of others, an unknown name is an error rather than "0 passed",
 * `--list SUBSTRING` lists only the matching names; and test_expect_fatal's child ends without running the
 * parent's atexit handlers (CUDA's teardown, a test's cleanup). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tests/harness/test.h"

static int count(const char *s, const char *needle) {
    int n = 0;
    for (const char *p = strstr(s, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

TEST(test_runner_exact_runs_one_test_whose_name_others_contain) {
    char cmd[512], out[16384];
    /* test_relu_grad is also the start of test_relu_grad_is_zero_at_zero_and_masks_nan */
    snprintf(cmd, sizeof cmd, "%s/vaec_tests --exact test_relu_grad", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "vaec_tests --exact failed:\n%s", out);
    EXPECT(count(out, "[ RUN  ]") == 1 && strstr(out, "[ RUN  ] test_relu_grad\n") && strstr(out, "\n1 passed, 0 failed, 0 skipped"),
           "--exact must run exactly the named test:\n%s", out);
}

TEST(test_runner_exact_unknown_name_is_an_error) {
    char cmd[512], out[4096];
    snprintf(cmd, sizeof cmd, "%s/vaec_tests --exact test_relu_grad test_no_such_thing", VAEC_BIN_DIR);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 2 && strstr(out, "no test is named 'test_no_such_thing'") && !strstr(out, "[ RUN  ]"),
           "an unknown name must exit 2 before running anything (rc %d):\n%s", rc, out);
}

TEST(test_runner_list_filters_by_substring) {
    char cmd[512], out[16384];
    snprintf(cmd, sizeof cmd, "%s/vaec_tests --list test_runner_", VAEC_BIN_DIR);
    EXPECT(test_run_command(cmd, out, sizeof out) == 0, "vaec_tests --list failed:\n%s", out);
    EXPECT(count(out, "\n") == 4 && strstr(out, "test_runner_list_filters_by_substring\n"),
           "--list test_runner_ must list the 4 tests of this file, one a line:\n%s", out);
}

static pid_t parent;
static char marker[128];
static void leave_marker(void) {   /* an atexit handler of the test process */
    if (getpid() != parent) {
        FILE *f = fopen(marker, "w");
        if (f) fclose(f);
    }
}
static void dies(void *ctx) { FATAL("a planned fatal error"); }

TEST(test_runner_fatal_child_skips_the_parents_atexit_handlers) {
    parent = getpid();
    snprintf(marker, sizeof marker, "/tmp/vaec_atexit_marker_%d", (int)parent);
    atexit(leave_marker);
    EXPECT(test_expect_fatal(dies, NULL, "a planned fatal error"), "the child must fail with the message");
    struct stat st;
    EXPECT(stat(marker, &st) != 0, "the forked child ran the parent's atexit handler (%s exists)", marker);
    unlink(marker);
}
