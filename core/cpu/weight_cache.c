/* weight_cache.c: reordered conv weights kept between calls (see weight_cache.h). A fixed table of entries, one
 * per (weights pointer, flipped or not, target layout), each with the version it was made from and its copy (or none yet). */
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
    bool flipped;              /* a copy of the weights flipped for backward-data as a forward conv */
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
static entry *find_or_add_locked(const void *w, bool flipped, const dnnl_memory_desc_t *to) {
    entry *free_e = NULL, *lru = NULL, *lru_bare = NULL;
    for (int i = 0; i < MAX_ENTRIES; i++) {
        entry *e = &table[i];
        if (!e->w) { if (!free_e) free_e = e; continue; }
        if (e->w == w && e->flipped == flipped && dnnl_memory_desc_equal(&e->to, to)) return e;
        if (!lru || e->last_use < lru->last_use) lru = e;
        if (!e->copy && (!lru_bare || e->last_use < lru_bare->last_use)) lru_bare = e;
    }
    entry *e = free_e ? free_e : lru_bare ? lru_bare : lru;
    forget_locked(e);
    e->w = w;
    e->flipped = flipped;
    e->to = *to;
    e->version = 0;
    return e;
}

/* several runs share one parallel region, each run on one thread (oneDNN runs a call made inside a parallel
   region on its calling thread): a region per run would wait for the threads once per tap, which on a loaded
   machine costs a scheduler slice each (8 ms seen at load 4, against 0.01 ms for the run itself) */
static void reorder(const void *w, void *dst, size_t bytes, const weight_reorder *r) {
    if (r->zero_first) memset(dst, 0, bytes);
    if (r->runs <= 1) {
        dnnl_arg a[2] = {{DNNL_ARG_FROM, r->from, w}, {DNNL_ARG_TO, r->to, dst}};
        dnnl_run(r->prim, r->pd, 2, a, "weight reorder");
        return;
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < r->runs; i++) {
        dnnl_arg a[2] = {{DNNL_ARG_FROM, r->from, (const char *)w + r->src_bytes[i]},
                         {DNNL_ARG_TO, r->to, (char *)dst + r->dst_bytes[i]}};
        dnnl_run(r->prim, r->pd, 2, a, "weight reorder (one tap)");
    }
}

const void *weight_cache_reordered(const void *w, uint64_t version, const dnnl_memory_desc_t *layout, bool flipped,
                                   const weight_reorder *r, mem_block **hold) {
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, install_hook);
    const size_t bytes = dnnl_memory_desc_get_size(layout);
    pthread_mutex_lock(&lock);
    if (version && limit_bytes()) {
        entry *e = find_or_add_locked(w, flipped, layout);
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
            reorder(w, e->copy->ptr, bytes, r);   /* under the lock: convs run one at a time anyway */
            mem_block_retain(e->copy);
            *hold = e->copy;
            pthread_mutex_unlock(&lock);
            return (*hold)->ptr;
        }
    }
    reorders++;
    pthread_mutex_unlock(&lock);
    *hold = mem_alloc_tagged(bytes, DEVICE_CPU, MEM_WORKSPACE);
    reorder(w, (*hold)->ptr, bytes, r);
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
