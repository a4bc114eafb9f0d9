/* prim_cache.h: a small least-recently-used cache of built oneDNN primitives, keyed by bytes, shared by
 * the convolutions (conv_dnnl.c) and the bf16 GEMMs (gemm_bf16.c): building a primitive selects and JITs
 * a kernel, which a training step must pay once per shape, not once per call.
 *
 *   static prim_cache cache = PRIM_CACHE_INIT(conv_key, conv_prim, 512, build, release);
 *   conv_prim *e = prim_cache_get(&cache, &key);   // locks the cache; builds e on a miss
 *   ... run e's primitive ...
 *   prim_cache_done(&cache);                       // unlocks
 *
 * Keys are compared with memcmp: zero a key (memset) before filling it, so padding bytes match. The
 * entry struct is the caller's; build fills it from the key, release frees what build made. */
#ifndef VAEC_CPU_PRIM_CACHE_H
#define VAEC_CPU_PRIM_CACHE_H
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    size_t key_size, entry_size;
    int capacity;
    void (*build)(void *entry, const void *key);
    void (*release)(void *entry);
    pthread_mutex_t lock;
    unsigned char *slots;   /* capacity x (used flag, last use, key, entry), allocated on first use */
    uint64_t clock;
} prim_cache;

#define PRIM_CACHE_INIT(key_type, entry_type, cap, build_fn, release_fn)                                      \
    {sizeof(key_type), sizeof(entry_type), (cap), (void (*)(void *, const void *))(build_fn),                   \
     (void (*)(void *))(release_fn), PTHREAD_MUTEX_INITIALIZER, NULL, 0}

void *prim_cache_get(prim_cache *c, const void *key);
void prim_cache_done(prim_cache *c);

#endif
