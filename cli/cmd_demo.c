/* cmd_demo.c: `vaec demo`, what `make demo` runs until the full pipeline trainer lands (issue 5).
 *
 * Trains a small causal 3-D convolutional VAE, built from the same ops the Open-Sora temporal VAE
 * uses (causal conv3d with time stride, group norm, SiLU, diagonal-Gaussian posterior with the
 * reparameterization trick, KL, depth-to-time, nearest upsampling), on synthetic clips of moving
 * coloured shapes, with AdamW on the CPU. Prints the loss as it trains and the held-out PSNR before
 * and after; saves the weights as safetensors under runs/demo/.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include "autograd/autograd.h"   // defines: ag_backward, ag_zero_grad
#include "cli/commands.h"
#include "core/ops.h"            // defines: op_conv3d, op_group_norm, ...
#include "core/rng.h"            // defines: rng_state
#include "core/safetensors.h"    // defines: st_writer
#include "optim/adamw.h"         // defines: adamw

enum { T = 8, H = 16, W = 16, CH = 32, LAT = 4, NTRAIN = 96, NVAL = 8, BATCH = 4 };

/* ---- synthetic clips: 1-2 shapes moving in straight lines, bouncing off the borders ---- */
static void make_clip(rng_state *r, float *clip /* (T,H,W,3) */) {
    float bg[3];
    for (int c = 0; c < 3; c++) bg[c] = -1.0f + 0.6f * (float)rng_next_double(r);
    for (int i = 0; i < T * H * W; i++) for (int c = 0; c < 3; c++) clip[i * 3 + c] = bg[c];
    int nshapes = 1 + (int)(rng_next_u32(r) % 2);
    for (int s = 0; s < nshapes; s++) {
        float col[3], rad = 2.0f + 3.0f * (float)rng_next_double(r);
        for (int c = 0; c < 3; c++) col[c] = -0.2f + 1.2f * (float)rng_next_double(r);
        float px = rad + (W - 2 * rad) * (float)rng_next_double(r), py = rad + (H - 2 * rad) * (float)rng_next_double(r);
        float vx = 3.0f * ((float)rng_next_double(r) - 0.5f), vy = 3.0f * ((float)rng_next_double(r) - 0.5f);
        int disk = rng_next_u32(r) & 1;
        for (int t = 0; t < T; t++) {
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++) {
                    float dx = (float)x + 0.5f - px, dy = (float)y + 0.5f - py;
                    int in = disk ? dx * dx + dy * dy <= rad * rad : fabsf(dx) <= rad && fabsf(dy) <= rad;
                    if (in) for (int c = 0; c < 3; c++) clip[((t * H + y) * W + x) * 3 + c] = col[c];
                }
            px += vx;
            py += vy;
            if (px < rad || px > W - rad) { vx = -vx; px += 2 * vx; }
            if (py < rad || py > H - rad) { vy = -vy; py += 2 * vy; }
        }
    }
}

/* ---- the model: parameters by name, built like a PyTorch module tree ---- */
typedef struct { tensor *w, *b; } conv;
typedef struct { tensor *g, *b; } norm;
typedef struct {
    conv enc_in, enc_down, enc_out, dec_in, dec_up, dec_mid, dec_out;
    norm enc_n1, enc_n2, dec_n1, dec_n2;
    tensor *all[32];
    const char *names[32];
    int n;
} demo_model;

static void add_param(demo_model *m, tensor *t, const char *name) {
    t->requires_grad = true;
    m->all[m->n] = t;
    m->names[m->n++] = name;
}

/* PyTorch's default conv init: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias */
static conv conv_new(demo_model *m, rng_state *r, int cin, int cout, int k, const char *wn, const char *bn) {
    conv c;
    c.w = tensor_empty(SHAPE(cout, k, k, k, cin));
    c.b = tensor_empty(SHAPE(cout));
    float bound = 1.0f / sqrtf((float)(cin * k * k * k));
    rng_fill_uniform(r, tensor_f32(c.w), c.w->numel, -bound, bound);
    rng_fill_uniform(r, tensor_f32(c.b), c.b->numel, -bound, bound);
    add_param(m, c.w, wn);
    add_param(m, c.b, bn);
    return c;
}

static norm norm_new(demo_model *m, int ch, const char *gn, const char *bn) {
    norm n = {tensor_full(SHAPE(ch), 1.0f), tensor_zeros(SHAPE(ch))};
    add_param(m, n.g, gn);
    add_param(m, n.b, bn);
    return n;
}

static void model_init(demo_model *m, uint64_t seed) {
    memset(m, 0, sizeof *m);
    rng_state r = rng_seed(seed);
    mem_tag prev = mem_set_tag(MEM_PARAMS);
    m->enc_in = conv_new(m, &r, 3, CH, 3, "encoder.conv_in.weight", "encoder.conv_in.bias");
    m->enc_n1 = norm_new(m, CH, "encoder.norm1.weight", "encoder.norm1.bias");
    m->enc_down = conv_new(m, &r, CH, CH, 3, "encoder.down.weight", "encoder.down.bias");
    m->enc_n2 = norm_new(m, CH, "encoder.norm2.weight", "encoder.norm2.bias");
    m->enc_out = conv_new(m, &r, CH, 2 * LAT, 3, "encoder.conv_out.weight", "encoder.conv_out.bias");
    m->dec_in = conv_new(m, &r, LAT, CH, 3, "decoder.conv_in.weight", "decoder.conv_in.bias");
    m->dec_n1 = norm_new(m, CH, "decoder.norm1.weight", "decoder.norm1.bias");
    m->dec_up = conv_new(m, &r, CH, 2 * CH, 3, "decoder.time_up.weight", "decoder.time_up.bias");
    m->dec_mid = conv_new(m, &r, CH, CH, 3, "decoder.conv_mid.weight", "decoder.conv_mid.bias");
    m->dec_n2 = norm_new(m, CH, "decoder.norm2.weight", "decoder.norm2.bias");
    m->dec_out = conv_new(m, &r, CH, 3, 3, "decoder.conv_out.weight", "decoder.conv_out.bias");
    mem_set_tag(prev);
}

/* causal 3x3x3: pad time at the front only, so frame t never sees frames after t */
static tensor *causal_conv(tensor *x, conv c, int stride) {
    conv3d_args a = {{stride, stride, stride}, {3 - stride, 0, 1, 1, 1, 1}};
    return op_conv3d(x, c.w, c.b, &a);
}

static tensor *norm_act(tensor *x, norm n) { return op_silu(op_group_norm(x, n.g, n.b, 8, 1e-5f)); }

/* x (B,T,H,W,3) -> mean, logvar (B,T/2,H/2,W/2,LAT) */
static void encode(demo_model *m, tensor *x, tensor **mean, tensor **logvar) {
    tensor *h = norm_act(causal_conv(x, m->enc_in, 1), m->enc_n1);
    h = norm_act(causal_conv(h, m->enc_down, 2), m->enc_n2);
    tensor *moments = causal_conv(h, m->enc_out, 1);
    *mean = op_slice(moments, -1, 0, LAT);
    *logvar = op_clamp(op_slice(moments, -1, LAT, 2 * LAT), -30.0f, 20.0f);
}

static tensor *decode(demo_model *m, tensor *z) {
    tensor *h = norm_act(causal_conv(z, m->dec_in, 1), m->dec_n1);
    h = op_depth_to_time(causal_conv(h, m->dec_up, 1), 2);   /* (B,T/2,..,2CH) -> (B,T,..,CH) */
    h = op_upsample_nearest2x(h);
    h = norm_act(causal_conv(h, m->dec_mid, 1), m->dec_n2);
    return causal_conv(h, m->dec_out, 1);
}

static tensor *batch_of(const float *clips, int first, int n) {
    int64_t per = (int64_t)T * H * W * 3;
    return tensor_from_data(SHAPE(n, T, H, W, 3), clips + (int64_t)first * per);
}

/* held-out PSNR of mode reconstructions, pixels in [-1, 1] */
static double eval_psnr(demo_model *m, const float *val) {
    bool prev = ag_set_grad_enabled(false);
    double mse = 0;
    tensor_scope_begin();
    tensor *x = tensor_autorelease(batch_of(val, 0, NVAL)), *mean, *logvar;
    encode(m, x, &mean, &logvar);
    tensor *xr = op_clamp(decode(m, mean), -1.0f, 1.0f);
    const float *a = tensor_f32(x), *b = tensor_f32(xr);
    for (int64_t i = 0; i < x->numel; i++) mse += (double)(a[i] - b[i]) * (a[i] - b[i]);
    mse /= (double)x->numel;
    tensor_scope_end(NULL);
    ag_set_grad_enabled(prev);
    return 10.0 * log10(4.0 / mse);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int cmd_demo(int argc, char **argv) {
    int steps = 600;
    const char *out_dir = "runs/demo";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out_dir = argv[++i];
        else {
            printf("usage: vaec demo [--steps N] [--out DIR]\n"
                   "  trains a small causal 3-D conv VAE on synthetic moving shapes (CPU) and reports\n"
                   "  held-out PSNR before and after; weights go to DIR/demo.safetensors (default runs/demo)\n");
            return strcmp(argv[i], "--help") ? 2 : 0;
        }
    }
    int64_t per = (int64_t)T * H * W * 3;
    float *train = xmalloc((size_t)(NTRAIN * per) * sizeof(float)), *val = xmalloc((size_t)(NVAL * per) * sizeof(float));
    rng_state data_rng = rng_seed(1234);
    for (int i = 0; i < NTRAIN; i++) make_clip(&data_rng, train + i * per);
    for (int i = 0; i < NVAL; i++) make_clip(&data_rng, val + i * per);

    demo_model m;
    model_init(&m, 42);
    int64_t nparams = 0;
    for (int i = 0; i < m.n; i++) nparams += m.all[i]->numel;
    printf("vaec demo: causal 3-D conv VAE, %lld parameters, clips %dx%dx%d RGB -> latent %dx%dx%dx%d\n",
           (long long)nparams, T, H, W, T / 2, H / 2, W / 2, LAT);
    printf("data: %d synthetic training clips of moving shapes, %d held out\n", NTRAIN, NVAL);
    double psnr0 = eval_psnr(&m, val);
    printf("held-out PSNR before training: %.2f dB\n", psnr0);

    adamw *opt = adamw_new(m.all, m.n, (adamw_config){.lr = 2e-3f});
    *rng_global() = rng_seed(7);
    const float kl_weight = 1e-4f;
    double t0 = now_s();
    for (int step = 1; step <= steps; step++) {
        tensor_scope_begin();
        int first = (int)((step - 1) * BATCH % NTRAIN);
        tensor *x = tensor_autorelease(batch_of(train, first, BATCH)), *mean, *logvar;
        encode(&m, x, &mean, &logvar);
        tensor *z = op_reparam_sample(mean, logvar, rng_global());
        tensor *xr = decode(&m, z);
        tensor *rec = op_mean_all(op_abs(op_sub(x, xr)));
        /* KL(q || N(0,1)) per latent element: 0.5 * (mean^2 + var - 1 - logvar) */
        tensor *kl = op_mul_scalar(op_mean_all(op_sub(op_add(op_square(mean), op_exp(logvar)),
                                                      op_add_scalar(logvar, 1.0f))), 0.5f);
        tensor *loss = op_add(rec, op_mul_scalar(kl, kl_weight));
        ag_backward(loss);
        adamw_step(opt);
        ag_zero_grad(m.all, m.n);
        if (step % 50 == 0 || step == 1) {
            double el = now_s() - t0;
            printf("step %4d/%d  loss %.4f  rec_l1 %.4f  kl %.3f  %.1f steps/s  ETA %.0fs\n", step, steps,
                   tensor_f32(loss)[0], tensor_f32(rec)[0], tensor_f32(kl)[0], step / el, (steps - step) * el / step);
            fflush(stdout);
        }
        tensor_scope_end(NULL);
    }
    double psnr1 = eval_psnr(&m, val);

    mkdir("runs", 0755);
    mkdir(out_dir, 0755);
    char path[512];
    snprintf(path, sizeof path, "%s/demo.safetensors", out_dir);
    st_writer *w = st_writer_new();
    for (int i = 0; i < m.n; i++) st_writer_add(w, m.names[i], m.all[i], DTYPE_F32);
    char sbuf[32];
    snprintf(sbuf, sizeof sbuf, "%d", steps);
    st_writer_meta(w, "step", sbuf);
    if (st_writer_save(w, path) != 0) FATAL("%s", vaec_last_error());
    st_writer_free(w);

    printf("held-out PSNR: %.2f dB before, %.2f dB after %d steps (%+.2f dB) in %.0f s\n", psnr0, psnr1, steps,
           psnr1 - psnr0, now_s() - t0);
    printf("weights: %s (inspect with `vaec ckpt info %s`)\n", path, path);
    mem_report(stdout);
    adamw_free(opt);
    for (int i = 0; i < m.n; i++) tensor_release(m.all[i]);
    free(train);
    free(val);
    return psnr1 > psnr0 ? 0 : 1;
}
