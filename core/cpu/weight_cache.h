/* weight_cache.h: oneDNN's reordered conv weights, kept between calls while the weights are unchanged.
 *
 * vaec stores conv weights ohwi / odhwi; oneDNN's kernels want them blocked (Acdb64a, ABcde16a16b, ...), and
 * reordering reads and writes the whole weight (1-70 ms a call on 2 cores for 512-1024 channel weights; a
 * third of a stage-1 step's oneDNN time before this cache). Weights change only when written, and every write
 * gives their storage block a new version (mem_block_mark_written: tensor_f32, tensor_copy_, the optimizers,
 * checkpoint loads), so a reordered copy keyed on (weights pointer, version, target layout) stays exact
 * until the next write.
 *
 * A copy is kept from the second call that asks for the same (pointer, version, layout): a trained weight
 * that a step reorders once per layout takes no memory, a frozen one (the spatial VAE's micro-batches in
 * stage 1, every step; inference windows) is reordered once. Copies come from vaec's allocator (tag
 * workspace), at most VAEC_WEIGHT_CACHE_MIB in all (default 512; 0 turns the cache off), and go back when the
 * weight's storage is freed. Past the limit no copy is made and none dropped: layers run in the same order
 * every call, so the weights that fit are served and the rest reordered as before (dropping the least
 * recently used would drop the next one needed, and a cycle longer than the limit would never hit).
 *
 *   mem_block *hold;
 *   const void *wk = weight_cache_reordered(w, version, &user_md, &lib_md, rprim, rpd, &hold);
 *   ... run the conv on wk ...
 *   mem_block_release(hold);
 */
#ifndef VAEC_CPU_WEIGHT_CACHE_H
#define VAEC_CPU_WEIGHT_CACHE_H
#include <stddef.h>
#include <stdint.h>
#include <dnnl.h>
#include "core/mem.h"   // defines: mem_block

/* w reordered from `from` to `to` by rprim: a cached copy or a fresh one in a block of its own. version 0 (an
 * unknown or temporary weight): never cached. *hold: release it after the kernel ran (the copy stays cached). */
const void *weight_cache_reordered(const void *w, uint64_t version, const dnnl_memory_desc_t *from,
                                   const dnnl_memory_desc_t *to, dnnl_primitive_t rprim,
                                   const_dnnl_primitive_desc_t rpd, mem_block **hold);

typedef struct {
    uint64_t hits, reorders;   /* calls served from a copy; calls that reordered */
    size_t bytes;              /* held in copies now */
    int entries;               /* weights x layouts known (with or without a copy) */
} weight_cache_stats;

void weight_cache_get_stats(weight_cache_stats *s);
void weight_cache_set_limit(size_t bytes);   /* overrides VAEC_WEIGHT_CACHE_MIB; 0: off (tests) */
void weight_cache_clear(void);               /* every copy back to the allocator */

#endif
