/* test_vae2d_tiling.c: spatial tiling of the SDXL VAE against diffusers' own enable_tiling() (golden
 * tests/golden/tiling.safetensors from gen_tiling.py), and tiling that must change nothing. */
#include <stdlib.h>
#include "autograd/autograd.h"
#include "core/ops.h"
#include "core/safetensors.h"
#include "layers/vae2d.h"
#include "layers/vae2d_tiling.h"
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "tests/harness/tiny_models.h"

TEST(test_vae2d_tiled_encode_decode_match_diffusers_tiling) {
    vae_pipeline p;
    tiny_pipeline_init(&p, 0, 0);
    tiny_pipeline_load_golden(&p);
    char *path = test_path("tests/golden/tiling.safetensors");
    st_file *f = st_open(path);
    EXPECT(f, "open %s: %s", path, vaec_last_error());
    free(path);
    if (!f) { tiny_pipeline_free(&p); return; }
    tensor *x = st_load_checked(f, "x"), *want_m = st_load_checked(f, "moments"), *plain = st_load_checked(f, "moments_untiled");
    tensor *z = st_load_checked(f, "z"), *want_d = st_load_checked(f, "decoded"), *tile = st_load_checked(f, "tile");
    int S = (int)tensor_f32(tile)[0];
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    tensor *m = autoencoder_kl_encode_tiled(&p.spatial.vae, x, S);
    tensor *d = autoencoder_kl_decode_tiled(&p.spatial.vae, z, S);
    EXPECT(tensor_same_shape(m, want_m) && tensor_same_shape(d, want_d), "tiled output shapes differ from diffusers'");
    double em = rel_error(m, want_m), ed = rel_error(d, want_d);
    test_note_error("tiled encode vs diffusers", em);
    test_note_error("tiled decode vs diffusers", ed);
    EXPECT(em < 1e-4, "tiled moments differ from diffusers' tiled _encode: rel %.3e", em);
    EXPECT(ed < 1e-4, "tiled decode differs from diffusers' tiled decode: rel %.3e", ed);
    /* the seams matter: tiled and untiled differ (else the test would not see the blending) */
    EXPECT(rel_error(m, plain) > 1e-3, "tiled and untiled moments agree (%.3e): the frame was not tiled", rel_error(m, plain));
    /* through the video wrapper: vae2d with tile_sample_size gives the same per frame */
    vae2d v = p.spatial;
    v.tile_sample_size = S;
    tensor *video = op_reshape(x, SHAPE(1, 1, 40, 28, 3));
    tensor *lat = op_reshape(z, SHAPE(1, 1, 20, 14, 4));
    tensor *vd = vae2d_decode(&v, op_mul_scalar(lat, v.vae.cfg.scaling_factor));
    EXPECT(rel_error(op_reshape(vd, SHAPE(1, 40, 28, 3)), want_d) < 1e-4, "vae2d_decode with tiles differs from diffusers'");
    tensor *vz = vae2d_encode(&v, video, false, NULL);
    tensor *mean = op_slice(want_m, 3, 0, 4);
    EXPECT(rel_error(op_reshape(vz, SHAPE(1, 20, 14, 4)), op_mul_scalar(mean, v.vae.cfg.scaling_factor)) < 1e-4,
           "vae2d_encode with tiles: the mean differs from diffusers' tiled posterior mean");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x), tensor_release(want_m), tensor_release(plain), tensor_release(z), tensor_release(want_d);
    tensor_release(tile);
    st_close(f);
    tiny_pipeline_free(&p);
}

TEST(test_vae2d_tiling_a_frame_within_one_tile_changes_nothing) {
    vae_pipeline p;
    tiny_pipeline_init(&p, 0, 0);
    tiny_pipeline_load_golden(&p);
    tensor *x = gc_input(SHAPE(2, 16, 12, 3), 4), *z = gc_input(SHAPE(2, 8, 6, 4), 5);
    x->requires_grad = z->requires_grad = false;
    bool prev = ag_set_grad_enabled(false);
    tensor_scope_begin();
    /* 16x12 pixels fit a 16-pixel tile, 8x6 latents an 8-latent tile: the plain result, bit for bit */
    EXPECT(rel_error(autoencoder_kl_encode_tiled(&p.spatial.vae, x, 16), autoencoder_kl_encode(&p.spatial.vae, x)) == 0,
           "tiling a frame within one tile changed the encode");
    EXPECT(rel_error(autoencoder_kl_decode_tiled(&p.spatial.vae, z, 16), autoencoder_kl_decode(&p.spatial.vae, z)) == 0,
           "tiling a latent within one tile changed the decode");
    EXPECT(rel_error(autoencoder_kl_encode_tiled(&p.spatial.vae, x, 0), autoencoder_kl_encode(&p.spatial.vae, x)) == 0,
           "tile 0 (off) changed the encode");
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    tensor_release(x), tensor_release(z);
    tiny_pipeline_free(&p);
}

TEST(test_vae2d_auto_tile_fits_the_budget) {
    autoencoder_kl_config c = autoencoder_kl_config_sdxl();
    /* a 256x256 frame of SDXL fits 4 GiB untiled; 1280x720 at a 1 GiB budget needs tiles */
    EXPECT(autoencoder_kl_auto_tile(&c, 1, 256, 256, 4ll << 30) == 0, "a small frame was tiled");
    int s = autoencoder_kl_auto_tile(&c, 1, 720, 1280, 1ll << 30);
    EXPECT(s > 0 && s % 64 == 0 && s < 1280, "auto tile for 1280x720 in 1 GiB: %d", s);
    EXPECT(autoencoder_kl_peak_bytes(&c, 1, s, s) <= (1ll << 30), "the chosen tile %d exceeds the budget", s);
    EXPECT(autoencoder_kl_peak_bytes(&c, 1, s + 64, s + 64) > (1ll << 30) || s + 64 >= 1280, "tile %d is not the largest that fits", s);
}
