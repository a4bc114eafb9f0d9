/* test_cpu_threads.c: the thread count (core/cpu/threads.c): physical cores within the affinity mask,
 * OMP_NUM_THREADS honoured, an explicit count winning over both, and a bad OMP_NUM_THREADS named. */
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include "core/cpu/threads.h"   // defines: cpu_threads_apply, cpu_physical_cores
#include "tests/harness/test.h"

TEST(test_cpu_threads_physical_cores_in_range) {
    int n = cpu_physical_cores();
    EXPECT(n >= 1 && n <= omp_get_num_procs(), "physical cores %d outside 1..%d logical CPUs", n, omp_get_num_procs());
}

TEST(test_cpu_threads_env_and_request) {
    const int saved = omp_get_max_threads();
    char *old = getenv("OMP_NUM_THREADS") ? strdup(getenv("OMP_NUM_THREADS")) : NULL;
    setenv("OMP_NUM_THREADS", "3", 1);
    EXPECT(cpu_threads_apply(0) == 3 && omp_get_max_threads() == 3, "OMP_NUM_THREADS=3 not honoured: %d",
           omp_get_max_threads());
    EXPECT(!strcmp(cpu_threads_source(), "OMP_NUM_THREADS"), "source %s", cpu_threads_source());
    EXPECT(cpu_threads_apply(5) == 5 && omp_get_max_threads() == 5, "[train] threads = 5 not applied: %d",
           omp_get_max_threads());
    EXPECT(!strcmp(cpu_threads_source(), "[train] threads"), "source %s", cpu_threads_source());
    unsetenv("OMP_NUM_THREADS");
    EXPECT(cpu_threads_apply(0) == cpu_physical_cores(), "without OMP_NUM_THREADS the default is the physical cores");
    if (old) setenv("OMP_NUM_THREADS", old, 1), free(old);
    omp_set_num_threads(saved);
}

static void bad_env(void *ctx) {
    setenv("OMP_NUM_THREADS", "lots", 1);
    cpu_threads_apply(0);
}

TEST(test_cpu_threads_bad_env_is_named) {
    EXPECT(test_expect_fatal(bad_env, NULL, "OMP_NUM_THREADS=lots"), "a bad OMP_NUM_THREADS is not named in the error");
}
