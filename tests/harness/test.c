/* test.c: the test runner's main (see test.h). */
#include "tests/harness/test.h"
#include <glob.h>
#include <stdarg.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct { const char *name, *file; test_fn fn; } test_case;
static test_case *cases;
static int n_cases, cap_cases;
static int cur_failed, cur_skipped;

typedef struct { char what[96]; double err; } err_note;
static err_note worst[64];
static int n_worst;

void test_register(const char *name, const char *file, test_fn fn) {
    if (n_cases == cap_cases) {
        cap_cases = cap_cases ? 2 * cap_cases : 128;
        cases = realloc(cases, (size_t)cap_cases * sizeof *cases);
    }
    cases[n_cases++] = (test_case){name, file, fn};
}

void test_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "    FAIL %s:%d: ", file, line);
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    cur_failed++;
}

void test_skip(const char *why) {
    fprintf(stdout, "    SKIPPED: %s\n", why);
    cur_skipped = 1;
}

void test_note_error(const char *what, double rel_err) {
    /* keep the worst error per op family (the text before the first '.') */
    char key[96];
    snprintf(key, sizeof key, "%s", what);
    char *dot = strchr(key, '.');
    if (dot) *dot = 0;
    for (int i = 0; i < n_worst; i++)
        if (!strcmp(worst[i].what, key)) { if (rel_err > worst[i].err) worst[i].err = rel_err; return; }
    if (n_worst < 64) { snprintf(worst[n_worst].what, sizeof worst[n_worst].what, "%s", key); worst[n_worst++].err = rel_err; }
}

const char *test_source_dir(void) {
    const char *env = getenv("VAEC_SOURCE_DIR");
    return env ? env : VAEC_SOURCE_DIR;
}

char *test_path(const char *rel) {
    const char *root = test_source_dir();
    size_t n = strlen(root) + strlen(rel) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", root, rel);
    return p;
}

void test_run_self(const char *env, const char *name, const char *what) {
    char exe[1024], cmd[1600], out[16384];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    EXPECT(len > 0, "%s: cannot find the test binary to run again", what);
    if (len <= 0) return;
    exe[len] = 0;
    snprintf(cmd, sizeof cmd, "%s '%s' --exact %s", env, exe, name);
    int rc = test_run_command(cmd, out, sizeof out);
    EXPECT(rc == 0 && strstr(out, "1 passed, 0 failed"), "%s failed (status %d):\n%s", what, rc, out);
}

int test_run_command(const char *cmd, char *out, size_t n) {
    size_t len = strlen(cmd) + 8;
    char *full = malloc(len);
    snprintf(full, len, "%s 2>&1", cmd);
    fflush(stdout);
    FILE *p = popen(full, "r");
    free(full);
    size_t k = 0, r;
    char sink[512];
    while (p && k + 1 < n && (r = fread(out + k, 1, n - 1 - k, p)) > 0) k += r;
    while (p && fread(sink, 1, sizeof sink, p) > 0) {}   /* drain: the child must not block on a full pipe */
    if (n) out[k] = 0;
    int st = p ? pclose(p) : -1;
    return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int test_run_python(const char *script, const char *args, char *out, size_t n) {
    const char *py = getenv("VAEC_PYTHON") ? getenv("VAEC_PYTHON") : "python3";
    char rel[256];
    snprintf(rel, sizeof rel, "tests/golden/%s", script);
    char *path = test_path(rel);
    size_t len = strlen(py) + strlen(path) + strlen(args) + 8;
    char *cmd = malloc(len);
    snprintf(cmd, len, "%s %s %s", py, path, args);
    int rc = test_run_command(cmd, out, n);
    free(cmd);
    free(path);
    return rc;
}

bool test_expect_fatal(void (*fn)(void *), void *ctx, const char *needle) {
    int pipefd[2];
    if (pipe(pipefd) != 0) return false;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        close(pipefd[0]);
        dup2(pipefd[1], 2);
        vaec_fatal_exit_at_once();
        fn(ctx);
        _exit(0);
    }
    close(pipefd[1]);
    char buf[8192];
    size_t n = 0;
    ssize_t k;
    while ((k = read(pipefd[0], buf + n, sizeof buf - 1 - n)) > 0) n += (size_t)k;
    buf[n] = 0;
    close(pipefd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    bool exited_nonzero = WIFEXITED(status) && WEXITSTATUS(status) != 0;
    bool found = !needle || strstr(buf, needle) != NULL;
    if (!exited_nonzero || !found)
        fprintf(stdout, "    expected a fatal error containing '%s'; got exit status %d and stderr:\n%s\n",
                needle ? needle : "", WIFEXITED(status) ? WEXITSTATUS(status) : -1, buf);
    return exited_nonzero && found;
}

static int cmp_case(const void *a, const void *b) {
    const test_case *x = a, *y = b;
    int c = strcmp(x->file, y->file);
    return c ? c : strcmp(x->name, y->name);
}

/* whether case c is selected: `--exact` names match whole, other arguments as substrings; none: all */
static bool selected(const test_case *c, int n_args, char **args, bool exact) {
    if (n_args == 0) return true;
    for (int a = 0; a < n_args; a++)
        if (exact ? !strcmp(c->name, args[a]) : strstr(c->name, args[a]) != NULL) return true;
    return false;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    qsort(cases, (size_t)n_cases, sizeof *cases, cmp_case);
    bool list = argc > 1 && !strcmp(argv[1], "--list");
    bool exact = argc > 1 && !strcmp(argv[1], "--exact");
    int n_args = argc - 1 - (list || exact);
    char **args = argv + 1 + (list || exact);
    if (exact && n_args == 0) {
        fprintf(stderr, "vaec_tests: --exact needs test names (vaec_tests --list shows them)\n");
        return 2;
    }
    for (int a = 0; exact && a < n_args; a++) {   /* a typo must not pass as "0 tests, 0 failed" */
        bool known = false;
        for (int i = 0; i < n_cases && !known; i++) known = !strcmp(cases[i].name, args[a]);
        if (!known) {
            fprintf(stderr, "vaec_tests: no test is named '%s' (vaec_tests --list shows the names)\n", args[a]);
            return 2;
        }
    }
    int passed = 0, failed = 0, skipped = 0;
    for (int i = 0; i < n_cases; i++) {
        if (!selected(&cases[i], n_args, args, exact)) continue;
        if (list) { printf("%s\n", cases[i].name); continue; }
        cur_failed = 0;
        cur_skipped = 0;
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        printf("[ RUN  ] %s\n", cases[i].name);
        cases[i].fn();
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
        if (cur_failed) { failed++; printf("[ FAIL ] %s (%d checks failed, %.0f ms)\n", cases[i].name, cur_failed, ms); }
        else if (cur_skipped) { skipped++; printf("[ SKIP ] %s\n", cases[i].name); }
        else { passed++; printf("[  OK  ] %s (%.0f ms)\n", cases[i].name, ms); }
    }
    if (list) return 0;
    if (n_worst) {
        printf("\nworst relative error per op against PyTorch goldens:\n");
        for (int i = 0; i < n_worst; i++) printf("  %-28s %.3e\n", worst[i].what, worst[i].err);
    }
    printf("\n%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}

bool test_tmp_left(const char *path) {
    char pat[512];
    snprintf(pat, sizeof pat, "%s.tmp.*", path);
    glob_t g;
    int rc = glob(pat, 0, NULL, &g);
    globfree(&g);
    return rc != GLOB_NOMATCH;
}

bool test_have_mpirun(void) {
#ifndef VAEC_HAVE_MPI
    return false;
#else
    char out[256];
    return test_run_command("command -v mpirun", out, sizeof out) == 0;
#endif
}

char *test_read_text(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char *b = calloc(1, 1 << 20);
    size_t n = b ? fread(b, 1, (1 << 20) - 1, f) : 0;
    if (b) b[n] = 0;
    fclose(f);
    return b;
}

const char *test_metrics_line(const char *text, int step, char *buf, size_t n) {
    char key[32];
    snprintf(key, sizeof key, "{\"step\": %d,", step);
    const char *s = text ? strstr(text, key) : NULL;
    if (!s) return "";
    size_t k = strcspn(s, "\n");
    snprintf(buf, n, "%.*s", (int)k, s);
    return buf;
}

double test_metrics_loss(const char *path, int step) {
    char key[32], line[1024];
    snprintf(key, sizeof key, "{\"step\": %d,", step);
    FILE *f = fopen(path, "r");
    double v = NAN;
    while (f && fgets(line, sizeof line, f))   /* the last line of the step: a resumed run may repeat one */
        if (!strncmp(line, key, strlen(key))) {
            const char *l = strstr(line, "\"loss\": ");
            if (l) v = strtod(l + 8, NULL);
        }
    if (f) fclose(f);
    return v;
}
