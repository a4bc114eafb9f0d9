/* check.c: the error path (see check.h). */
#include "core/check.h"
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include <unistd.h>

static _Thread_local char last_error[1024];
static int exit_at_once;

void vaec_fatal_exit_at_once(void) { exit_at_once = 1; }

void vaec_exit(int code) {
    fflush(stdout);
    fflush(stderr);
    if (exit_at_once) _exit(code);
    exit(code);
}

void vaec_fatal(const char *file, int line, const char *hint, const char *fmt, ...) {
    fflush(stdout);
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "vaec: error: ");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n  at %s:%d\n", file, line);
    if (hint) fprintf(stderr, "  ---> HINT: %s\n", hint);
    vaec_exit(1);
}

int vaec_set_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    return -1;
}

const char *vaec_last_error(void) { return last_error; }

void *vaec_malloc_check(size_t n, const char *file, int line) {
    void *p = malloc(n ? n : 1);
    if (!p) vaec_fatal(file, line, "the machine is out of memory; use a smaller batch or clip",
                       "malloc of %zu bytes failed", n);
    return p;
}

void *vaec_calloc_check(size_t n, size_t size, const char *file, int line) {
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) vaec_fatal(file, line, "the machine is out of memory", "calloc of %zu x %zu bytes failed", n, size);
    return p;
}

void *vaec_realloc_check(void *p, size_t n, const char *file, int line) {
    void *q = realloc(p, n ? n : 1);
    if (!q) vaec_fatal(file, line, "the machine is out of memory", "realloc to %zu bytes failed", n);
    return q;
}

FILE *vaec_fopen_check(const char *path, const char *mode, const char *file, int line) {
    FILE *f = fopen(path, mode);
    if (!f) vaec_fatal(file, line, "check that the path exists and is readable/writable",
                       "cannot open '%s' (mode %s): %s", path, mode, strerror(errno));
    return f;
}
