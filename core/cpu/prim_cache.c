/* prim_cache.c: the primitive cache (see prim_cache.h). A slot is a header, the key, then the entry. */
#include "core/cpu/prim_cache.h"
#include <stdbool.h>
#include <string.h>
#include "core/check.h"   // defines: xcalloc

typedef struct { bool used; uint64_t last_use; } slot_head;

static size_t align16(size_t n) { return (n + 15) & ~(size_t)15; }
static size_t slot_bytes(const prim_cache *c) {
    return align16(sizeof(slot_head)) + align16(c->key_size) + align16(c->entry_size);
}
static slot_head *head_of(prim_cache *c, int i) { return (slot_head *)(c->slots + (size_t)i * slot_bytes(c)); }
static void *key_of(prim_cache *c, int i) { return (unsigned char *)head_of(c, i) + align16(sizeof(slot_head)); }
static void *entry_of(prim_cache *c, int i) { return (unsigned char *)key_of(c, i) + align16(c->key_size); }

void *prim_cache_get(prim_cache *c, const void *key) {
    pthread_mutex_lock(&c->lock);
    if (!c->slots) c->slots = xcalloc((size_t)c->capacity, slot_bytes(c));
    int victim = 0;
    for (int i = 0; i < c->capacity; i++) {
        slot_head *h = head_of(c, i);
        if (h->used && !memcmp(key_of(c, i), key, c->key_size)) {
            h->last_use = ++c->clock;
            return entry_of(c, i);
        }
        slot_head *v = head_of(c, victim);
        if (!h->used || (v->used && h->last_use < v->last_use)) victim = i;
    }
    slot_head *h = head_of(c, victim);   /* a free slot, or the least recently used one makes room */
    if (h->used) c->release(entry_of(c, victim));
    memset(entry_of(c, victim), 0, c->entry_size);
    c->build(entry_of(c, victim), key);
    memcpy(key_of(c, victim), key, c->key_size);
    h->used = true;
    h->last_use = ++c->clock;
    return entry_of(c, victim);
}

void prim_cache_done(prim_cache *c) { pthread_mutex_unlock(&c->lock); }
