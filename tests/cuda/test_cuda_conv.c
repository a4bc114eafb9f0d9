/* test_cuda_conv.c: conv2d and conv3d on CUDA (cuDNN) against the CPU: forward output and the gradients of
 * x, w and b, on the shapes of tests/ops/test_conv.c (odd sizes, stride 2, Downsample2D's asymmetric
 * (0,1,0,1) pad, the causal front time pad with time stride 2, 1x1) plus model-sized channel counts; the
 * backward passes must be bit-identical from one run to the next; bf16 convs (tensor cores, fp32 gradients)
 * within 1e-2 of fp32 on the CPU. Skipped, loudly, without a GPU (bf16 on the CPU itself, and the refusal
 * of mixed dtypes: tests/ops/test_bf16_cpu.c). */
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/test.h"


static const conv_case cases[] = {
    {"c2_3x3", 2, {2, 5, 7, 3}, 4, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_s2", 2, {1, 7, 6, 4}, 5, {1, 3, 3}, {1, 2, 2}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_down_even", 2, {2, 6, 6, 3}, 4, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"c2_down_odd", 2, {1, 7, 5, 3}, 4, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"c2_1x1", 2, {2, 3, 5, 6}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 1},
    {"c2_1x1_nob", 2, {2, 3, 5, 6}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"c2_one", 2, {1, 3, 3, 3}, 5, {1, 3, 3}, {1, 1, 1}, {0}, 1},
    {"c2_big", 2, {1, 16, 16, 32}, 32, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_wide", 2, {2, 24, 20, 128}, 128, {1, 3, 3}, {1, 1, 1}, {0, 0, 1, 1, 1, 1}, 1},
    {"c2_down_wide", 2, {1, 32, 32, 64}, 64, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
    {"c3_causal", 3, {1, 4, 5, 4, 3}, 5, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 0},
    {"c3_ts2_t5", 3, {2, 5, 4, 3, 3}, 4, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"c3_ts2_t4", 3, {1, 4, 3, 3, 4}, 4, {3, 3, 3}, {2, 1, 1}, {1, 0, 1, 1, 1, 1}, 1},
    {"c3_1x1", 3, {2, 3, 2, 3, 5}, 3, {1, 1, 1}, {1, 1, 1}, {0}, 0},
    {"c3_big", 3, {1, 5, 8, 8, 16}, 16, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    {"c3_wide", 3, {1, 9, 12, 12, 64}, 64, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    {"c3_sym_t", 3, {1, 4, 6, 5, 8}, 8, {3, 3, 3}, {1, 2, 1}, {1, 1, 1, 1, 1, 1}, 1},
};

static void twin_cases(int dims) {
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const conv_case *c = &cases[i];
        if (c->dims != dims) continue;
        tensor *in[3];
        conv_case_inputs(c, 300 + i * 3, 0.3f, in);
        char label[64];
        snprintf(label, sizeof label, "cuda_conv.%s", c->name);
        cuda_twin_check(label, conv_case_fn, (void *)c, c->bias ? 3 : 2, in, NULL);
        for (int j = 0; j < 3; j++) tensor_release(in[j]);
    }
}

TEST(test_cuda_conv2d_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    twin_cases(2);
}

TEST(test_cuda_conv3d_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    twin_cases(3);
}

/* backward on the GPU twice from the same inputs: every gradient equal bit for bit */
/* the GPU, or the CPU when VAEC_CUDA_TWIN_ON_CPU=1 checks the tests without one */
static device_t twin_device(void) { return device_cuda_available() ? DEVICE_CUDA : DEVICE_CPU; }

static void grads_on_gpu(const conv_case *c, tensor **cpu_in, tensor **grads) {
    tensor *in[3];
    for (int j = 0; j < 3; j++) {
        in[j] = tensor_to(cpu_in[j], twin_device());
        in[j]->requires_grad = true;
    }
    tensor_scope_begin();
    tensor *y = conv_case_fn((void *)c, in);
    tensor *gy_cpu = tensor_autorelease(gc_input(y->ndim, y->shape, 77));
    ag_backward_with_grad(y, tensor_autorelease(tensor_to(gy_cpu, twin_device())));
    tensor_scope_end(NULL);
    for (int j = 0; j < 3; j++) {
        grads[j] = tensor_to(in[j]->grad, DEVICE_CPU);
        tensor_release(in[j]);
    }
}

TEST(test_cuda_conv_backward_is_deterministic) {
    CUDA_TWIN_REQUIRE_GPU();
    const conv_case *picks[] = {&cases[8], &cases[15], &cases[9]};   /* wide 2-D, wide causal 3-D, strided pad */
    for (int p = 0; p < 3; p++) {
        tensor *in[3], *g1[3], *g2[3];
        conv_case_inputs(picks[p], 900 + p, 0.3f, in);
        grads_on_gpu(picks[p], in, g1);
        grads_on_gpu(picks[p], in, g2);
        for (int j = 0; j < 3; j++) {
            EXPECT(memcmp(tensor_f32(g1[j]), tensor_f32(g2[j]), (size_t)g1[j]->numel * sizeof(float)) == 0,
                   "conv %s: gradient %d differs between two identical GPU runs", picks[p]->name, j);
            tensor_release(g1[j]);
            tensor_release(g2[j]);
            tensor_release(in[j]);
        }
    }
}

/* bf16 x, w, b on the GPU (fp32 gradients) against fp32 on the CPU, within 1e-2 */
TEST(test_cuda_conv_bf16_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    const conv_case *picks[] = {&cases[0], &cases[3], &cases[8], &cases[9], &cases[11], &cases[15]};
    for (int p = 0; p < 6; p++) {
        tensor *in[3];
        conv_case_inputs(picks[p], 700 + p * 3, 0.3f, in);
        char label[64];
        snprintf(label, sizeof label, "cuda_conv_bf16.%s", picks[p]->name);
        cuda_twin_check(label, conv_case_fn, (void *)picks[p], picks[p]->bias ? 3 : 2, in,
                        &(cuda_twin_opts){.tol = 1e-2, .dtype = DTYPE_BF16});
        for (int j = 0; j < 3; j++) tensor_release(in[j]);
    }
}
