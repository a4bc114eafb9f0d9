/* crc32c.h: CRC-32C (Castagnoli), the checksum vaec stores for every tensor it writes (core/safetensors.c),
 * so that a flipped byte in a checkpoint is caught at load and named. SSE4.2's crc32 instruction where the
 * CPU has it (about 10 GB/s), a table otherwise; both give the same value.
 *
 *   uint32_t c = crc32c_update(0, buf, n);          // one buffer
 *   c = crc32c_update(c, more, m);                  // ... continued over the next
 */
#ifndef VAEC_CRC32C_H
#define VAEC_CRC32C_H
#include <stddef.h>
#include <stdint.h>

uint32_t crc32c_update(uint32_t crc, const void *data, size_t n);   /* crc32c("123456789") = 0xe3069283 */

#endif
