/* threads.h: how many CPU threads vaec computes on, set once for OpenMP, oneDNN and OpenBLAS together.
 *
 *   int n = cpu_threads_apply(0);   // 0: OMP_NUM_THREADS if set, else the physical cores this process may use
 *   int n = cpu_threads_apply(8);   // [train] threads = 8
 *
 * One pool: vaec's loops, oneDNN (built on OpenMP) and OpenBLAS (its OpenMP build) all run on the same
 * OpenMP threads, so they never oversubscribe the cores, and a library call inside a parallel region runs
 * on the calling thread alone (no nesting). Physical cores, not hardware threads: two threads on one core
 * share its vector units and gain nothing on GEMM-bound work. The count is taken within this process's
 * affinity mask, so ranks that mpirun binds to their own cores split the machine between them. */
#ifndef VAEC_CPU_THREADS_H
#define VAEC_CPU_THREADS_H

int cpu_physical_cores(void);        /* distinct cores in this process's affinity mask (at least 1) */
int cpu_threads_default(void);       /* OMP_NUM_THREADS when set, else cpu_physical_cores() */
int cpu_threads_apply(int requested);   /* requested > 0, or 0 for the default; returns the count in force */
const char *cpu_threads_source(void);   /* "[train] threads", "OMP_NUM_THREADS" or "physical cores", for the log */

/* Work too small to split runs on one thread: below serial_below FLOPs the fork, the barriers and the
 * uneven split of a few chunks cost more than a second core gains. The thresholds are per kernel family
 * (conv_cpu.c). Returns the count to give back to cpu_threads_restore (0: nothing changed). */
int cpu_threads_narrow(double flops, double serial_below);
void cpu_threads_restore(int saved);

#endif
