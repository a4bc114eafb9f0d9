/* bf16_convert.c: whole-array conversions and the bf16 kernels' operands (see bf16_convert.h). */
#include "core/cpu/bf16_convert.h"
#include "core/bf16.h"   // defines: bf16_from_f32, bf16_to_f32

void bf16_round_array(const float *src, uint16_t *dst, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_from_f32(src[i]);
}

void bf16_widen_array(const uint16_t *src, float *dst, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(src[i]);
}

void bf16_round_widen_array(const float *src, float *dst, int64_t n) {
#pragma omp parallel for if (n > 65536) schedule(static)
    for (int64_t i = 0; i < n; i++) dst[i] = bf16_to_f32(bf16_from_f32(src[i]));
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

mem_block *bf16_rounded_widened(const float *src, int64_t n) {
    mem_block *b = bf16_f32_scratch(n);
    bf16_round_widen_array(src, b->ptr, n);
    return b;
}

const uint16_t *bf16_operand_bf16(bf16_operand o, int64_t n, mem_block **tmp) {
    *tmp = o.data && o.f32 ? bf16_rounded(o.data, n) : NULL;
    return *tmp ? (*tmp)->ptr : o.data;
}

mem_block *bf16_operand_widened(bf16_operand o, int64_t n) {
    if (!o.data) return NULL;
    return o.f32 ? bf16_rounded_widened(o.data, n) : bf16_widened(o.data, n);
}
