/* bf16_cpu.h: what the CPU's bf16 kernels (convolutions, GEMMs) share: which path each kernel class runs,
 * and the conversions of whole arrays.
 *
 *   if (bf16_cpu_native_for(BF16_CONV_FWD)) ...oneDNN with bf16 memory...   // where it measured faster
 *   else { widen to f32, run the f32 kernel, round back }                   // the same arithmetic
 *
 * Two paths compute a bf16 product: oneDNN's bf16 kernels ("native"), or the operands widened to float32,
 * the float32 kernel, the result rounded to bf16 ("widened"). They are the same arithmetic (bf16 inputs
 * are exact in float32, both accumulate in float32), so the faster one is taken. oneDNN 2.6 has bf16
 * kernels from avx512_core up; below that (AVX2), and under VAEC_CPU_BACKEND=own, only reference loops,
 * orders of magnitude slower: there the ops are widened without asking. From avx512_core up which is
 * faster depends on the chip: AMX and fast vdpbf16ps (Zen 4/5) run the bf16 kernels faster than float32,
 * some AVX512-BF16 VMs at a third to half the float32 rate. So on the first bf16 use the process times a
 * small problem of each kernel class both ways on one thread (bf16_probe.c, ~0.1 s in all) and takes native only
 * where it is clearly faster (BF16_NATIVE_MARGIN). VAEC_BF16_KERNELS=auto|native|widened sets it for a
 * run (native still means widened below avx512_core: there is no fast kernel to force). */
#ifndef VAEC_CPU_BF16_CPU_H
#define VAEC_CPU_BF16_CPU_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "core/mem.h"   // defines: mem_block

/* the classes of bf16 kernel the choice is made for (each times differently: oneDNN 2.6 has brgemm bf16
   forward kernels but only jit_bf16 backward ones) */
typedef enum { BF16_CONV_FWD, BF16_CONV_BWD_DATA, BF16_CONV_BWD_WEIGHTS, BF16_GEMM, BF16_KERNEL_CLASSES } bf16_kernel_class;
typedef enum { BF16_KERNELS_AUTO, BF16_KERNELS_NATIVE, BF16_KERNELS_WIDENED } bf16_kernels_mode;

/* native is taken when its time is below this fraction of the widened time (10% faster at least): a tie
   goes to the widened path, whose float32 kernels are the better tested */
#define BF16_NATIVE_MARGIN 0.9

/* whether class k runs oneDNN's bf16 kernels now: the forced mode, else VAEC_BF16_KERNELS, else the probe
   (run once per process on the first call; thread-safe) */
bool bf16_cpu_native_for(bf16_kernel_class k);
/* the floor: oneDNN's bf16 kernels exist here (the oneDNN backend, effective ISA with avx512_core) */
bool bf16_cpu_native_available(void);
/* the mode in force: the forced one, else VAEC_BF16_KERNELS (checked: a bad value is a fatal error) */
bf16_kernels_mode bf16_cpu_mode(void);
/* test hooks: force a mode in-process (BF16_KERNELS_AUTO restores VAEC_BF16_KERNELS and the probe);
   bf16_cpu_force_fallback(true) is bf16_cpu_force(BF16_KERNELS_WIDENED), false is AUTO */
void bf16_cpu_force(bf16_kernels_mode m);
void bf16_cpu_force_fallback(bool on);

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

/* the probe's result, running it first if it has not run (whatever the mode: for reports and tests) */
const bf16_probe_result *bf16_cpu_probe(void);
/* times both paths of every class into *r (bf16_probe.c; bf16_cpu_probe calls it once) */
void bf16_probe_measure(bf16_probe_result *r);
/* bf16_probe.c only: pin the path this thread's bf16 calls take while it times them (1 native, 0 widened,
   -1 unpinned) */
void bf16_probe_pin(int native);
/* "conv fwd", "conv bwd data", "conv bwd weights", "gemm" */
const char *bf16_kernel_class_name(bf16_kernel_class k);
/* one line for logs: the choice per class and why, e.g. "widened (measured: conv fwd 3.1 ms bf16 vs 1.9 ms
   widened, ...)", "widened (VAEC_BF16_KERNELS=widened)", "widened (no oneDNN bf16 kernels: AVX2)" */
void bf16_cpu_describe(char *buf, size_t size);
/* whether any class runs natively now */
bool bf16_cpu_any_native(void);

/* dst[i] = bf16 of src[i], rounded to nearest even (core/bf16.h) */
void bf16_round_array(const float *src, uint16_t *dst, int64_t n);
/* dst[i] = src[i] as float32 (exact) */
void bf16_widen_array(const uint16_t *src, float *dst, int64_t n);
/* dst[i] = src[i] rounded to bf16 and widened back, in one pass (what the widened path takes for a float32
   operand that the bf16 kernels would get rounded) */
void bf16_round_widen_array(const float *src, float *dst, int64_t n);
/* a conv weight or bias as the bf16 kernels take it: bf16 values, or float32 ones (autocast's master weights)
   that the products take rounded to bf16; data NULL: none */
typedef struct { const void *data; bool f32; } bf16_operand;
/* its n values in bf16 for oneDNN's bf16 kernels: data itself, or a rounded copy kept in *tmp (release it) */
const uint16_t *bf16_operand_bf16(bf16_operand o, int64_t n, mem_block **tmp);
/* its n values (rounded to bf16 first when float32) in float32, one pass either way (NULL for none) */
mem_block *bf16_operand_widened(bf16_operand o, int64_t n);

/* a float32 copy of n bf16 values, in workspace memory from vaec's allocator (the caller releases it) */
mem_block *bf16_widened(const void *src, int64_t n);
/* a bf16 copy of n float32 values, likewise */
mem_block *bf16_rounded(const float *src, int64_t n);
/* n float32 values rounded through bf16 (bf16_round_widen_array), likewise */
mem_block *bf16_rounded_widened(const float *src, int64_t n);
/* room for n float32 values (a result before it is rounded), likewise */
mem_block *bf16_f32_scratch(int64_t n);

#endif
