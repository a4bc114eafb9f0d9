/* test_metrics.c: PSNR and SSIM against an independent PyTorch implementation. */
#include <math.h>
#include "tests/harness/gradcheck.h"
#include "tests/harness/test.h"
#include "train/metrics.h"

TEST(test_metrics_psnr_ssim_match_torch) {
    golden_file *g = golden_open("metrics");
    tensor *x = golden_get(g, "x"), *y = golden_get(g, "y"), *p = golden_get(g, "psnr"), *s = golden_get(g, "ssim");
    double psnr = metric_psnr(x, y), ssim = metric_ssim(x, y);
    EXPECT(fabs(psnr - tensor_f32(p)[0]) < 1e-4, "PSNR %.6f, PyTorch %.6f", psnr, tensor_f32(p)[0]);
    EXPECT(fabs(ssim - tensor_f32(s)[0]) < 1e-5, "SSIM %.6f, PyTorch %.6f", ssim, tensor_f32(s)[0]);
    EXPECT(metric_ssim(x, x) > 0.999999 && isinf(metric_psnr(x, x)), "identical inputs");
    tensor *list[] = {x, y, p, s};
    for (int i = 0; i < 4; i++) tensor_release(list[i]);
    golden_close(g);
}
