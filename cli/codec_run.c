/* codec_run.c: windowed encode / decode / reconstruct over clips (see codec_run.h). */
#include "cli/codec_run.h"
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "core/ops.h"             // defines: op_clamp, op_concat
#include "train/metrics.h"        // defines: metric_ssim
#include "core/autocast.h"        // defines: autocast_f32

#define SPATIAL_WINDOW 17   /* frames per window for the per-frame spatial VAE: any count is exact */

int codec_down_factor(const vaec_model *m) {
    return m->kind == MODEL_TEMPORAL ? 1 : 1 << (m->p.spatial.vae.cfg.n_blocks - 1);
}

int64_t codec_latent_frames(const vaec_model *m, int64_t frames) {
    if (m->kind == MODEL_SPATIAL) return frames;
    if (m->kind == MODEL_TEMPORAL) return vae_temporal_latent_frames(&m->p.temporal, frames);
    int64_t in[3] = {frames, 8, 8}, out[3];
    vae_pipeline_latent_size(&m->p, in, out);
    return out[0];
}

/* frames per window on the pixel side, latent frames per window on the latent side; INT64_MAX: the whole clip */
static int64_t window_frames(const vaec_model *m) {
    if (m->kind == MODEL_SPATIAL) return SPATIAL_WINDOW;
    if (m->kind == MODEL_PIPELINE && m->p.micro_frame_size > 0) return m->p.micro_frame_size;
    return INT64_MAX;
}
static int64_t window_latents(const vaec_model *m) {
    if (m->kind == MODEL_SPATIAL) return SPATIAL_WINDOW;
    if (m->kind == MODEL_PIPELINE && m->p.micro_frame_size > 0) return vae_pipeline_micro_z_frames(&m->p);
    return INT64_MAX;
}

static tensor *encode_window(const vaec_model *m, tensor *x, rng_state *rng) {
    switch (m->kind) {
        case MODEL_SPATIAL: return vae2d_encode(&m->p.spatial, x, m->p.sample_posterior, rng);
        case MODEL_TEMPORAL: {
            diag_gaussian post = posterior_from_moments(vae_temporal_encode(&m->p.temporal, x));
            return m->p.sample_posterior ? posterior_sample(&post, rng) : posterior_mode(&post);
        }
        default: return vae_pipeline_encode(&m->p, x, rng).z;
    }
}

/* float32 frames: under --precision bf16 a decoder's last conv returns bf16 (core/autocast.h), widened here */
static tensor *decode_window(const vaec_model *m, tensor *z, int64_t frames) {
    switch (m->kind) {
        case MODEL_SPATIAL: return autocast_f32(vae2d_decode(&m->p.spatial, z));
        case MODEL_TEMPORAL: return autocast_f32(vae_temporal_decode(&m->p.temporal, z, frames));
        default: return autocast_f32(vae_pipeline_decode(&m->p, z, frames, NULL));
    }
}

/* up to n frames, owned by the caller; n may be INT64_MAX (to the end of the clip): then read in pieces of 64
   and joined, so that no guess of the length is ever allocated */
static tensor *read_window(codec_source *src, int64_t n) {
    if (n <= 256) return codec_source_read(src, n);
    tensor **parts = NULL;
    int np = 0;
    for (;;) {
        tensor *p = codec_source_read(src, 64);
        if (!p) {   /* a read error: its message is set */
            for (int i = 0; i < np; i++) tensor_release(parts[i]);
            free(parts);
            return NULL;
        }
        if (p->shape[1] == 0 && np > 0) { tensor_release(p); break; }
        parts = xrealloc(parts, (size_t)(np + 1) * sizeof(tensor *));
        parts[np++] = p;
        if (p->shape[1] < 64) break;
    }
    tensor *out = parts[0];
    if (np > 1) {
        out = op_concat(np, parts, 1);
        tensor_retain(out);   /* the caller's reference; the enclosing scope keeps its own */
        for (int i = 0; i < np; i++) tensor_release(parts[i]);
    }
    free(parts);
    return out;
}

/* (1,n,H,W,C) -> (1,n,H',W',C), H' and W' multiples of f, the last row and column repeated */
static tensor *pad_to_multiple(tensor *x, int f) {
    int64_t n = x->shape[1], H = x->shape[2], W = x->shape[3], C = x->shape[4];
    int64_t H2 = (H + f - 1) / f * f, W2 = (W + f - 1) / f * f;
    if (H2 == H && W2 == W) return x;
    tensor *out = tensor_autorelease(tensor_empty(SHAPE(1, n, H2, W2, C)));
    const float *s = tensor_f32(x);
    float *d = tensor_f32(out);
    for (int64_t t = 0; t < n; t++)
        for (int64_t y = 0; y < H2; y++)
            for (int64_t xx = 0; xx < W2; xx++) {
                int64_t sy = y < H ? y : H - 1, sx = xx < W ? xx : W - 1;
                memcpy(d + ((t * H2 + y) * W2 + xx) * C, s + ((t * H + sy) * W + sx) * C, (size_t)C * sizeof(float));
            }
    return out;
}

/* the top-left h x w of (1,n,H,W,C), on the CPU */
static tensor *crop_cpu(tensor *x, int64_t h, int64_t w) {
    if (x->device != DEVICE_CPU) x = tensor_autorelease(tensor_to(x, DEVICE_CPU));
    if (x->shape[2] != h) x = op_slice(x, 2, 0, h);
    if (x->shape[3] != w) x = op_slice(x, 3, 0, w);
    return x;
}

typedef struct { double se, ref, ssim_sum; int64_t values, frames; } quality;   /* ref: sum of squares of the input */

static void quality_add(quality *q, tensor *in, tensor *rec) {
    const float *a = tensor_f32(in), *b = tensor_f32(rec);
    for (int64_t i = 0; i < in->numel; i++) {
        double d = 0.5 * ((double)a[i] - (double)b[i]);
        q->se += d * d;
        q->ref += 0.25 * (double)a[i] * (double)a[i];
    }
    q->values += in->numel;
    if (in->shape[4] == 3) q->ssim_sum += metric_ssim(in, rec) * (double)in->shape[1];
    q->frames += in->shape[1];
}

static double quality_psnr(const quality *q) {
    double mse = q->se / (double)(q->values ? q->values : 1);
    return mse > 0 ? 10.0 * log10(1.0 / mse) : INFINITY;
}

/* --num-frames absent: the video's own count from the latents' metadata, else the smallest count with this
   many latent frames (17 for 5: the 1 + 4k rule) */
static int64_t decode_frames(const vaec_model *m, const codec_run_options *o, const codec_clip *c) {
    if (o->num_frames > 0) return o->num_frames;
    if (c->video_frames > 0 && codec_latent_frames(m, c->video_frames) == c->frames) return c->video_frames;
    for (int64_t t = 1; t <= c->frames * 64; t++) if (codec_latent_frames(m, t) == c->frames) return t;
    return -1;
}

/* one clip of pixels: encode (z to the sink) or reconstruct (frames to the sink, quality into q) */
static int run_pixels(const vaec_model *m, codec_source *src, codec_sink *sink, const codec_run_options *o,
                      const codec_clip *c, rng_state *rng, quality *q, int64_t *out_frames) {
    int f = codec_down_factor(m);
    int64_t win = window_frames(m), h = (c->h + f - 1) / f * f, w = (c->w + f - 1) / f * f;
    codec_clip oc = *c;
    if (o->op == CODEC_ENCODE) {
        oc.h = h / f, oc.w = w / f, oc.c = m->kind == MODEL_SPATIAL ? m->p.spatial.vae.cfg.latent_channels : m->p.temporal.cfg.embed_dim;
        oc.video_h = c->h, oc.video_w = c->w;
    } else if (o->side_by_side) {
        oc.w = 2 * c->w;
    }
    if (codec_sink_begin(sink, &oc) != 0) return -1;
    int64_t frames = 0;
    for (;;) {
        tensor_scope_begin();
        tensor *x = read_window(src, win);
        if (!x) { tensor_scope_end(NULL); return -1; }
        if (x->shape[1] == 0) { tensor_release(x); tensor_scope_end(NULL); break; }
        tensor_autorelease(x);
        int64_t n = x->shape[1];
        tensor *z = encode_window(m, pad_to_multiple(x, f), rng);
        tensor *out;
        if (o->op == CODEC_ENCODE) {
            out = z->device == DEVICE_CPU ? z : tensor_autorelease(tensor_to(z, DEVICE_CPU));
        } else {
            tensor *rec = crop_cpu(decode_window(m, z, n), c->h, c->w);
            if (m->kind != MODEL_TEMPORAL) rec = op_clamp(rec, -1.0f, 1.0f);   /* latents of a temporal VAE are not pixels */
            quality_add(q, x, rec);
            out = o->side_by_side ? op_concat(2, (tensor *[]){x, rec}, 3) : rec;
        }
        int rc = codec_sink_write(sink, out);
        frames += n;
        tensor_scope_end(NULL);
        if (rc != 0) return -1;
        if (n < win) break;
    }
    if (frames == 0) return vaec_set_error("'%s': no frames", c->name);
    *out_frames = frames;
    return codec_sink_end(sink, frames);
}

/* one clip of latents: decode window by window */
static int run_latents(const vaec_model *m, codec_source *src, codec_sink *sink, const codec_run_options *o,
                       const codec_clip *c, int64_t *out_frames) {
    int64_t total = decode_frames(m, o, c);
    if (total <= 0 || codec_latent_frames(m, total) != c->frames)
        return vaec_set_error("'%s': --num-frames %lld needs %lld latent frames, the clip has %lld (frame counts 1 + 4k "
                              "fit a pipeline: 17 -> 5)", c->name, (long long)total,
                              (long long)(total > 0 ? codec_latent_frames(m, total) : 0), (long long)c->frames);
    int f = codec_down_factor(m);
    codec_clip oc = *c;
    oc.c = m->kind == MODEL_TEMPORAL ? m->p.temporal.cfg.in_out_channels : m->p.spatial.vae.cfg.out_channels;
    oc.h = c->video_h > 0 && c->video_h <= c->h * f ? c->video_h : c->h * f;
    oc.w = c->video_w > 0 && c->video_w <= c->w * f ? c->video_w : c->w * f;
    oc.video_frames = oc.video_h = oc.video_w = 0;
    if (codec_sink_begin(sink, &oc) != 0) return -1;
    int64_t win = window_latents(m), remaining = total;
    for (int64_t done = 0; done < c->frames;) {
        tensor_scope_begin();
        tensor *z = read_window(src, win);
        if (!z) { tensor_scope_end(NULL); return -1; }
        tensor_autorelease(z);
        int64_t nl = z->shape[1];
        /* frames of this window: a pipeline chunk gives up to micro_frame_size, the spatial VAE one per latent */
        int64_t frames = m->kind == MODEL_SPATIAL ? nl
                       : win == INT64_MAX ? remaining
                       : remaining < m->p.micro_frame_size ? remaining : m->p.micro_frame_size;
        tensor *x = crop_cpu(decode_window(m, z, frames), oc.h, oc.w);
        int rc = codec_sink_write(sink, x);
        tensor_scope_end(NULL);
        if (rc != 0) return -1;
        done += nl;
        remaining -= frames;
    }
    *out_frames = total;
    return codec_sink_end(sink, 0);
}

int codec_run(const vaec_model *m, codec_source *src, codec_sink *sink, const codec_run_options *o, rng_state *rng) {
    quality all = {0};
    int n = codec_source_num_clips(src);
    for (int i = 0; i < n; i++) {
        codec_clip c;
        if (codec_source_begin(src, i, &c) != 0) return -1;
        if (o->op != CODEC_DECODE && m->kind != MODEL_TEMPORAL && (c.h < 8 || c.w < 8))
            return vaec_set_error("'%s': frames of %lldx%lld are smaller than 8x8, the least the VAE encodes", c.name,
                                  (long long)c.w, (long long)c.h);
        quality q = {0};
        int64_t frames = 0;
        int rc = o->op == CODEC_DECODE ? run_latents(m, src, sink, o, &c, &frames)
                                       : run_pixels(m, src, sink, o, &c, rng, &q, &frames);
        if (rc != 0) return -1;
        if (o->op == CODEC_DECODE)
            printf("%s: %lld latent frames %lldx%lld -> %lld frames", c.name, (long long)c.frames, (long long)c.w,
                   (long long)c.h, (long long)frames);
        else
            printf("%s: %lld frames %lldx%lld", c.name, (long long)frames, (long long)c.w, (long long)c.h);
        if (c.fps > 0) printf(" at %.3g fps", c.fps);
        if (o->op == CODEC_RECONSTRUCT && m->kind != MODEL_TEMPORAL)
            printf("  PSNR %.2f dB  SSIM %.4f", quality_psnr(&q), q.ssim_sum / (double)q.frames);
        else if (o->op == CODEC_RECONSTRUCT)
            printf("  latent reconstruction: relative RMS error %.4f", sqrt(q.se / fmax(1e-30, q.ref)));
        printf("\n");
        all.se += q.se, all.ref += q.ref, all.values += q.values, all.ssim_sum += q.ssim_sum, all.frames += q.frames;
    }
    if (o->op == CODEC_RECONSTRUCT && m->kind != MODEL_TEMPORAL)
        printf("overall: %d clip%s, %lld frames  PSNR %.2f dB  SSIM %.4f\n", n, n == 1 ? "" : "s", (long long)all.frames,
               quality_psnr(&all), all.ssim_sum / (double)(all.frames ? all.frames : 1));
    return 0;
}
