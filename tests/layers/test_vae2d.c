/* test_vae2d.c: the spatial VAE over video: micro batches give the same latents and the same gradients
 * as one batch (gradients flow through every chunk), and the scaling factor is applied. */
#include <math.h>
#include <string.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "layers/vae2d.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static void small_vae(vae2d *v, int micro) {
    autoencoder_kl_config c = autoencoder_kl_config_sdxl();
    c.n_blocks = 2, c.block_out_channels[0] = 16, c.block_out_channels[1] = 32;
    c.layers_per_block = 1, c.norm_num_groups = 8;
    autoencoder_kl_init(&v->vae, &c, 5);
    v->micro_batch_size = micro;
}

typedef struct { tensor *z, *xr, *gx, *gw; } run_out;

/* loss = sum(encode(x) * r) + sum(decode(z0)^2); collects outputs and the gradients of x and one weight */
static run_out run(vae2d *v, tensor *x, tensor *z0, bool sample) {
    run_out o;
    tensor_scope_begin();
    rng_state rng = rng_seed(3);
    tensor *z = vae2d_encode(v, x, sample, &rng), *xr = vae2d_decode(v, z0);
    tensor *r = tensor_autorelease(gc_input(z->ndim, z->shape, 9));
    ag_backward(op_add(op_sum_all(op_mul(z, r)), op_sum_all(op_square(xr))));
    o.z = tensor_clone(z);
    o.xr = tensor_clone(xr);
    tensor_scope_end(NULL);
    o.gx = x->grad;
    x->grad = NULL;
    tensor *w = v->vae.enc_conv_in.w;
    o.gw = w->grad;
    w->grad = NULL;
    for (int i = 0; i < v->vae.params.n; i++) ag_zero_grad(&v->vae.params.items[i].t, 1);
    return o;
}

static void release_out(run_out *o) {
    tensor_release(o->z);
    tensor_release(o->xr);
    tensor_release(o->gx);
    tensor_release(o->gw);
}

TEST(test_vae2d_micro_batches_match_one_batch_with_gradients) {
    vae2d whole, micro;
    small_vae(&whole, 0);
    small_vae(&micro, 2);   /* 2 x 5 = 10 frames -> chunks of 2 */
    tensor *x = gc_input(SHAPE(2, 5, 8, 8, 3), 1), *z0 = gc_input(SHAPE(2, 5, 4, 4, 4), 2);
    for (int sample = 0; sample < 2; sample++) {
        run_out a = run(&whole, x, z0, sample), b = run(&micro, x, z0, sample);
        EXPECT(rel_error(b.z, a.z) < 1e-6, "latents differ with micro batches (sample %d): %.3e", sample, rel_error(b.z, a.z));
        EXPECT(rel_error(b.xr, a.xr) < 1e-6, "decoded frames differ with micro batches: %.3e", rel_error(b.xr, a.xr));
        EXPECT(b.gx && rel_error(b.gx, a.gx) < 1e-5, "input gradient differs with micro batches");
        EXPECT(b.gw && rel_error(b.gw, a.gw) < 1e-5, "weight gradient differs with micro batches");
        release_out(&a);
        release_out(&b);
    }
    tensor_release(x);
    tensor_release(z0);
    autoencoder_kl_free(&whole.vae);
    autoencoder_kl_free(&micro.vae);
}

TEST(test_vae2d_applies_scaling_factor_to_the_mean) {
    vae2d v = {0};
    small_vae(&v, 3);
    tensor *x = gc_input(SHAPE(1, 2, 8, 8, 3), 4);
    x->requires_grad = false;
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor *z = vae2d_encode(&v, x, false, NULL);
    tensor *frame1 = op_reshape(op_slice(x, 1, 1, 2), SHAPE(1, 8, 8, 3));
    tensor *mean = op_slice(autoencoder_kl_encode(&v.vae, frame1), -1, 0, 4);
    tensor *z1 = op_reshape(op_slice(z, 1, 1, 2), SHAPE(1, 4, 4, 4));
    EXPECT(rel_error(z1, op_mul_scalar(mean, 0.18215f)) < 1e-6, "z is not mean * 0.18215");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x);
    autoencoder_kl_free(&v.vae);
}
