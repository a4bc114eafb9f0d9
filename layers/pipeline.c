/* pipeline.c: spatial + temporal VAE with micro-frame chunking and shift/scale (see pipeline.h). */
#include "layers/pipeline.h"
#include <string.h>
#include "core/ops.h"   // defines: op_slice, op_concat, op_sub, op_div, ...

void vae_pipeline_setup(vae_pipeline *p) {
    params_set_requires_grad(&p->spatial.vae.params, !p->freeze_vae_2d);
    CHECK(p->temporal.cfg.in_out_channels == p->spatial.vae.cfg.latent_channels,
          "pipeline: the temporal VAE takes %d channels, the spatial VAE gives %d", p->temporal.cfg.in_out_channels,
          p->spatial.vae.cfg.latent_channels);
    CHECK(p->temporal.cfg.embed_dim <= 8, "pipeline: shift/scale hold at most 8 latent channels");
}

int64_t vae_pipeline_micro_z_frames(const vae_pipeline *p) {
    return vae_temporal_latent_frames(&p->temporal, p->micro_frame_size);
}

/* shift or scale as a (C) tensor on the device of the latents it applies to */
static tensor *channel_vector(const float *v, int n, device_t device) {
    tensor *t = tensor_from_data(SHAPE(n), v);
    tensor_move_(t, device);
    return tensor_autorelease(t);
}

pipeline_encoded vae_pipeline_encode(const vae_pipeline *p, tensor *x, rng_state *rng) {
    pipeline_encoded e;
    tensor *x_z = vae2d_encode(&p->spatial, x, p->sample_posterior, rng);
    int64_t t = x_z->shape[1], m = p->micro_frame_size > 0 ? p->micro_frame_size : t;
    int64_t k = (t + m - 1) / m;
    tensor **moments = xmalloc((size_t)k * sizeof(tensor *));
    for (int64_t i = 0; i < k; i++) {
        int64_t a = i * m, b = a + m < t ? a + m : t;
        moments[i] = vae_temporal_encode(&p->temporal, k == 1 ? x_z : op_slice(x_z, 1, a, b));
    }
    /* one posterior over every chunk's moments (concatenated along latent time) */
    e.posterior = posterior_from_moments(k == 1 ? moments[0] : op_concat((int)k, moments, 1));
    free(moments);
    e.z = p->sample_posterior ? posterior_sample(&e.posterior, rng) : posterior_mode(&e.posterior);
    if (!p->cal_loss) {
        int c = p->temporal.cfg.embed_dim;
        e.z = op_div(op_sub(e.z, channel_vector(p->shift, c, e.z->device)), channel_vector(p->scale, c, e.z->device));
    }
    e.x_z = x_z;
    return e;
}

tensor *vae_pipeline_decode_latent(const vae_pipeline *p, tensor *z, int64_t num_frames) {
    if (!p->cal_loss) {
        int c = p->temporal.cfg.embed_dim;
        z = op_add(op_mul(z, channel_vector(p->scale, c, z->device)), channel_vector(p->shift, c, z->device));
    }
    if (p->micro_frame_size <= 0) return vae_temporal_decode(&p->temporal, z, num_frames);
    int64_t mz = vae_pipeline_micro_z_frames(p), tl = z->shape[1], k = (tl + mz - 1) / mz, remaining = num_frames;
    tensor **parts = xmalloc((size_t)k * sizeof(tensor *));
    for (int64_t i = 0; i < k; i++) {
        int64_t a = i * mz, b = a + mz < tl ? a + mz : tl;
        int64_t frames = remaining < p->micro_frame_size ? remaining : p->micro_frame_size;
        CHECK(frames > 0, "pipeline decode: %lld latent frames are more than %lld frames need", (long long)tl,
              (long long)num_frames);
        parts[i] = vae_temporal_decode(&p->temporal, k == 1 ? z : op_slice(z, 1, a, b), frames);
        remaining -= p->micro_frame_size;
    }
    tensor *x_z_rec = k == 1 ? parts[0] : op_concat((int)k, parts, 1);
    free(parts);
    return x_z_rec;
}

tensor *vae_pipeline_decode(const vae_pipeline *p, tensor *z, int64_t num_frames, tensor **x_z_rec_out) {
    tensor *x_z_rec = vae_pipeline_decode_latent(p, z, num_frames);
    if (x_z_rec_out) *x_z_rec_out = x_z_rec;
    return vae2d_decode(&p->spatial, x_z_rec);
}

pipeline_output vae_pipeline_forward(const vae_pipeline *p, tensor *x, rng_state *rng) {
    pipeline_output o;
    pipeline_encoded e = vae_pipeline_encode(p, x, rng);
    o.z = e.z;
    o.x_z = e.x_z;
    o.posterior = e.posterior;
    o.x_rec = vae_pipeline_decode(p, e.z, e.x_z->shape[1], &o.x_z_rec);
    return o;
}

void vae_pipeline_latent_size(const vae_pipeline *p, const int64_t in[3], int64_t out[3]) {
    int64_t f = (int64_t)1 << (p->spatial.vae.cfg.n_blocks - 1), t = in[0];
    if (p->micro_frame_size > 0)
        out[0] = (t / p->micro_frame_size) * vae_pipeline_micro_z_frames(p) +
                 vae_temporal_latent_frames(&p->temporal, t % p->micro_frame_size);
    else out[0] = vae_temporal_latent_frames(&p->temporal, t);
    out[1] = in[1] / f;
    out[2] = in[2] / f;
}

tensor *vae_pipeline_temporal_last_layer(const vae_pipeline *p) { return p->temporal.dec_conv_out.conv.w; }

int vae_pipeline_load(vae_pipeline *p, const char *path) {
    if (autoencoder_kl_load(&p->spatial.vae, path, "spatial_vae.module.") != 0) return -1;
    return vae_temporal_load(&p->temporal, path, "temporal_vae.");
}

int vae_pipeline_save(const vae_pipeline *p, const char *path) {
    const param_list *parts[2] = {&p->spatial.vae.params, &p->temporal.params};
    const char *prefixes[2] = {"spatial_vae.module.", "temporal_vae."};
    return params_save_multi(parts, prefixes, 2, path, NULL);
}
