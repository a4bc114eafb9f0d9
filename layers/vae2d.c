/* vae2d.c: micro-batched per-frame spatial VAE over video (see vae2d.h). */
#include "layers/vae2d.h"
#include "core/ops.h"               // defines: op_reshape, op_slice, op_concat, op_mul_scalar
#include "layers/vae2d_tiling.h"   // defines: autoencoder_kl_encode_tiled, autoencoder_kl_decode_tiled

/* runs f on chunks of `chunk` frames along dim 0 of frames (N,...) and concatenates the results */
typedef tensor *(*frame_fn)(const vae2d *v, tensor *frames, bool sample, rng_state *rng);

static tensor *over_chunks(const vae2d *v, tensor *frames, frame_fn f, bool sample, rng_state *rng) {
    int64_t n = frames->shape[0], chunk = v->micro_batch_size > 0 ? v->micro_batch_size : n;
    if (chunk >= n) return f(v, frames, sample, rng);
    int64_t k = (n + chunk - 1) / chunk;
    tensor **parts = xmalloc((size_t)k * sizeof(tensor *));
    for (int64_t i = 0; i < k; i++) {
        int64_t a = i * chunk, b = a + chunk < n ? a + chunk : n;
        parts[i] = f(v, op_slice(frames, 0, a, b), sample, rng);
    }
    tensor *out = op_concat((int)k, parts, 0);
    free(parts);
    return out;
}

static tensor *encode_frames(const vae2d *v, tensor *frames, bool sample, rng_state *rng) {
    diag_gaussian p = posterior_from_moments(autoencoder_kl_encode_tiled(&v->vae, frames, v->tile_sample_size));
    return sample ? posterior_sample(&p, rng) : posterior_mode(&p);
}

static tensor *decode_frames(const vae2d *v, tensor *z, bool sample, rng_state *rng) {
    return autoencoder_kl_decode_tiled(&v->vae, z, v->tile_sample_size);
}

tensor *vae2d_encode(const vae2d *v, tensor *x, bool sample, rng_state *rng) {
    char s[96];
    tensor_shape_str(x, s, sizeof s);
    CHECK(x->ndim == 5 && x->shape[4] == v->vae.cfg.in_channels, "spatial VAE: video must be (B,T,H,W,%d), got %s",
          v->vae.cfg.in_channels, s);
    int64_t b = x->shape[0], t = x->shape[1];
    tensor_scope_begin();
    tensor *frames = op_reshape(x, SHAPE(b * t, x->shape[2], x->shape[3], x->shape[4]));
    tensor *z = op_mul_scalar(over_chunks(v, frames, encode_frames, sample, rng), v->vae.cfg.scaling_factor);
    return tensor_scope_end(op_reshape(z, SHAPE(b, t, z->shape[1], z->shape[2], z->shape[3])));
}

tensor *vae2d_decode(const vae2d *v, tensor *z) {
    char s[96];
    tensor_shape_str(z, s, sizeof s);
    CHECK(z->ndim == 5 && z->shape[4] == v->vae.cfg.latent_channels, "spatial VAE: latent must be (B,T,h,w,%d), got %s",
          v->vae.cfg.latent_channels, s);
    int64_t b = z->shape[0], t = z->shape[1];
    tensor_scope_begin();
    tensor *frames = op_mul_scalar(op_reshape(z, SHAPE(b * t, z->shape[2], z->shape[3], z->shape[4])),
                                   1.0f / v->vae.cfg.scaling_factor);
    tensor *x = over_chunks(v, frames, decode_frames, false, NULL);
    return tensor_scope_end(op_reshape(x, SHAPE(b, t, x->shape[1], x->shape[2], x->shape[3])));
}
