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
 * A copy can also be of the weights flipped for a conv's input gradient run as a forward conv
 * (conv_bwd_flip.h), made by one reorder run per kernel tap. The flip is part of the key, so a square
 * weight's flipped and plain copies in one layout are told apart, and both follow the version alike.
 *
 *   weight_reorder r = {rprim, rpd, &user_md, &lib_md, 1, NULL, NULL, false};
 *   mem_block *hold;
 *   const void *wk = weight_cache_reordered(w, version, &lib_md, false, &r, &hold);
 *   ... run the conv on wk ...
 *   mem_block_release(hold);
 */
#ifndef VAEC_CPU_WEIGHT_CACHE_H
#define VAEC_CPU_WEIGHT_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <dnnl.h>
#include "core/mem.h"   // defines: mem_block

/* how a copy is made from w: prim (a reorder from `from` to `to`) run once on the whole weight, or once per
 * (src_bytes, dst_bytes) pair, reading w and writing the copy that far in (conv_dnnl.c: one run per kernel tap
 * for flipped weights) */
typedef struct {
    dnnl_primitive_t prim;
    const_dnnl_primitive_desc_t pd;
    const dnnl_memory_desc_t *from, *to;
    int runs;                               /* 1: the whole weight at once */
    const int64_t *src_bytes, *dst_bytes;   /* runs > 1: where each run starts in w and in the copy */
    bool zero_first;                        /* the runs leave the layout's padding unwritten: zero the copy first */
} weight_reorder;

/* w in `layout` (flipped or not: part of the key), made by r: a cached copy or a fresh one in a block of its
 * own. version 0 (an unknown or temporary weight): never cached. *hold: release it after the kernel ran (the
 * copy stays cached). */
const void *weight_cache_reordered(const void *w, uint64_t version, const dnnl_memory_desc_t *layout, bool flipped,
                                   const weight_reorder *r, mem_block **hold);

typedef struct {
    uint64_t hits, reorders;   /* calls served from a copy; calls that reordered */
    size_t bytes;              /* held in copies now */
    int entries;               /* weights x layouts known (with or without a copy) */
} weight_cache_stats;

void weight_cache_get_stats(weight_cache_stats *s);
void weight_cache_set_limit(size_t bytes);   /* overrides VAEC_WEIGHT_CACHE_MIB; 0: off (tests) */
void weight_cache_clear(void);               /* every copy back to the allocator */

#endif
