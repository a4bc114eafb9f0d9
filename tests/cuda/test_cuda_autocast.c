/* test_cuda_autocast.c: bf16 autocast on CUDA against the CPU (core/autocast.h): op_cast's rounding bit
 * for bit; conv2d, conv3d, matmul, linear and attention under autocast (cuDNN / cuBLAS bf16 with float32
 * sums; the CPU's oneDNN bf16 kernels) within 1e-2 of the largest value (both sides round each result to
 * bf16 once, from float32 sums taken in another order: a value can land one bf16 unit, 2^-7, away); and one
 * bf16 training step of the tiny stage-1 pipeline (frozen spatial VAE held in bf16) on both devices: loss
 * within 2e-2, every gradient within 0.15 of the model's largest gradient (the devices round in different
 * places, which on this model moves gradients as much as bf16 against float32 does: tests/train/
 * test_bf16_step.c holds that to 2x PyTorch's own autocast error, 2 x 0.077). Skipped, loudly, without a GPU. */
#include <math.h>
#include "autograd/autograd.h"         // defines: ag_set_grad_enabled
#include "core/autocast.h"             // defines: autocast_set
#include "core/ops.h"                  // defines: op_conv2d, op_conv3d, op_matmul, op_linear, op_attention
#include "core/ops/cast.h"             // defines: op_cast
#include "tests/harness/conv_case.h"   // defines: conv_case, conv_case_fn, conv_case_inputs
#include "tests/harness/cuda_twin.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/precision.h"           // defines: precision_hold_frozen_bf16
#include "train/step.h"                // defines: train_forward_backward

static tensor *cast_round_trip(void *c, tensor **in) { return op_cast(op_cast(in[0], DTYPE_BF16), DTYPE_F32); }

/* f under autocast: the closure switches it on for its own run on each device; f's bf16 result (as
   torch.autocast returns) is widened so that the twins compare float32 */
typedef struct { gc_fn f; void *ctx; } autocast_closure;
static tensor *under_autocast(void *c, tensor **in) {
    const autocast_closure *a = c;
    bool prev = autocast_set(true);
    tensor *y = a->f(a->ctx, in);
    autocast_set(prev);
    return op_cast(y, DTYPE_F32);
}

static tensor *matmul_nt(void *c, tensor **in) { return op_matmul(in[0], in[1], false, true); }
static tensor *linear_fn(void *c, tensor **in) { return op_linear(in[0], in[1], in[2]); }
static tensor *attention_fn(void *c, tensor **in) { return op_attention(in[0], in[1], in[2], 0.125f); }

TEST(test_cuda_cast_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *x = gc_input(SHAPE(3, 70001), 3);   /* more than one block of the conversion kernels */
    cuda_twin_check("cuda_cast.round_trip", cast_round_trip, NULL, 1, (tensor *[]){x}, &(cuda_twin_opts){.tol = 0});
    tensor_release(x);
}

TEST(test_cuda_autocast_ops_match_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    const cuda_twin_opts bf = {.tol = 1e-2};
    static const conv_case convs[] = {
        {"downsample", 2, {2, 12, 9, 16}, 16, {1, 3, 3}, {1, 2, 2}, {0, 0, 0, 1, 0, 1}, 1},
        {"causal_3x3x3", 3, {2, 5, 6, 6, 16}, 32, {3, 3, 3}, {1, 1, 1}, {2, 0, 1, 1, 1, 1}, 1},
    };
    for (int i = 0; i < 2; i++) {
        tensor *in[3];
        conv_case_inputs(&convs[i], 800 + 3 * i, 0.2f, in);
        autocast_closure a = {conv_case_fn, (void *)&convs[i]};
        char label[64];
        snprintf(label, sizeof label, "cuda_autocast.%s", convs[i].name);
        cuda_twin_check(label, under_autocast, &a, 3, in, &bf);
        for (int j = 0; j < 3; j++) tensor_release(in[j]);
    }
    tensor *a = gc_input(SHAPE(3, 33, 70), 41), *b = gc_input(SHAPE(3, 17, 70), 42);
    cuda_twin_check("cuda_autocast.matmul_nt", under_autocast, &(autocast_closure){matmul_nt, NULL}, 2,
                    (tensor *[]){a, b}, &bf);
    tensor_release(a), tensor_release(b);
    tensor *x = gc_input(SHAPE(2, 150, 64), 43), *w = gc_input_scaled(SHAPE(96, 64), 44, 0.2f), *bias = gc_input(SHAPE(96), 45);
    cuda_twin_check("cuda_autocast.linear", under_autocast, &(autocast_closure){linear_fn, NULL}, 3,
                    (tensor *[]){x, w, bias}, &bf);
    tensor_release(x), tensor_release(w), tensor_release(bias);
    tensor *q = gc_input(SHAPE(2, 64, 64), 46), *k = gc_input(SHAPE(2, 48, 64), 47), *v = gc_input(SHAPE(2, 48, 64), 48);
    cuda_twin_check("cuda_autocast.attention", under_autocast, &(autocast_closure){attention_fn, NULL}, 3,
                    (tensor *[]){q, k, v}, &bf);
    tensor_release(q), tensor_release(k), tensor_release(v);
}

/* one bf16 step of the tiny stage-1 pipeline on dev; the trained gradients copied to the CPU */
static step_result bf16_step(device_t dev, tensor **grads, int *n) {
    vae_pipeline p;
    tiny_pipeline_init(&p, 17, 1);
    tiny_pipeline_load_golden(&p);
    p.freeze_vae_2d = true;
    vae_pipeline_setup(&p);
    params_to_device(&p.spatial.vae.params, dev);
    params_to_device(&p.temporal.params, dev);
    precision_hold_frozen_bf16(&p.spatial.vae.params);
    vae_loss l;
    vae_loss_init(&l, VAE_REC_L1, VAE_REDUCE_UPSTREAM, 1e-6f, false);
    tensor_move_(l.logvar, dev);
    golden_file *g = golden_open("stage1");
    tensor *x = golden_get(g, "x0");
    tensor_move_(x, dev);
    step_config c = {.use_z_rec_loss = true, .use_image_identity_loss = true, .grad_clip = 1.0f, .bf16 = true};
    step_result r = train_forward_backward(&p, &l, &c, x, NULL);
    *n = p.temporal.params.n;
    for (int i = 0; i < *n; i++) grads[i] = tensor_to(p.temporal.params.items[i].t->grad, DEVICE_CPU);
    tensor_release(x);
    golden_close(g);
    vae_loss_free(&l);
    tiny_pipeline_free(&p);
    return r;
}

TEST(test_cuda_train_bf16_step_matches_cpu) {
    CUDA_TWIN_REQUIRE_GPU();
    tensor *gc[256], *gg[256];
    int nc, ng;
    step_result rc = bf16_step(DEVICE_CPU, gc, &nc), rg = bf16_step(DEVICE_CUDA, gg, &ng);
    EXPECT(nc == ng, "different parameter counts");
    EXPECT(fabs(rc.loss - rg.loss) <= 2e-2 * fabs(rc.loss), "bf16 loss: cpu %.8g cuda %.8g", rc.loss, rg.loss);
    double scale = 0, worst = 0;
    for (int i = 0; i < nc; i++)
        for (int64_t j = 0; j < gc[i]->numel; j++) scale = fmax(scale, fabs(tensor_f32(gc[i])[j]));
    for (int i = 0; i < nc; i++) {
        double d = 0;
        for (int64_t j = 0; j < gc[i]->numel; j++) d = fmax(d, fabs(tensor_f32(gc[i])[j] - tensor_f32(gg[i])[j]));
        worst = fmax(worst, d / scale);
        tensor_release(gc[i]);
        tensor_release(gg[i]);
    }
    printf("    bf16 step, cuda vs cpu: loss %.6f / %.6f, worst gradient difference %.2e of the largest gradient\n",
           rg.loss, rc.loss, worst);
    EXPECT(worst <= 0.15, "bf16 gradients differ between the devices by %.3g of the largest gradient", worst);
    test_note_error("cuda_train_bf16_vs_cpu", worst);
}
