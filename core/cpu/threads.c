/* threads.c: the thread count vaec computes on (see threads.h). */
#define _GNU_SOURCE
#include "core/cpu/threads.h"
#include <omp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include "core/check.h"   // defines: CHECK_HINT

void openblas_set_num_threads(int n);   /* cblas.h declares it only in some OpenBLAS versions */

static const char *source = "physical cores";

/* one (package, core) pair per physical core; hardware threads of one core share it */
int cpu_physical_cores(void) {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return omp_get_num_procs() > 0 ? omp_get_num_procs() : 1;
    long seen[CPU_SETSIZE];
    int n = 0, logical = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, &set)) continue;
        logical++;
        char path[128];
        int pkg = 0, core = cpu;   /* without sysfs each logical CPU counts as a core */
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/physical_package_id", cpu);
        FILE *f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &pkg) != 1) pkg = 0;
            fclose(f);
        }
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/topology/core_id", cpu);
        f = fopen(path, "r");
        if (f) {
            if (fscanf(f, "%d", &core) != 1) core = cpu;
            fclose(f);
        }
        long id = (long)pkg << 20 | core;
        int dup = 0;
        for (int i = 0; i < n && !dup; i++) dup = seen[i] == id;
        if (!dup) seen[n++] = id;
    }
    return n > 0 ? n : (logical > 0 ? logical : 1);
}

int cpu_threads_default(void) {
    const char *e = getenv("OMP_NUM_THREADS");
    if (e && *e) {
        char *end;
        long v = strtol(e, &end, 10);
        CHECK_HINT(end != e && (*end == 0 || *end == ',') && v > 0 && v <= 4096, "unset it, or give a positive count",
                   "OMP_NUM_THREADS=%s is not a thread count", e);
        source = "OMP_NUM_THREADS";
        return (int)v;
    }
    source = "physical cores";
    return cpu_physical_cores();
}

int cpu_threads_apply(int requested) {
    CHECK(requested >= 0, "threads = %d: give a positive count, or 0 for the default", requested);
    int n = requested > 0 ? requested : cpu_threads_default();
    if (requested > 0) source = "[train] threads";
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return n;
}

const char *cpu_threads_source(void) { return source; }

int cpu_threads_narrow(double flops, double serial_below) {
    int n = omp_get_max_threads();
    if (n <= 1 || flops >= serial_below || omp_in_parallel()) return 0;
    omp_set_num_threads(1);
    openblas_set_num_threads(1);   /* its OpenMP build keeps its own count */
    return n;
}

void cpu_threads_restore(int saved) {
    if (saved <= 0) return;
    omp_set_num_threads(saved);
    openblas_set_num_threads(saved);
}
