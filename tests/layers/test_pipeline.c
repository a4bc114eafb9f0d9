/* test_pipeline.c: the VideoAutoencoderPipeline against vaec's PyTorch reference (cal_loss outputs and
 * every gradient, with micro-frame chunking), latent sizes for T = 1..70, freezing the spatial VAE. */
#include <string.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "layers/pipeline.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"
#include "train/video_io.h"
#include <stdlib.h>
#include <sys/wait.h>
#include "core/safetensors.h"

static void tiny_pipeline(vae_pipeline *p, int micro_frame_size) { tiny_pipeline_init(p, micro_frame_size, 1); }
static void free_pipeline(vae_pipeline *p) { tiny_pipeline_free(p); }

TEST(test_pipeline_cal_loss_matches_reference_with_gradients) {
    golden_file *g = golden_open("pipeline");
    vae_pipeline p;
    tiny_pipeline(&p, 5);
    tiny_pipeline_load_golden(&p);
    tensor *x = golden_leaf(g, "x");
    tensor_scope_begin();
    pipeline_output o = vae_pipeline_forward(&p, x, NULL);
    const char *names[6] = {"x_rec", "x_z_rec", "z", "mean", "logvar", "x_z"};
    tensor *outs[6] = {o.x_rec, o.x_z_rec, o.z, o.posterior.mean, o.posterior.logvar, o.x_z};
    tensor *loss = NULL;
    for (int i = 0; i < 6; i++) {
        char label[64], rk[64];
        snprintf(label, sizeof label, "pipeline.%s", names[i]);
        golden_check(label, outs[i], g, names[i], 1e-4);
        snprintf(rk, sizeof rk, "r_%s", names[i]);
        tensor *term = op_sum_all(op_mul(outs[i], tensor_autorelease(golden_get(g, rk))));
        loss = loss ? op_add(loss, term) : term;
    }
    ag_backward(loss);
    tensor_scope_end(NULL);
    golden_check("pipeline.grad_x", x->grad, g, "gx", 1e-4);
    golden_check_param_grads("pipeline.spatial_param_grads", &p.spatial.vae.params, g, "grad.spatial_vae.module.", 1e-4);
    golden_check_param_grads("pipeline.temporal_param_grads", &p.temporal.params, g, "grad.temporal_vae.", 1e-4);
    tensor_release(x);
    free_pipeline(&p);
    golden_close(g);
}

TEST(test_pipeline_latent_size_matches_encode_1_to_70) {
    int64_t examples[][2] = {{17, 5}, {1, 1}, {33, 9}, {51, 15}, {68, 20}};
    bool prev = ag_set_grad_enabled(false);
    for (int micro = 0; micro < 2; micro++) {
        vae_pipeline p;
        tiny_pipeline(&p, micro ? 17 : 0);
        for (int t = 1; t <= 70; t++) {
            int64_t in[3] = {t, 2, 2}, out[3];
            vae_pipeline_latent_size(&p, in, out);
            tensor_scope_begin();
            tensor *x = tensor_autorelease(tensor_zeros(SHAPE(1, t, 2, 2, 3)));
            pipeline_encoded e = vae_pipeline_encode(&p, x, NULL);
            EXPECT(e.z->shape[1] == out[0] && e.z->shape[2] == out[1], "T=%d micro %d: encode gives %lld latent frames, "
                   "latent_size %lld", t, micro, (long long)e.z->shape[1], (long long)out[0]);
            tensor *xr = vae_pipeline_decode(&p, e.z, t, NULL);
            EXPECT(xr->shape[1] == t, "T=%d micro %d: decode gives %lld frames", t, micro, (long long)xr->shape[1]);
            tensor_scope_end(NULL);
        }
        for (int i = 0; micro && i < 5; i++) {
            int64_t in[3] = {examples[i][0], 256, 256}, out[3];
            vae_pipeline_latent_size(&p, in, out);
            EXPECT(out[0] == examples[i][1], "latent frames of %lld: %lld, expected %lld", (long long)examples[i][0],
                   (long long)out[0], (long long)examples[i][1]);
        }
        free_pipeline(&p);
    }
    ag_set_grad_enabled(prev);
}

TEST(test_pipeline_frozen_spatial_records_nothing_and_gets_no_grad) {
    vae_pipeline p;
    tiny_pipeline(&p, 5);
    p.freeze_vae_2d = true;
    vae_pipeline_setup(&p);
    tensor *x = tensor_zeros(SHAPE(1, 5, 8, 8, 3));
    tensor_scope_begin();
    tensor *x_z = vae2d_encode(&p.spatial, x, false, NULL);
    EXPECT(ag_tape_size() == 0 && !x_z->requires_grad, "a frozen spatial VAE recorded %d nodes", ag_tape_size());
    pipeline_output o = vae_pipeline_forward(&p, x, NULL);
    ag_backward(op_add(op_sum_all(op_square(o.x_z_rec)), op_sum_all(o.z)));
    tensor_scope_end(NULL);
    for (int i = 0; i < p.spatial.vae.params.n; i++)
        EXPECT(p.spatial.vae.params.items[i].t->grad == NULL, "frozen %s got a gradient", p.spatial.vae.params.items[i].name);
    EXPECT(p.temporal.enc_conv_in.conv.w->grad != NULL, "the temporal VAE got no gradient");
    EXPECT(vae_pipeline_temporal_last_layer(&p) == p.temporal.dec_conv_out.conv.w, "temporal last layer");
    tensor_release(x);
    free_pipeline(&p);
}

TEST(test_pipeline_shift_scale_round_trip_without_cal_loss) {
    vae_pipeline p;
    tiny_pipeline(&p, 5);
    bool prev = ag_set_grad_enabled(false);
    tensor *x = gc_input_scaled(SHAPE(1, 9, 8, 8, 3), 3, 0.5f);
    tensor_scope_begin();
    pipeline_encoded raw = vae_pipeline_encode(&p, x, NULL);
    p.cal_loss = false;
    pipeline_encoded norm = vae_pipeline_encode(&p, x, NULL);
    /* (z - shift) / scale on every channel */
    tensor *want = op_div(op_sub(raw.z, tensor_autorelease(tensor_from_data(SHAPE(4), p.shift))),
                          tensor_autorelease(tensor_from_data(SHAPE(4), p.scale)));
    EXPECT(rel_error(norm.z, want) < 1e-6, "normalised latents: %.3e", rel_error(norm.z, want));
    tensor *a = vae_pipeline_decode(&p, norm.z, 9, NULL);
    p.cal_loss = true;
    tensor *b = vae_pipeline_decode(&p, raw.z, 9, NULL);
    EXPECT(rel_error(a, b) < 1e-5, "decode of normalised latents differs: %.3e", rel_error(a, b));
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x);
    free_pipeline(&p);
}

/* vaec saves a pipeline checkpoint; vaec's PyTorch reference of Open-Sora's pipeline (Open-Sora's key
   names) loads it strictly and computes the same outputs. Needs VAEC_PYTHON with torch and diffusers. */
TEST(test_pipeline_saved_checkpoint_loads_in_pytorch_reference) {
    vae_pipeline p;
    tiny_pipeline(&p, 5);
    char ck[128], io[128];
    snprintf(ck, sizeof ck, "/tmp/vaec_pipe_%d.safetensors", (int)getpid());
    snprintf(io, sizeof io, "/tmp/vaec_pipe_io_%d.safetensors", (int)getpid());
    EXPECT(vae_pipeline_save(&p, ck) == 0, "save: %s", vaec_last_error());
    bool prev = ag_set_grad_enabled(false);
    tensor *x = gc_input_scaled(SHAPE(1, 9, 8, 8, 3), 4, 0.5f);
    tensor_scope_begin();
    pipeline_output o = vae_pipeline_forward(&p, x, NULL);
    st_writer *w = st_writer_new();
    st_writer_add(w, "x", tensor_autorelease(channels_first_to_torch(x)), DTYPE_F32);
    st_writer_add(w, "x_rec", tensor_autorelease(channels_first_to_torch(o.x_rec)), DTYPE_F32);
    st_writer_add(w, "z", tensor_autorelease(channels_first_to_torch(o.z)), DTYPE_F32);
    EXPECT(st_writer_save(w, io) == 0, "io: %s", vaec_last_error());
    st_writer_free(w);
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    char out[4096], args[300];
    snprintf(args, sizeof args, "%s %s", ck, io);
    int code = test_run_python("check_opensora_load.py", args, out, sizeof out);
    unlink(ck);
    unlink(io);
    tensor_release(x);
    free_pipeline(&p);
    if (code == 77 || code == 127) TEST_SKIP("Open-Sora naming round trip: no Python with torch and diffusers (set VAEC_PYTHON)");
    printf("%s", out);
    EXPECT(code == 0, "the PyTorch reference could not load vaec's pipeline checkpoint or disagrees:\n%s", out);
}
