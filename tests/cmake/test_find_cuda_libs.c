/* test_find_cuda_libs.c: the cuDNN / NCCL search of the configure step (cmake/find_cuda_libs.cmake), run with
 * `cmake -P` against folders of fake files, so it is checked on any machine: the pip wheel layout with only
 * versioned names (libcudnn.so.9, libnccl.so.2), a CUDA-style root with lib64, -DCUDNN_ROOT winning over a
 * wheel, and nothing found. The machine's own /usr and /usr/local/cuda are left out
 * (VAEC_CUDA_LIBS_NO_SYSTEM). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "tests/harness/test.h"

static char dir[128];

static void touch(const char *rel) {
    char cmd[512];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname %s/%s)\" && : > %s/%s", dir, rel, dir, rel);
    EXPECT(system(cmd) == 0, "could not create %s/%s", dir, rel);
}

/* runs the probe with extra -D options; out gets its output */
static int probe(const char *defs, char *out, size_t n) {
    char *script = test_path("tests/cmake/find_cuda_libs_probe.cmake");
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "env -u CMAKE_PREFIX_PATH -u CUDNN_ROOT -u NCCL_ROOT cmake -DVAEC_SOURCE_DIR=%s -DVAEC_CUDA_LIBS_NO_SYSTEM=ON "
             "%s -P %s",
             test_source_dir(), defs, script);
    free(script);
    return test_run_command(cmd, out, n);
}

/* whether the probe's line for lib says include=<dir>/<inc> lib=<dir>/<file> */
static bool found(const char *out, const char *lib, const char *inc, const char *file) {
    char want[512];
    snprintf(want, sizeof want, "probe: %s include=%s/%s lib=%s/%s\n", lib, dir, inc, dir, file);
    return strstr(out, want) != NULL;
}

static bool make_dir(void) {
    char out[256];
    if (test_run_command("command -v cmake", out, sizeof out) != 0) return false;
    snprintf(dir, sizeof dir, "/tmp/vaec_findlibs_%d", (int)getpid());
    return true;
}

static void remove_dir(void) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
}

TEST(test_find_cuda_libs_in_pip_wheels_by_versioned_names) {
    if (!make_dir()) TEST_SKIP("cmake is not on PATH: the configure step's search cannot be run");
    touch("site/nvidia/cudnn/include/cudnn.h");
    touch("site/nvidia/cudnn/lib/libcudnn.so.9");
    touch("site/nvidia/nccl/include/nccl.h");
    touch("site/nvidia/nccl/lib/libnccl.so.2");
    touch("site/nvidia/cublas/lib/libcublas.so.13");   /* another wheel beside them changes nothing */
    char defs[768], out[8192];
    snprintf(defs, sizeof defs, "-DVAEC_PYTHON_SITE=%s/other\\;%s/site", dir, dir);   /* a CMake list of two */
    EXPECT(probe(defs, out, sizeof out) == 0, "the probe failed:\n%s", out);
    EXPECT(found(out, "CUDNN", "site/nvidia/cudnn/include", "site/nvidia/cudnn/lib/libcudnn.so.9"), "cuDNN's wheel:\n%s", out);
    EXPECT(found(out, "NCCL", "site/nvidia/nccl/include", "site/nvidia/nccl/lib/libnccl.so.2"), "NCCL's wheel:\n%s", out);
    remove_dir();
}

TEST(test_find_cuda_libs_in_a_root_with_lib64_and_root_wins_over_wheels) {
    if (!make_dir()) TEST_SKIP("cmake is not on PATH: the configure step's search cannot be run");
    touch("cuda/include/cudnn.h");
    touch("cuda/lib64/libcudnn.so.9");
    touch("cuda/include/nccl.h");
    touch("cuda/lib64/libnccl.so.2");
    touch("cuda/lib64/libnccl.so");            /* the unversioned name comes first in one folder */
    touch("site/nvidia/cudnn/include/cudnn.h");
    touch("site/nvidia/cudnn/lib/libcudnn.so.9");
    char defs[768], out[8192];
    snprintf(defs, sizeof defs, "-DVAEC_CUDA_LIB_ROOTS=%s/cuda -DVAEC_PYTHON_SITE=%s/site", dir, dir);
    EXPECT(probe(defs, out, sizeof out) == 0, "the probe failed:\n%s", out);
    EXPECT(found(out, "CUDNN", "cuda/include", "cuda/lib64/libcudnn.so.9"), "a root before the wheels:\n%s", out);
    EXPECT(found(out, "NCCL", "cuda/include", "cuda/lib64/libnccl.so"), "NCCL's unversioned name first:\n%s", out);
    snprintf(defs, sizeof defs, "-DCUDNN_ROOT=%s/site/nvidia/cudnn -DVAEC_CUDA_LIB_ROOTS=%s/cuda -DVAEC_PYTHON_SITE=%s/none",
             dir, dir, dir);
    EXPECT(probe(defs, out, sizeof out) == 0, "the probe failed:\n%s", out);
    EXPECT(found(out, "CUDNN", "site/nvidia/cudnn/include", "site/nvidia/cudnn/lib/libcudnn.so.9"),
           "-DCUDNN_ROOT must win over the other roots:\n%s", out);
    remove_dir();
}

TEST(test_find_cuda_libs_reports_nothing_found) {
    if (!make_dir()) TEST_SKIP("cmake is not on PATH: the configure step's search cannot be run");
    touch("empty/include/other.h");
    char defs[768], out[8192];
    snprintf(defs, sizeof defs, "-DVAEC_CUDA_LIB_ROOTS=%s/empty -DVAEC_PYTHON_SITE=%s/none", dir, dir);
    EXPECT(probe(defs, out, sizeof out) == 0, "the probe failed:\n%s", out);
    EXPECT(strstr(out, "probe: CUDNN include= lib=\n") && strstr(out, "probe: NCCL include= lib=\n"),
           "nothing there, nothing found:\n%s", out);
    char where[256];
    snprintf(where, sizeof where, "looked in %s/empty", dir);
    EXPECT(strstr(out, where) != NULL, "the folders searched are reported:\n%s", out);
    remove_dir();
}
