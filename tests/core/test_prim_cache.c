/* test_prim_cache.c: the primitive cache (core/cpu/prim_cache.c): a hit returns the entry built for the
 * key without building again; a miss in a full cache releases the least recently used entry. */
#include "core/cpu/prim_cache.h"   // defines: prim_cache, prim_cache_get
#include "tests/harness/test.h"

typedef struct { int v; } toy_key;
typedef struct { int built_from, alive; } toy_entry;
static int builds, releases;

static void toy_build(toy_entry *e, const toy_key *k) { e->built_from = k->v, e->alive = 1, builds++; }
static void toy_release(toy_entry *e) { e->alive = 0, releases++; }

TEST(test_prim_cache_hits_and_evicts_least_recent) {
    static prim_cache c = PRIM_CACHE_INIT(toy_key, toy_entry, 2, toy_build, toy_release);
    toy_key a = {1}, b = {2}, d = {3};
    toy_entry *e = prim_cache_get(&c, &a);
    EXPECT(e->built_from == 1 && builds == 1, "first get of key 1 builds it");
    prim_cache_done(&c);
    prim_cache_get(&c, &b), prim_cache_done(&c);
    e = prim_cache_get(&c, &a);   /* hit: key 1 is now the most recent, key 2 the least */
    EXPECT(e->built_from == 1 && builds == 2 && releases == 0, "a hit built again (%d builds)", builds);
    prim_cache_done(&c);
    e = prim_cache_get(&c, &d);   /* full: key 2 goes */
    EXPECT(e->built_from == 3 && builds == 3 && releases == 1, "miss in a full cache: %d builds, %d releases", builds,
           releases);
    prim_cache_done(&c);
    e = prim_cache_get(&c, &a);
    EXPECT(e->built_from == 1 && builds == 3, "key 1 (recently used) was evicted instead of key 2");
    prim_cache_done(&c);
    e = prim_cache_get(&c, &b);
    EXPECT(e->built_from == 2 && builds == 4 && releases == 2, "key 2 should be built again after its eviction");
    prim_cache_done(&c);
}
