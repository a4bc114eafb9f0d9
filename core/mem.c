/* mem.c: size-class caching allocator with per-tag accounting (see mem.h). */
#include "core/mem.h"
#include "core/check.h"
#include <pthread.h>
#include <stdbool.h>
#include <string.h>

#define NBINS 256
#define NDEV 2

typedef struct {
    mem_block *free_list[NBINS];
    mem_stats stats;
    size_t high_water;   /* the highest in-use total ever (mem_reset_peak does not lower it) */
} dev_cache;

static dev_cache caches[NDEV];
static mem_block *spare_blocks;     /* recycled block headers: no malloc per tensor either */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local mem_tag current_tag = MEM_ACTIVATIONS;
static uint64_t version_counter;    /* mem_block.version: never repeats, so a reused block never matches a stale copy */
static void (*derived_release_hook)(const mem_block *b);

static uint64_t next_version(void) { return __atomic_add_fetch(&version_counter, 1, __ATOMIC_RELAXED); }

static const char *tag_names[MEM_NTAGS] = {"activations", "parameters", "gradients", "optimizer",
                                           "workspace", "data"};

const char *mem_tag_name(mem_tag tag) { return tag < MEM_NTAGS ? tag_names[tag] : "?"; }
mem_tag mem_set_tag(mem_tag tag) { mem_tag old = current_tag; current_tag = tag; return old; }
mem_tag mem_get_tag(void) { return current_tag; }

/* Size class: 256-byte granules below 4 KiB, then 4 classes per power of two (<= 25% slack). */
static int size_bin(size_t bytes, size_t *class_bytes) {
    if (bytes <= 4096) {
        size_t n = (bytes + 255) / 256;
        if (n == 0) n = 1;
        *class_bytes = n * 256;
        return (int)n - 1;                      /* bins 0..15 */
    }
    int p = 63 - __builtin_clzll((unsigned long long)(bytes - 1));  /* 2^p < bytes <= 2^(p+1) */
    size_t base = (size_t)1 << p, step = base / 4;
    size_t k = (bytes - base + step - 1) / step; /* 1..4 */
    *class_bytes = base + k * step;
    int bin = 16 + (p - 12) * 4 + (int)(k - 1);
    CHECK(bin < NBINS, "allocation of %zu bytes is beyond the allocator's size classes", bytes);
    return bin;
}

static void free_cached_locked(dev_cache *c);
static void trim_cached_locked(dev_cache *c, size_t request);

/* A GPU allocation that fails first hands this device's cached blocks back and tries once more: the
   cache may hold enough free memory in the wrong size classes. */
static void *device_alloc_or_fail(device_t device, size_t cls, size_t bytes) {
    if (device == DEVICE_CPU) return device_malloc(device, cls);
    void *p = device_try_malloc(device, cls);
    if (p) return p;
    pthread_mutex_lock(&lock);
    free_cached_locked(&caches[device]);
    mem_stats s = caches[device].stats;
    pthread_mutex_unlock(&lock);
    p = device_try_malloc(device, cls);
    CHECK_HINT(p != NULL, "use a smaller batch, clip or resolution, bf16, or activation checkpointing",
               "out of %s memory allocating %.1f MiB (%zu bytes); vaec holds %.1f MiB in use (peak %.1f MiB)",
               device_name(device), (double)bytes / 1048576.0, bytes, (double)s.in_use_total / 1048576.0,
               (double)s.peak_total / 1048576.0);
    return p;
}

static size_t limits[NDEV];   /* 0: none */

void mem_set_limit(device_t device, size_t bytes) {
    pthread_mutex_lock(&lock);
    limits[device] = bytes;
    pthread_mutex_unlock(&lock);
}

size_t mem_get_limit(device_t device) { return limits[device]; }

static double mib(size_t b) { return (double)b / (1024.0 * 1024.0); }

void mem_usage_str(device_t device, char *buf, size_t n) {
    mem_stats s;
    mem_get_stats(device, &s);
    size_t k = (size_t)snprintf(buf, n, "in use %.1f MiB (", mib(s.in_use_total));
    for (int t = 0; t < MEM_NTAGS && k < n; t++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s %.1f", t ? ", " : "", tag_names[t], mib(s.in_use[t]));
    if (k < n) snprintf(buf + k, n - k, "), peak %.1f MiB, cached %.1f MiB", mib(s.peak_total), mib(s.cached));
}

mem_block *mem_try_alloc(size_t bytes, device_t device) {
    size_t cls;
    int bin = size_bin(bytes, &cls);
    pthread_mutex_lock(&lock);
    dev_cache *c = &caches[device];
    mem_block *b = c->free_list[bin];
    if (b) {
        c->free_list[bin] = b->next_free;
        c->stats.cached -= b->bytes;
        c->stats.hits++;
    } else {
        /* past the limit: the cached blocks go back first (they may be in the wrong size classes) */
        if (limits[device] && c->stats.reserved + cls > limits[device]) free_cached_locked(c);
        if (limits[device] && c->stats.reserved + cls > limits[device]) {
            pthread_mutex_unlock(&lock);
            return NULL;
        }
        c->stats.misses++;
        if (device == DEVICE_CPU) trim_cached_locked(c, cls);
        if (spare_blocks) { b = spare_blocks; spare_blocks = b->next_free; }
        else b = xmalloc(sizeof *b);
        pthread_mutex_unlock(&lock);
        void *p = device_alloc_or_fail(device, cls, bytes);  /* outside the lock: may be slow */
        pthread_mutex_lock(&lock);
        b->ptr = p;
        b->bytes = cls;
        b->device = device;
        b->bin = bin;
        c->stats.reserved += cls;
    }
    b->requested = bytes;
    b->tag = current_tag;
    b->refcount = 1;
    b->next_free = NULL;
    b->version = next_version();
    b->has_derived = 0;
    mem_stats *s = &c->stats;
    s->in_use[b->tag] += b->bytes;
    s->in_use_total += b->bytes;
    if (s->in_use[b->tag] > s->peak[b->tag]) s->peak[b->tag] = s->in_use[b->tag];
    if (s->in_use_total > s->peak_total) s->peak_total = s->in_use_total;
    if (s->in_use_total > c->high_water) c->high_water = s->in_use_total;
    pthread_mutex_unlock(&lock);
    return b;
}

mem_block *mem_alloc_tagged(size_t bytes, device_t device, mem_tag tag) {
    mem_tag prev = mem_set_tag(tag);
    mem_block *b = mem_alloc(bytes, device);
    mem_set_tag(prev);
    return b;
}

mem_block *mem_alloc(size_t bytes, device_t device) {
    mem_block *b = mem_try_alloc(bytes, device);
    if (!b) {
        char use[512];
        mem_usage_str(device, use, sizeof use);
        CHECK_HINT(0, "use a smaller batch, clip or resolution, or raise [train] max_memory; the checkpoints written so "
                      "far are intact: continue with --resume auto",
                   "out of memory: %zu bytes more (tag %s) would pass the %s limit of %.1f MiB ([train] max_memory); %s",
                   bytes, tag_names[current_tag], device_name(device), mib(limits[device]), use);
    }
    return b;
}

void mem_block_retain(mem_block *b) {
    __atomic_add_fetch(&b->refcount, 1, __ATOMIC_RELAXED);
}

uint64_t mem_block_mark_written(mem_block *b) {
    uint64_t v = next_version();
    __atomic_store_n(&b->version, v, __ATOMIC_RELAXED);
    return v;
}

void mem_block_note_derived(mem_block *b) { __atomic_store_n(&b->has_derived, 1, __ATOMIC_RELAXED); }

void mem_set_derived_release_hook(void (*hook)(const mem_block *b)) { derived_release_hook = hook; }

void mem_block_release(mem_block *b) {
    if (!b) return;
    if (__atomic_sub_fetch(&b->refcount, 1, __ATOMIC_ACQ_REL) > 0) return;
    if (b->has_derived && derived_release_hook) derived_release_hook(b);   /* outside the lock: the hook frees blocks */
    pthread_mutex_lock(&lock);
    dev_cache *c = &caches[b->device];
    c->stats.in_use[b->tag] -= b->bytes;
    c->stats.in_use_total -= b->bytes;
    c->stats.cached += b->bytes;
    b->next_free = c->free_list[b->bin];
    c->free_list[b->bin] = b;
    pthread_mutex_unlock(&lock);
}

void mem_block_retag(mem_block *b, mem_tag tag) {
    pthread_mutex_lock(&lock);
    mem_stats *s = &caches[b->device].stats;
    s->in_use[b->tag] -= b->bytes;
    b->tag = tag;
    s->in_use[tag] += b->bytes;
    if (s->in_use[tag] > s->peak[tag]) s->peak[tag] = s->in_use[tag];
    pthread_mutex_unlock(&lock);
}

void mem_get_stats(device_t device, mem_stats *out) {
    pthread_mutex_lock(&lock);
    *out = caches[device].stats;
    pthread_mutex_unlock(&lock);
}

void mem_reset_peak(void) {
    pthread_mutex_lock(&lock);
    for (int d = 0; d < NDEV; d++) {
        mem_stats *s = &caches[d].stats;
        for (int t = 0; t < MEM_NTAGS; t++) s->peak[t] = s->in_use[t];
        s->peak_total = s->in_use_total;
    }
    pthread_mutex_unlock(&lock);
}

void mem_report(FILE *f) {
    for (int d = 0; d < NDEV; d++) {
        mem_stats s;
        mem_get_stats((device_t)d, &s);
        if (s.reserved == 0) continue;
        fprintf(f, "memory on %s:            in use MiB    peak MiB\n", device_name((device_t)d));
        for (int t = 0; t < MEM_NTAGS; t++)
            fprintf(f, "  %-22s %11.2f %11.2f\n", tag_names[t], mib(s.in_use[t]), mib(s.peak[t]));
        fprintf(f, "  %-22s %11.2f %11.2f\n", "total", mib(s.in_use_total), mib(s.peak_total));
        uint64_t n = s.hits + s.misses;
        fprintf(f, "  cached %.2f MiB, reserved %.2f MiB, handed back %.2f MiB, cache hits %.1f%% of %llu allocations\n",
                mib(s.cached), mib(s.reserved), mib(s.trimmed), n ? 100.0 * (double)s.hits / (double)n : 0.0,
                (unsigned long long)n);
    }
}

/* the cached block at the head of bin i goes back to the system */
static size_t drop_cached_head(dev_cache *c, int i) {
    mem_block *b = c->free_list[i];
    c->free_list[i] = b->next_free;
    device_free(b->device, b->ptr, b->bytes);
    c->stats.reserved -= b->bytes;
    c->stats.cached -= b->bytes;
    b->next_free = spare_blocks;
    spare_blocks = b;
    return b->bytes;
}

static void free_cached_locked(dev_cache *c) {
    for (int i = 0; i < NBINS; i++)
        while (c->free_list[i]) drop_cached_head(c, i);
}

/* On the CPU a miss first hands back cached blocks, largest first, while what the process holds
 * (reserved: in use + cached) would otherwise pass the highest in-use total seen so far by more than a
 * sixteenth (64 MiB at least). Blocks of sizes this phase of a step does not ask for (the frozen spatial
 * VAE's activations while the temporal VAE trains) would otherwise sit in the process's memory beside
 * the ones it does, and peak RSS would exceed the allocator's peak by their size. Bounding by the peak,
 * not by what is in use now, keeps the gradients and optimizer buffers a step frees and allocates again
 * in the cache: a training loop with fixed shapes stops missing after its first steps. GPU memory keeps
 * its cache: a cudaMalloc is too slow to repeat, so it is handed back only when an allocation fails. */
static size_t cache_limit = 0;   /* tests: a bound on the cached bytes themselves; 0: the rule above */

void mem_set_cache_limit(size_t bytes) {
    pthread_mutex_lock(&lock);
    cache_limit = bytes;
    pthread_mutex_unlock(&lock);
}

static bool over_limit(const dev_cache *c, size_t request) {
    if (cache_limit) return c->stats.cached > cache_limit;
    size_t slack = c->high_water / 16 > ((size_t)64 << 20) ? c->high_water / 16 : ((size_t)64 << 20);
    return c->stats.reserved + request > c->high_water + slack;
}

static void trim_cached_locked(dev_cache *c, size_t request) {
    for (int i = NBINS - 1; i >= 0 && c->stats.cached > 0 && over_limit(c, request); i--) {
        while (c->free_list[i] && over_limit(c, request)) c->stats.trimmed += drop_cached_head(c, i);
    }
}

void mem_empty_cache(void) {
    pthread_mutex_lock(&lock);
    for (int d = 0; d < NDEV; d++) free_cached_locked(&caches[d]);
    while (spare_blocks) { mem_block *n = spare_blocks->next_free; free(spare_blocks); spare_blocks = n; }
    pthread_mutex_unlock(&lock);
}
