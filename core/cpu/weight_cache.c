/* weight_cache.c: reordered conv weights kept between calls (see weight_cache.h). A fixed table of entries, one
 * per (weights pointer, target layout), each with the version it was made from and its copy (or none yet). */
#include "core/cpu/weight_cache.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "core/check.h"           // defines: CHECK_HINT
#include "core/cpu/dnnl_util.h"   // defines: dnnl_run, dnnl_arg

#define MAX_ENTRIES 1024   /* weights x layouts: SDXL VAE + a 310M temporal VAE use ~400 */

typedef struct {
    const void *w;             /* NULL: a free entry */
    dnnl_memory_desc_t to;
    uint64_t version;          /* of the bytes the copy (or the last reorder) was made from */
    mem_block *copy;           /* NULL until the second call with one version */
    uint64_t last_use;
} entry;

static entry table[MAX_ENTRIES];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t clock_now, hits, reorders;
static size_t held, limit;
static bool limit_set;

static size_t limit_bytes(void) {
    if (!limit_set) {
        const char *e = getenv("VAEC_WEIGHT_CACHE_MIB");
        char *end = NULL;
        long mib = e && *e ? strtol(e, &end, 10) : 512;
        CHECK_HINT(!e || !*e || (*end == 0 && mib >= 0), "a whole number of MiB, 0 to turn the cache off",
                   "VAEC_WEIGHT_CACHE_MIB=%s is not a size", e);
        limit = (size_t)mib << 20;
        limit_set = true;
    }
    return limit;
}

static void drop_copy_locked(entry *e) {
    if (!e->copy) return;
    held -= e->copy->requested;
    mem_block_release(e->copy);
    e->copy = NULL;
}

static void forget_locked(entry *e) {
    drop_copy_locked(e);
    e->w = NULL;
}

/* the storage of a weight went back to the allocator: its copies go too (mem_block_release's hook) */
static void forget_block(const mem_block *b) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_ENTRIES; i++)
        if (table[i].w == b->ptr) forget_locked(&table[i]);
    pthread_mutex_unlock(&lock);
}

static void install_hook(void) { mem_set_derived_release_hook(forget_block); }

/* room for `bytes` more within the limit. Copies already kept stay: a model runs its layers in the same order
   every call, and dropping the least recently used copy to make room would drop the one the next call needs
   first (a cycle longer than the limit would then never hit); the weights that fit are served, the rest
   reordered every call as before. */
static bool room_locked(size_t bytes) { return held + bytes <= limit_bytes(); }

/* the entry of (w, to), else a new one: a free entry, else the least recently used one without a copy, else
   the least recently used one */
static entry *find_or_add_locked(const void *w, const dnnl_memory_desc_t *to) {
    entry *free_e = NULL, *lru = NULL, *lru_bare = NULL;
    for (int i = 0; i < MAX_ENTRIES; i++) {
        entry *e = &table[i];
        if (!e->w) { if (!free_e) free_e = e; continue; }
        if (e->w == w && dnnl_memory_desc_equal(&e->to, to)) return e;
        if (!lru || e->last_use < lru->last_use) lru = e;
        if (!e->copy && (!lru_bare || e->last_use < lru_bare->last_use)) lru_bare = e;
    }
    entry *e = free_e ? free_e : lru_bare ? lru_bare : lru;
    forget_locked(e);
    e->w = w;
    e->to = *to;
    e->version = 0;
    return e;
}

static void reorder(const void *w, void *dst, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                    dnnl_primitive_t rprim, const_dnnl_primitive_desc_t rpd) {
    dnnl_arg a[2] = {{DNNL_ARG_FROM, from, w}, {DNNL_ARG_TO, to, dst}};
    dnnl_run(rprim, rpd, 2, a, "weight reorder");
}

const void *weight_cache_reordered(const void *w, uint64_t version, const dnnl_memory_desc_t *from,
                                   const dnnl_memory_desc_t *to, dnnl_primitive_t rprim,
                                   const_dnnl_primitive_desc_t rpd, mem_block **hold) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_hook);
    const size_t bytes = dnnl_memory_desc_get_size(to);
    pthread_mutex_lock(&lock);
    if (version && limit_bytes()) {
        entry *e = find_or_add_locked(w, to);
        e->last_use = ++clock_now;
        if (e->version == version && e->copy) {
            hits++;
            mem_block_retain(e->copy);
            *hold = e->copy;
            pthread_mutex_unlock(&lock);
            return (*hold)->ptr;
        }
        /* a copy from an older version is refilled in place; a second call with one version makes one */
        const bool second = e->version == version;
        e->version = version;
        if (e->copy || (second && room_locked(bytes))) {
            if (!e->copy) {
                e->copy = mem_alloc_tagged(bytes, DEVICE_CPU, MEM_WORKSPACE);
                held += e->copy->requested;
            }
            reorders++;
            reorder(w, e->copy->ptr, from, to, rprim, rpd);   /* under the lock: convs run one at a time anyway */
            mem_block_retain(e->copy);
            *hold = e->copy;
            pthread_mutex_unlock(&lock);
            return (*hold)->ptr;
        }
    }
    reorders++;
    pthread_mutex_unlock(&lock);
    *hold = mem_alloc_tagged(bytes, DEVICE_CPU, MEM_WORKSPACE);
    reorder(w, (*hold)->ptr, from, to, rprim, rpd);
    return (*hold)->ptr;
}

void weight_cache_get_stats(weight_cache_stats *s) {
    pthread_mutex_lock(&lock);
    s->hits = hits, s->reorders = reorders, s->bytes = held, s->entries = 0;
    for (int i = 0; i < MAX_ENTRIES; i++) s->entries += table[i].w != NULL;
    pthread_mutex_unlock(&lock);
}

void weight_cache_set_limit(size_t bytes) {
    pthread_mutex_lock(&lock);
    limit = bytes;
    limit_set = true;
    for (int i = 0; i < MAX_ENTRIES && held > bytes; i++) drop_copy_locked(&table[i]);   /* within the new limit */
    pthread_mutex_unlock(&lock);
}

void weight_cache_clear(void) {
    pthread_mutex_lock(&lock);
    for (int i = 0; i < MAX_ENTRIES; i++) forget_locked(&table[i]);
    pthread_mutex_unlock(&lock);
}
