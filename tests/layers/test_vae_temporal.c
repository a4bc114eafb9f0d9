/* test_vae_temporal.c: the temporal VAE against vaec's PyTorch reference (tests/golden/ref_temporal.py):
 * a tiny config at T in {1,4,5,9,17} with every parameter gradient, the full 309.7M config forward,
 * latent sizes for T = 1..70, checkpoint keys. */
#include <math.h>
#include <string.h>
#include <unistd.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "layers/posterior.h"
#include "layers/vae_temporal.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"

static vae_temporal_config tiny_config(void) {
    vae_temporal_config c = vae_temporal_config_default();
    c.filters = 4, c.num_res_blocks = 2, c.num_groups = 2;
    return c;
}

static void check_tiny_at(vae_temporal *m, golden_file *g, int t) {
    char k[128], label[128];
#define KEY(s) (snprintf(k, sizeof k, "t%d.%s", t, s), k)
#define LABEL(s) (snprintf(label, sizeof label, "vae_temporal.T%d_%s", t, s), label)
    tensor *x = golden_leaf(g, KEY("x"));
    tensor_scope_begin();
    tensor *moments = vae_temporal_encode(m, x);
    golden_check(LABEL("moments"), moments, g, KEY("moments"), 1e-4);
    diag_gaussian p = posterior_from_moments(moments);
    tensor *eps = tensor_autorelease(golden_get(g, KEY("eps")));
    tensor *dec = vae_temporal_decode(m, op_reparam_sample_eps(p.mean, p.logvar, eps), t);
    golden_check(LABEL("decoded"), dec, g, KEY("dec"), 1e-4);
    tensor *rm = tensor_autorelease(golden_get(g, KEY("r_moments"))), *rd = tensor_autorelease(golden_get(g, KEY("r_dec")));
    ag_backward(op_add(op_sum_all(op_mul(moments, rm)), op_sum_all(op_mul(dec, rd))));
    tensor_scope_end(NULL);
    golden_check(LABEL("grad_x"), x->grad, g, KEY("gx"), 1e-4);
    golden_check_param_grads(LABEL("param_grads"), &m->params, g, KEY("grad."), 1e-4);
    for (int i = 0; i < m->params.n; i++) ag_zero_grad(&m->params.items[i].t, 1);
    tensor_release(x);
#undef KEY
#undef LABEL
}

TEST(test_vae_temporal_tiny_matches_reference_all_lengths) {
    golden_file *g = golden_open("temporal");
    vae_temporal_config c = tiny_config();
    vae_temporal m;
    vae_temporal_init(&m, &c, 1);
    char *path = test_path("tests/golden/temporal_tiny_model.safetensors");
    EXPECT(vae_temporal_load(&m, path, "") == 0, "load: %s", vaec_last_error());
    free(path);
    int ts[] = {1, 4, 5, 9, 17};
    for (int i = 0; i < 5; i++) check_tiny_at(&m, g, ts[i]);
    vae_temporal_free(&m);
    golden_close(g);
}

TEST(test_vae_temporal_full_config_forward_matches_reference) {
    golden_file *g = golden_open("temporal");
    vae_temporal_config c = vae_temporal_config_default();
    vae_temporal m;
    vae_temporal_init(&m, &c, 1);
    tensor *count = golden_get(g, "full.param_count");
    int64_t n = params_count(&m.params), want = (int64_t)tensor_f32(count)[0] * 65536 + (int64_t)tensor_f32(count)[1];
    EXPECT(n == want, "temporal VAE has %lld parameters, the reference %lld", (long long)n, (long long)want);
    printf("    temporal VAE (default config): %lld parameters (%.1fM)\n", (long long)n, (double)n / 1e6);
    params_fill_deterministic(&m.params);
    bool prev = ag_set_grad_enabled(false);
    tensor *x = golden_get(g, "full.x");
    tensor_scope_begin();
    tensor *moments = vae_temporal_encode(&m, x);
    golden_check("vae_temporal.full_moments", moments, g, "full.moments", 1e-4);
    diag_gaussian p = posterior_from_moments(moments);
    golden_check("vae_temporal.full_decoded", vae_temporal_decode(&m, p.mean, 17), g, "full.dec", 1e-4);
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x);
    tensor_release(count);
    vae_temporal_free(&m);
    golden_close(g);
}

TEST(test_vae_temporal_latent_frames_match_encode_1_to_70) {
    vae_temporal_config c = tiny_config();
    vae_temporal m;
    vae_temporal_init(&m, &c, 2);
    bool prev = ag_set_grad_enabled(false);
    for (int t = 1; t <= 70; t++) {
        tensor_scope_begin();
        tensor *x = tensor_autorelease(tensor_zeros(SHAPE(1, t, 1, 1, 4)));
        tensor *moments = vae_temporal_encode(&m, x);
        EXPECT(moments->shape[1] == vae_temporal_latent_frames(&m, t), "T=%d: encode gives %lld latent frames, "
               "latent_frames says %lld", t, (long long)moments->shape[1], (long long)vae_temporal_latent_frames(&m, t));
        tensor *dec = vae_temporal_decode(&m, op_slice(moments, -1, 0, 4), t);
        EXPECT(dec->shape[1] == t, "T=%d: decode gives %lld frames", t, (long long)dec->shape[1]);
        tensor_scope_end(NULL);
    }
    ag_set_grad_enabled(prev);
    EXPECT(vae_temporal_latent_frames(&m, 17) == 5 && vae_temporal_latent_frames(&m, 1) == 1, "17 -> 5, 1 -> 1");
    vae_temporal_free(&m);
}

TEST(test_vae_temporal_checkpoint_round_trip_and_prefix) {
    vae_temporal_config c = tiny_config();
    vae_temporal a, b;
    vae_temporal_init(&a, &c, 3);
    vae_temporal_init(&b, &c, 4);
    char path[128];
    snprintf(path, sizeof path, "/tmp/vaec_vt_%d.safetensors", (int)getpid());
    EXPECT(vae_temporal_save(&a, path, "temporal_vae.") == 0, "save: %s", vaec_last_error());
    EXPECT(vae_temporal_load(&b, path, "") != 0 && strstr(vaec_last_error(), "has no key 'encoder.conv_in.conv.weight'"),
           "bare names must not load from a pipeline file: %s", vaec_last_error());
    EXPECT(vae_temporal_load(&b, path, "temporal_vae.") == 0, "load: %s", vaec_last_error());
    for (int i = 0; i < a.params.n; i++)
        EXPECT(memcmp(a.params.items[i].t->data, b.params.items[i].t->data, (size_t)a.params.items[i].t->numel * 4) == 0,
               "%s differs after save and load", a.params.items[i].name);
    unlink(path);
    vae_temporal_free(&a);
    vae_temporal_free(&b);
}

/* encoder and decoder each on exact inputs (see gen_temporal.py), with their input gradients */
TEST(test_vae_temporal_filters16_groups8_matches_reference) {
    golden_file *g = golden_open("temporal");
    vae_temporal_config c = vae_temporal_config_default();
    c.filters = 16, c.num_res_blocks = 2, c.num_groups = 8;
    vae_temporal m;
    vae_temporal_init(&m, &c, 1);
    params_fill_deterministic(&m.params);
    tensor *x = golden_leaf(g, "mid.x"), *z = golden_leaf(g, "mid.z");
    tensor_scope_begin();
    tensor *moments = vae_temporal_encode(&m, x);
    golden_check("vae_temporal.f16_moments", moments, g, "mid.moments", 1e-4);
    tensor *dec = vae_temporal_decode(&m, z, 17);
    golden_check("vae_temporal.f16_decoded", dec, g, "mid.dec", 1e-4);
    ag_backward(op_add(op_sum_all(op_mul(moments, tensor_autorelease(golden_get(g, "mid.r_moments")))),
                       op_sum_all(op_mul(dec, tensor_autorelease(golden_get(g, "mid.r_dec"))))));
    tensor_scope_end(NULL);
    golden_check("vae_temporal.f16_grad_x", x->grad, g, "mid.gx", 1e-4);
    golden_check("vae_temporal.f16_grad_z", z->grad, g, "mid.gz", 1e-4);
    tensor_release(x);
    tensor_release(z);
    vae_temporal_free(&m);
    golden_close(g);
}
