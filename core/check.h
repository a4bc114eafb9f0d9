/* check.h: vaec's one error path.
 *
 * Every failure a user can cause (bad file, wrong shape, config typo) and every internal invariant goes
 * through vaec_fatal(): it prints the message, the source file and line, and a "---> HINT" line telling the
 * user what to do, then exits with status 1. Library code that reads files returns an error code instead
 * and leaves the message in vaec_last_error(), so callers (and tests) can decide.
 *
 *   CHECK(x->ndim == 5, "conv3d expects (B,T,H,W,C), got %d dims", x->ndim);
 *   CHECK_HINT(f != NULL, "is the path right?", "cannot open %s", path);
 */
#ifndef VAEC_CHECK_H
#define VAEC_CHECK_H
#include <stdio.h>
#include <stdlib.h>

#if defined(__GNUC__)
#define VAEC_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define VAEC_NORETURN __attribute__((noreturn))
#else
#define VAEC_PRINTF(a, b)
#define VAEC_NORETURN
#endif

VAEC_NORETURN void vaec_fatal(const char *file, int line, const char *hint, const char *fmt, ...)
    VAEC_PRINTF(4, 5);

/* How a fatal error ends the process: exit(code), or _exit(code) after vaec_fatal_exit_at_once(). A forked
 * child (tests/harness/test.c's test_expect_fatal) calls it so that it skips the parent's atexit handlers:
 * the CUDA runtime's teardown and a test's cleanup are not safe to run in a copy of the process. The CUDA,
 * cuBLAS and cuDNN checks end through vaec_exit too. */
VAEC_NORETURN void vaec_exit(int code);
void vaec_fatal_exit_at_once(void);

/* Recoverable errors: set the message, return -1 from the caller. */
int vaec_set_error(const char *fmt, ...) VAEC_PRINTF(1, 2);
const char *vaec_last_error(void);

#define CHECK_HINT(cond, hint, ...) \
    do { if (!(cond)) vaec_fatal(__FILE__, __LINE__, hint, __VA_ARGS__); } while (0)
#define CHECK(cond, ...) CHECK_HINT(cond, NULL, __VA_ARGS__)
#define FATAL(...) vaec_fatal(__FILE__, __LINE__, NULL, __VA_ARGS__)

/* Allocation and file checks in the llm.c manner: name the size or path that failed. */
void *vaec_malloc_check(size_t n, const char *file, int line);
void *vaec_calloc_check(size_t n, size_t size, const char *file, int line);
void *vaec_realloc_check(void *p, size_t n, const char *file, int line);
FILE *vaec_fopen_check(const char *path, const char *mode, const char *file, int line);
#define xmalloc(n) vaec_malloc_check((n), __FILE__, __LINE__)
#define xcalloc(n, s) vaec_calloc_check((n), (s), __FILE__, __LINE__)
#define xrealloc(p, n) vaec_realloc_check((p), (n), __FILE__, __LINE__)
#define xfopen(path, mode) vaec_fopen_check((path), (mode), __FILE__, __LINE__)

#endif
