/* test_mem.c: the caching allocator reuses blocks and accounts per tag. */
#include "core/mem.h"
#include "core/tensor.h"
#include "tests/harness/test.h"

TEST(test_mem_cache_reuses_blocks_in_a_loop) {
    /* a "training loop" with fixed shapes: after the first iteration every allocation is a cache hit */
    for (int it = 0; it < 3; it++) {
        mem_stats before;
        mem_get_stats(DEVICE_CPU, &before);
        tensor_scope_begin();
        for (int k = 0; k < 20; k++) tensor_autorelease(tensor_empty(SHAPE(3, 100 + k, 50)));
        tensor_scope_end(NULL);
        mem_stats after;
        mem_get_stats(DEVICE_CPU, &after);
        if (it > 0) EXPECT(after.misses == before.misses, "iteration %d: %llu new system allocations", it,
                           (unsigned long long)(after.misses - before.misses));
    }
}

TEST(test_mem_tags_account_per_part) {
    mem_stats s0, s1, s2;
    mem_get_stats(DEVICE_CPU, &s0);
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *p = tensor_empty(SHAPE(1000, 1000));
    mem_set_tag(prev);
    mem_get_stats(DEVICE_CPU, &s1);
    EXPECT(s1.in_use[MEM_PARAMS] - s0.in_use[MEM_PARAMS] >= 4000000, "parameters not accounted");
    EXPECT(s1.in_use[MEM_ACTIVATIONS] == s0.in_use[MEM_ACTIVATIONS], "parameter counted as activation");
    tensor_release(p);
    mem_get_stats(DEVICE_CPU, &s2);
    EXPECT(s2.in_use[MEM_PARAMS] == s0.in_use[MEM_PARAMS], "parameters not returned");
    EXPECT(s2.peak[MEM_PARAMS] >= s1.in_use[MEM_PARAMS], "peak not kept");
    FILE *f = tmpfile();
    mem_report(f);
    long n = ftell(f);
    fclose(f);
    EXPECT(n > 100, "empty memory report");
}

TEST(test_mem_size_classes_bound_slack) {
    for (size_t bytes = 1; bytes < (1u << 26); bytes = bytes * 3 + 7) {
        mem_block *b = mem_alloc(bytes, DEVICE_CPU);
        EXPECT(b->bytes >= bytes, "class %zu below request %zu", b->bytes, bytes);
        EXPECT(bytes < 4096 || b->bytes <= bytes + bytes / 4 + 1, "class %zu too loose for %zu", b->bytes, bytes);
        mem_block_release(b);
    }
}

/* a phase that frees big blocks of one size, then a phase asking for other sizes: the cache hands the
   unused ones back, so what the process holds (reserved) stays near what is in use */
TEST(test_mem_cache_bounded_across_phases) {
    mem_set_cache_limit((size_t)8 << 20);
    mem_block *a[4];
    for (int i = 0; i < 4; i++) a[i] = mem_alloc((size_t)10 << 20, DEVICE_CPU);   /* phase 1: 4 x 10 MiB */
    for (int i = 0; i < 4; i++) mem_block_release(a[i]);
    mem_stats s0;
    mem_get_stats(DEVICE_CPU, &s0);
    EXPECT(s0.cached >= ((size_t)40 << 20), "released blocks not cached: %zu", s0.cached);
    mem_block *b = mem_alloc((size_t)3 << 20, DEVICE_CPU);   /* phase 2: another size, a miss */
    mem_stats s1;
    mem_get_stats(DEVICE_CPU, &s1);
    EXPECT(s1.cached <= ((size_t)8 << 20), "cache kept %zu bytes beyond its 8 MiB bound", s1.cached);
    EXPECT(s1.trimmed >= s0.trimmed + ((size_t)32 << 20), "trimmed %zu bytes", s1.trimmed - s0.trimmed);
    mem_block_release(b);
    /* hits never trim: the same size again comes from the cache */
    mem_block *c = mem_alloc((size_t)3 << 20, DEVICE_CPU);
    mem_stats s2;
    mem_get_stats(DEVICE_CPU, &s2);
    EXPECT(s2.hits == s1.hits + 1 && s2.trimmed == s1.trimmed, "a cache hit trimmed or missed");
    mem_block_release(c);
    mem_set_cache_limit(0);
}

/* past the limit: the tensor's shape, dtype and tag, the limit and the use per tag are named, and the run stops */
static void allocate_past_the_limit(void *ctx) {
    (void)ctx;
    mem_empty_cache();   /* 8 MiB above what the suite holds already */
    mem_stats s;
    mem_get_stats(DEVICE_CPU, &s);
    mem_set_limit(DEVICE_CPU, s.reserved + (8u << 20));
    mem_tag prev = mem_set_tag(MEM_GRADS);
    tensor *a = tensor_zeros(SHAPE(1024, 1024));   /* 4 MiB: fits */
    tensor *b = tensor_zeros(SHAPE(3, 1024, 1024));   /* 12 MiB more: does not */
    mem_set_tag(prev);
    tensor_release(a), tensor_release(b);
}

TEST(test_mem_limit_names_the_tensor_and_the_totals) {
    const char *parts[] = {"out of memory: a (3,1024,1024) F32 tensor (12582912 bytes, tag gradients)",
                           "MiB ([train] max_memory); in use ", "(activations ", "---> HINT: use a smaller batch"};
    for (int i = 0; i < 4; i++)
        EXPECT(test_expect_fatal(allocate_past_the_limit, NULL, parts[i]), "the message lacks '%s'", parts[i]);
    /* within the limit nothing changes; a limit of 0 is none */
    mem_set_limit(DEVICE_CPU, 64u << 20);
    tensor *t = tensor_zeros(SHAPE(1024, 1024));
    EXPECT(t && tensor_f32(t)[1024 * 1024 - 1] == 0.0f, "a tensor within the limit");
    tensor_release(t);
    mem_set_limit(DEVICE_CPU, 0);
}
