/* vae2d_tiling.c: tiled encode/decode of the SDXL VAE with diffusers' blending (see vae2d_tiling.h). */
#include "layers/vae2d_tiling.h"
#include <string.h>
#include "core/ops.h"   // defines: op_slice

int autoencoder_kl_down_factor(const autoencoder_kl_config *c) { return 1 << (c->n_blocks - 1); }

typedef tensor *(*tile_fn)(const autoencoder_kl *m, tensor *tile);

/* one tile through the model, its result on the CPU and owned by the caller */
static tensor *run_tile(const autoencoder_kl *m, tile_fn f, tensor *x, int64_t y0, int64_t x0, int64_t size) {
    int64_t y1 = y0 + size < x->shape[1] ? y0 + size : x->shape[1], x1 = x0 + size < x->shape[2] ? x0 + size : x->shape[2];
    tensor_scope_begin();
    tensor *out = f(m, op_slice(op_slice(x, 1, y0, y1), 2, x0, x1));
    tensor *cpu = out->device == DEVICE_CPU ? (tensor_retain(out), out) : tensor_to(out, DEVICE_CPU);
    tensor_scope_end(NULL);
    return cpu;
}

/* diffusers' blend_v: b's first rows fade in over a's last rows (a and b (N,h,w,C), b changed in place) */
static void blend_rows(const tensor *a, tensor *b, int64_t extent) {
    int64_t n = b->shape[0], ah = a->shape[1], bh = b->shape[1], w = b->shape[2], c = b->shape[3];
    if (extent > ah) extent = ah;
    if (extent > bh) extent = bh;
    const float *pa = tensor_f32(a);
    float *pb = tensor_f32(b);
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < extent; y++) {
            float wb = (float)y / (float)extent, wa = 1.0f - wb;
            const float *ra = pa + ((i * ah + ah - extent + y) * w) * c;
            float *rb = pb + ((i * bh + y) * w) * c;
            for (int64_t k = 0; k < w * c; k++) rb[k] = ra[k] * wa + rb[k] * wb;
        }
}

/* diffusers' blend_h: b's first columns fade in over a's last columns */
static void blend_cols(const tensor *a, tensor *b, int64_t extent) {
    int64_t n = b->shape[0], h = b->shape[1], aw = a->shape[2], bw = b->shape[2], c = b->shape[3];
    if (extent > aw) extent = aw;
    if (extent > bw) extent = bw;
    const float *pa = tensor_f32(a);
    float *pb = tensor_f32(b);
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < extent; x++) {
                float wb = (float)x / (float)extent, wa = 1.0f - wb;
                const float *va = pa + ((i * h + y) * aw + aw - extent + x) * c;
                float *vb = pb + ((i * h + y) * bw + x) * c;
                for (int64_t k = 0; k < c; k++) vb[k] = va[k] * wa + vb[k] * wb;
            }
}

/* copies the top-left keep x keep of a tile into out at (oy, ox) */
static void place(const tensor *tile, tensor *out, int64_t oy, int64_t ox, int64_t keep) {
    int64_t n = tile->shape[0], th = tile->shape[1], tw = tile->shape[2], c = tile->shape[3];
    int64_t H = out->shape[1], W = out->shape[2];
    int64_t kh = keep < th ? keep : th, kw = keep < tw ? keep : tw;
    const float *src = tensor_f32(tile);
    float *dst = tensor_f32(out);
    for (int64_t i = 0; i < n; i++)
        for (int64_t y = 0; y < kh; y++)
            memcpy(dst + ((i * H + oy + y) * W + ox) * c, src + ((i * th + y) * tw) * c, (size_t)(kw * c) * sizeof(float));
}

/* diffusers' tiling loop: tiles of tile_in starting every stride; outputs blended over `blend` and cut to `keep`.
   scale: output pixels per input pixel (f on decode, 1/f on encode, as num/den) */
static tensor *tiled(const autoencoder_kl *m, tensor *x, tile_fn f, int64_t tile_in, int64_t stride, int64_t blend,
                     int64_t keep, int64_t num, int64_t den) {
    int64_t H = x->shape[1], W = x->shape[2];
    int64_t rows = (H + stride - 1) / stride, cols = (W + stride - 1) / stride;
    CHECK(H % den == 0 && W % den == 0, "tiled VAE: a %lldx%lld input is not a multiple of %lld", (long long)H,
          (long long)W, (long long)den);
    tensor **above = xcalloc((size_t)cols, sizeof(tensor *)), **cur = xcalloc((size_t)cols, sizeof(tensor *));
    tensor *out = NULL;
    int64_t oy = 0;
    for (int64_t i = 0; i < rows; i++) {
        int64_t ox = 0, row_h = 0;
        for (int64_t j = 0; j < cols; j++) {
            cur[j] = run_tile(m, f, x, i * stride, j * stride, tile_in);
            if (!out) out = tensor_zeros(SHAPE(x->shape[0], H * num / den, W * num / den, cur[j]->shape[3]));
            if (i > 0) blend_rows(above[j], cur[j], blend);
            if (j > 0) blend_cols(cur[j - 1], cur[j], blend);
            place(cur[j], out, oy, ox, keep);
            ox += keep < cur[j]->shape[2] ? keep : cur[j]->shape[2];
            row_h = keep < cur[j]->shape[1] ? keep : cur[j]->shape[1];
        }
        CHECK(ox == out->shape[2], "tiled VAE: the tiles of a row cover %lld of %lld columns", (long long)ox,
              (long long)out->shape[2]);
        oy += row_h;
        for (int64_t j = 0; j < cols; j++) {
            if (above[j]) tensor_release(above[j]);
            above[j] = cur[j];
            cur[j] = NULL;
        }
    }
    CHECK(oy == out->shape[1], "tiled VAE: the tile rows cover %lld of %lld rows", (long long)oy, (long long)out->shape[1]);
    for (int64_t j = 0; j < cols; j++) if (above[j]) tensor_release(above[j]);
    free(above);
    free(cur);
    if (x->device != DEVICE_CPU) tensor_move_(out, x->device);
    return tensor_autorelease(out);
}

tensor *autoencoder_kl_encode_tiled(const autoencoder_kl *m, tensor *x, int tile_sample_size) {
    int64_t S = tile_sample_size, f = autoencoder_kl_down_factor(&m->cfg);
    if (S <= 0 || (x->shape[1] <= S && x->shape[2] <= S)) return autoencoder_kl_encode(m, x);
    CHECK(S % f == 0, "tile size %lld is not a multiple of the VAE's down factor %lld", (long long)S, (long long)f);
    int64_t L = S / f, blend = (int64_t)(L * 0.25);
    return tiled(m, x, autoencoder_kl_encode, S, (int64_t)(S * 0.75), blend, L - blend, 1, f);
}

tensor *autoencoder_kl_decode_tiled(const autoencoder_kl *m, tensor *z, int tile_sample_size) {
    int64_t S = tile_sample_size, f = autoencoder_kl_down_factor(&m->cfg);
    if (S <= 0) return autoencoder_kl_decode(m, z);
    CHECK(S % f == 0, "tile size %lld is not a multiple of the VAE's down factor %lld", (long long)S, (long long)f);
    int64_t L = S / f, blend = (int64_t)(S * 0.25);
    if (z->shape[1] <= L && z->shape[2] <= L) return autoencoder_kl_decode(m, z);
    return tiled(m, z, autoencoder_kl_decode, L, (int64_t)(L * 0.75), blend, S - blend, f, 1);
}

int64_t autoencoder_kl_peak_bytes(const autoencoder_kl_config *c, int64_t n, int64_t h, int64_t w) {
    /* the decoder's full-resolution level dominates: a resnet block keeps its input, the normalised copy,
       the conv output and the conv's scratch at block_out_channels[0] channels; each level above holds the
       same at a quarter of the pixels and its own width. PEAK_BUFFERS such float buffers per level cover
       the measured peak (docs/video-vae.md, "Tiling"). */
    enum { PEAK_BUFFERS = 12 };
    double sum = 0, px = (double)n * (double)h * (double)w;
    for (int i = 0; i < c->n_blocks; i++, px /= 4.0) sum += px * c->block_out_channels[i];
    return (int64_t)(sum * sizeof(float) * PEAK_BUFFERS);
}

int autoencoder_kl_auto_tile(const autoencoder_kl_config *c, int64_t n, int64_t h, int64_t w, int64_t budget) {
    if (autoencoder_kl_peak_bytes(c, n, h, w) <= budget) return 0;
    int64_t step = 8 * autoencoder_kl_down_factor(c), best = step;
    int64_t big = h > w ? h : w;
    for (int64_t s = step; s < big; s += step)
        if (autoencoder_kl_peak_bytes(c, n, s, s) <= budget) best = s;
    return (int)best;
}
