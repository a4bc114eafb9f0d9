/* bf16_cpu.c: the CPU's bf16 path choice and array conversions (see bf16_cpu.h). */
#include "core/cpu/bf16_cpu.h"
#include "core/bf16.h"            // defines: bf16_from_f32, bf16_to_f32
#include "core/cpu/dnnl_util.h"   // defines: cpu_backend_use_dnnl, dnnl_conv_preferred

static bool forced_fallback;

void bf16_cpu_force_fallback(bool on) { forced_fallback = on; }

/* dnnl_conv_preferred() is exactly "the effective ISA includes avx512_core", the floor of oneDNN 2.6's
   bf16 kernels; ONEDNN_MAX_CPU_ISA=AVX2 lowers it for a run */
bool bf16_cpu_native(void) { return !forced_fallback && cpu_backend_use_dnnl() && dnnl_conv_preferred(); }

void bf16_round_array(const float *src, uint16_t *dst, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_from_f32(src[i]);
}

void bf16_widen_array(const uint16_t *src, float *dst, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

static mem_block *workspace(size_t bytes) { return mem_alloc_tagged(bytes ? bytes : 1, DEVICE_CPU, MEM_WORKSPACE); }

mem_block *bf16_f32_scratch(int64_t n) { return workspace((size_t)n * sizeof(float)); }

mem_block *bf16_widened(const void *src, int64_t n) {
    mem_block *b = bf16_f32_scratch(n);
    bf16_widen_array(src, b->ptr, n);
    return b;
}

mem_block *bf16_rounded(const float *src, int64_t n) {
    mem_block *b = workspace((size_t)n * sizeof(uint16_t));
    bf16_round_array(src, b->ptr, n);
    return b;
}
