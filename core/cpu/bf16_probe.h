/* bf16_probe.h: the kernel classes the CPU's bf16 path is chosen for, and the probe that times both paths of
 * each (bf16_probe.c; bf16_cpu.c runs it once per process, on the first bf16 use, and decides from it).
 *
 *   bf16_probe_result r;
 *   bf16_probe_measure(&r);   // r.native[BF16_CONV_FWD]: oneDNN's bf16 forward was clearly faster here
 */
#ifndef VAEC_CPU_BF16_PROBE_H
#define VAEC_CPU_BF16_PROBE_H
#include <stdbool.h>

/* the classes of bf16 kernel the choice is made for (each times differently: oneDNN 2.6 has brgemm bf16
   forward kernels but only jit_bf16 backward ones) */
typedef enum { BF16_CONV_FWD, BF16_CONV_BWD_DATA, BF16_CONV_BWD_WEIGHTS, BF16_GEMM, BF16_KERNEL_CLASSES } bf16_kernel_class;
/* native is taken when its time is below this fraction of the widened time (10% faster at least): a tie
   goes to the widened path, whose float32 kernels are the better tested */
#define BF16_NATIVE_MARGIN 0.9

/* what the probe measured (best of its repetitions on one thread, ms, widening and rounding included) */
typedef struct {
    bool ran;                                /* false: not needed (no native kernels, or a mode set) */
    double native_ms[BF16_KERNEL_CLASSES];
    double widened_ms[BF16_KERNEL_CLASSES];
    bool native[BF16_KERNEL_CLASSES];        /* its decision */
    double total_ms;                         /* the whole probe, warm-ups and primitive creation included */
    int threads;                             /* the run's thread count then (the probe itself times one) */
    double load1;                            /* the load average then (-1: unknown): a loaded machine skews it */
} bf16_probe_result;

/* times both paths of every class into *r, on the calling thread, one OpenMP thread */
void bf16_probe_measure(bf16_probe_result *r);

#endif
