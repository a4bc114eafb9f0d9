/* mem.h: the caching allocator every tensor's storage comes from.
 *
 * Blocks are rounded up to a size class (4 classes per power of two) and, when freed, kept in that
 * class's free list instead of going back to malloc/cudaMalloc. After the first training step, a loop
 * with the same shapes is served entirely from the cache: no malloc churn, no fragmentation growth.
 * Each block carries a tag (parameters, gradients, activations, ...) so mem_report() can print what each
 * part of a run uses, now and at its peak.
 *
 *   mem_tag prev = mem_set_tag(MEM_PARAMS);   // tensors created from here on are parameters
 *   ... build the model ...
 *   mem_set_tag(prev);
 *   mem_report(stdout);
 */
#ifndef VAEC_MEM_H
#define VAEC_MEM_H
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "core/device.h"   // defines: device_t

typedef enum {
    MEM_ACTIVATIONS = 0,   /* default: forward results, saved tensors, temporaries */
    MEM_PARAMS,
    MEM_GRADS,
    MEM_OPTIMIZER,
    MEM_WORKSPACE,         /* im2col buffers and other op scratch */
    MEM_DATA,              /* batches from the loader */
    MEM_NTAGS
} mem_tag;

/* A storage block: the bytes behind one or more tensors (views share a block). */
typedef struct mem_block {
    void *ptr;
    size_t bytes;          /* capacity (the size class), >= what was asked */
    size_t requested;
    device_t device;
    mem_tag tag;
    int bin;
    int refcount;
    struct mem_block *next_free;
    uint64_t version;      /* write generation: a fresh number (one counter for all blocks) when the block is handed
                              out and at every write (mem_block_mark_written); a copy derived from the bytes (oneDNN's
                              reordered conv weights) is valid while it is unchanged */
    int has_derived;       /* such a copy exists: mem_block_release calls the derived-release hook at refcount 0 */
} mem_block;

mem_block *mem_alloc(size_t bytes, device_t device);   /* tagged with the current tag; fatal past the limit */
mem_block *mem_alloc_tagged(size_t bytes, device_t device, mem_tag tag);   /* tagged tag (op scratch: MEM_WORKSPACE) */
/* NULL when the block would take the device past its limit (after the cache is handed back); tensor_new uses it
 * to name the tensor's shape in its message */
mem_block *mem_try_alloc(size_t bytes, device_t device);
/* the most bytes the allocator may hold from the device ([train] max_memory); 0: no limit */
void mem_set_limit(device_t device, size_t bytes);
size_t mem_get_limit(device_t device);
/* "in use 40.1 MiB (activations 30.2, parameters 2.0, ...), cached 1.0 MiB": for out-of-memory messages */
void mem_usage_str(device_t device, char *buf, size_t n);
void mem_block_retain(mem_block *b);
void mem_block_release(mem_block *b);                   /* back to the cache at refcount 0 */
/* the bytes changed (or may change through a pointer just handed out): a new version; returns it */
uint64_t mem_block_mark_written(mem_block *b);
/* derived copies of blocks: b has one (conv weights, core/cpu/weight_cache.c); the hook drops them when b goes
 * back to the cache (one hook, set once) */
void mem_block_note_derived(mem_block *b);
void mem_set_derived_release_hook(void (*hook)(const mem_block *b));

mem_tag mem_set_tag(mem_tag tag);                       /* returns the previous tag */
/* b's bytes count under tag from now on (a gradient taken over by a parameter: activations -> gradients) */
void mem_block_retag(mem_block *b, mem_tag tag);
mem_tag mem_get_tag(void);
const char *mem_tag_name(mem_tag tag);

typedef struct {
    size_t in_use[MEM_NTAGS], peak[MEM_NTAGS];
    size_t in_use_total, peak_total, cached, reserved;   /* reserved = in use + cached */
    uint64_t hits, misses;
    size_t trimmed;        /* bytes of cached blocks handed back to the system to bound the cache (CPU) */
} mem_stats;

void mem_get_stats(device_t device, mem_stats *out);
void mem_reset_peak(void);
void mem_report(FILE *f);            /* one table: tag, in use, peak; cache totals and hit rate */
void mem_empty_cache(void);          /* return cached blocks to the system */
/* CPU cache bound: on a miss, cached blocks go back to the system, largest first, while the process would
 * otherwise hold more than the highest in-use total so far plus a sixteenth (64 MiB at least), so peak
 * RSS stays near the allocator's peak. A non-zero bytes bounds the cached bytes themselves (tests). */
void mem_set_cache_limit(size_t bytes);

#endif
