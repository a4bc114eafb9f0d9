/* test_cuda_mem.c: the caching allocator on the GPU and the compute stream's ordering; skipped
 * loudly where no GPU is visible. */
#include <string.h>
#include "core/mem.h"
#include "core/tensor.h"
#include "tests/harness/test.h"

#define REQUIRE_GPU()                                                                                      \
    do {                                                                                                   \
        if (!device_cuda_compiled()) TEST_SKIP("CUDA: this build has no CUDA backend (no nvcc at configure time)"); \
        if (!device_cuda_available()) TEST_SKIP("CUDA: compiled in, but no GPU is visible on this machine"); \
    } while (0)

/* One "training step" worth of allocations: the same shapes each time. */
static void fake_step(void) {
    tensor *a = tensor_new(SHAPE(64, 1024), DTYPE_F32, DEVICE_CUDA);
    tensor *b = tensor_new(SHAPE(3, 77), DTYPE_F32, DEVICE_CUDA);
    tensor *c = tensor_new(SHAPE(1 << 20), DTYPE_F32, DEVICE_CUDA);
    tensor_release(a);
    tensor_release(b);
    tensor_release(c);
}

TEST(test_cuda_mem_second_step_allocates_nothing_new) {
    REQUIRE_GPU();
    fake_step();
    mem_stats s1, s2;
    mem_get_stats(DEVICE_CUDA, &s1);
    fake_step();
    fake_step();
    mem_get_stats(DEVICE_CUDA, &s2);
    EXPECT(s2.misses == s1.misses, "steps 2 and 3 called cudaMalloc %llu times (expected 0)",
           (unsigned long long)(s2.misses - s1.misses));
    EXPECT(s2.hits >= s1.hits + 6, "cache hits went from %llu to %llu", (unsigned long long)s1.hits,
           (unsigned long long)s2.hits);
    EXPECT(s2.reserved == s1.reserved, "reserved CUDA memory grew from %zu to %zu", s1.reserved, s2.reserved);
}

TEST(test_cuda_mem_tags_and_report) {
    REQUIRE_GPU();
    mem_stats before, during;
    mem_get_stats(DEVICE_CUDA, &before);
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    tensor *p = tensor_new(SHAPE(1000), DTYPE_F32, DEVICE_CUDA);
    mem_set_tag(prev);
    mem_get_stats(DEVICE_CUDA, &during);
    EXPECT(during.in_use[MEM_PARAMS] >= before.in_use[MEM_PARAMS] + 4000, "parameters in use did not grow on CUDA");
    EXPECT(during.peak[MEM_PARAMS] >= during.in_use[MEM_PARAMS], "peak below in use");
    char buf[4096] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    mem_report(f);
    fclose(f);
    EXPECT(strstr(buf, "memory on cuda") != NULL, "mem_report has no CUDA table:\n%s", buf);
    tensor_release(p);
}

/* Copies, memsets and kernels share one stream: a fill, an accumulate and a copy back must see each
   other's results in order, with no explicit synchronisation in between. */
TEST(test_cuda_stream_orders_fill_add_copy) {
    REQUIRE_GPU();
    int64_t n = 1 << 22;
    tensor *a = tensor_new(SHAPE(n), DTYPE_F32, DEVICE_CUDA);
    tensor *b = tensor_new(SHAPE(n), DTYPE_F32, DEVICE_CUDA);
    tensor_fill(a, 1.5f);
    tensor_fill(b, 2.0f);
    for (int i = 0; i < 3; i++) tensor_add_(a, b);
    tensor *z = tensor_zeros_like(b);
    tensor_add_(a, z);
    tensor *h = tensor_to(a, DEVICE_CPU);
    const float *d = tensor_f32(h);
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++) bad += d[i] != 7.5f;
    EXPECT(bad == 0, "%lld of %lld elements are not 1.5 + 3*2 = 7.5 (first: %g)", (long long)bad, (long long)n, d[0]);
    tensor_release(a);
    tensor_release(b);
    tensor_release(z);
    tensor_release(h);
}
