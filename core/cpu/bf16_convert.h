/* bf16_convert.h: whole-array bf16 <-> float32 conversions and the operands of the CPU's bf16 kernels, in
 * vaec's allocator (tag workspace): what both bf16 paths (bf16_cpu.h) and the probe that picks between them
 * use. Rounding is to nearest even (core/bf16.h); widening is exact. */
#ifndef VAEC_CPU_BF16_CONVERT_H
#define VAEC_CPU_BF16_CONVERT_H
#include <stdbool.h>
#include <stdint.h>
#include "core/mem.h"   // defines: mem_block

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
