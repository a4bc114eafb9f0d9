/* metrics.c: PSNR and SSIM (see metrics.h). */
#include "train/metrics.h"
#include <math.h>

static void check_pair(const tensor *a, const tensor *b, const char *what) {
    char sa[96], sb[96];
    tensor_shape_str(a, sa, sizeof sa);
    tensor_shape_str(b, sb, sizeof sb);
    CHECK(tensor_same_shape(a, b) && a->device == DEVICE_CPU && b->device == DEVICE_CPU,
          "%s: needs two CPU tensors of one shape, got %s and %s", what, sa, sb);
}

double metric_psnr(const tensor *a, const tensor *b) {
    check_pair(a, b, "psnr");
    const float *x = tensor_f32(a), *y = tensor_f32(b);
    double se = 0;
    for (int64_t i = 0; i < a->numel; i++) {
        double d = 0.5 * ((double)x[i] - (double)y[i]);   /* [-1,1] -> [0,1] */
        se += d * d;
    }
    double mse = se / (double)(a->numel ? a->numel : 1);
    return mse > 0 ? 10.0 * log10(1.0 / mse) : INFINITY;
}

double metric_ssim(const tensor *a, const tensor *b) {
    check_pair(a, b, "ssim");
    CHECK(a->ndim == 4 || a->ndim == 5, "ssim: expects (N,H,W,C) or (B,T,H,W,C)");
    int64_t H = a->shape[a->ndim - 3], W = a->shape[a->ndim - 2], C = a->shape[a->ndim - 1];
    int64_t frames = a->numel / (H * W * C);
    enum { K = 11 };
    double g[K], gs = 0;
    for (int i = 0; i < K; i++) { g[i] = exp(-((i - 5) * (i - 5)) / (2 * 1.5 * 1.5)); gs += g[i]; }
    for (int i = 0; i < K; i++) g[i] /= gs;
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    int64_t win = K <= H && K <= W ? K : (H < W ? H : W);   /* tiny frames: one window of the whole frame */
    int64_t oh = H - win + 1, ow = W - win + 1;
    const float *x = tensor_f32(a), *y = tensor_f32(b);
    double total = 0;
    int64_t count = 0;
#pragma omp parallel for reduction(+ : total, count) schedule(static)
    for (int64_t fc = 0; fc < frames * C; fc++) {
        int64_t f = fc / C, c = fc % C;
        const float *xf = x + f * H * W * C + c, *yf = y + f * H * W * C + c;
        for (int64_t i = 0; i < oh; i++)
            for (int64_t j = 0; j < ow; j++) {
                double mx = 0, my = 0, sxx = 0, syy = 0, sxy = 0, wsum = 0;
                for (int64_t u = 0; u < win; u++)
                    for (int64_t v = 0; v < win; v++) {
                        double w = win == K ? g[u] * g[v] : 1.0;
                        double p = 0.5 * (xf[((i + u) * W + j + v) * C] + 1.0), q = 0.5 * (yf[((i + u) * W + j + v) * C] + 1.0);
                        wsum += w;
                        mx += w * p;
                        my += w * q;
                        sxx += w * p * p;
                        syy += w * q * q;
                        sxy += w * p * q;
                    }
                mx /= wsum, my /= wsum, sxx = sxx / wsum - mx * mx, syy = syy / wsum - my * my, sxy = sxy / wsum - mx * my;
                total += ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2));
                count++;
            }
    }
    return count ? total / (double)count : 1.0;
}
