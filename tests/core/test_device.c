/* test_device.c: CUDA memory round trip; skipped loudly where no GPU is visible. */
#include <string.h>
#include "core/tensor.h"
#include "tests/harness/test.h"

TEST(test_device_cuda_round_trip) {
    if (!device_cuda_compiled()) TEST_SKIP("CUDA: this build has no CUDA backend (no nvcc at configure time)");
    if (!device_cuda_available()) TEST_SKIP("CUDA: compiled in, but no GPU is visible on this machine");
    tensor *a = tensor_from_data(SHAPE(2, 3), (float[]){1, 2, 3, 4, 5, 6});
    tensor *d = tensor_to(a, DEVICE_CUDA);
    EXPECT(d->device == DEVICE_CUDA, "not on cuda");
    tensor *z = tensor_zeros_like(d);
    tensor_copy_(z, d);
    tensor *back = tensor_to(z, DEVICE_CPU);
    EXPECT(memcmp(back->data, a->data, 24) == 0, "round trip through the GPU changed the data");
    tensor_release(a);
    tensor_release(d);
    tensor_release(z);
    tensor_release(back);
}

static void cuda_op_on_cpu_build(void *ctx) {
    (void)ctx;
    tensor *a = tensor_new(SHAPE(2), DTYPE_F32, DEVICE_CUDA);
    tensor_release(a);
}

TEST(test_device_cuda_request_without_gpu_is_a_clear_error) {
    if (device_cuda_available()) TEST_SKIP("a GPU is visible: the no-GPU error path cannot be exercised here");
    EXPECT(test_expect_fatal(cuda_op_on_cpu_build, NULL, "CUDA tensor was requested"),
           "asking for a CUDA tensor without a GPU must fail clearly");
}
