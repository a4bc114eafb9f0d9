/* metrics.h: reconstruction quality. Pixels are in [-1, 1] (vaec's video range).
 * psnr: 10 log10(peak^2 / MSE) with the [-1, 1] range mapped to [0, 1] (peak 1), over all elements.
 * ssim: Wang et al. 2004 on [0, 1] pixels, 11x11 Gaussian window (sigma 1.5), C1 = 0.01^2, C2 = 0.03^2,
 * valid positions only (no padding), averaged over positions, channels, frames and the batch.
 * Inputs are channels-last (B,T,H,W,C) or (N,H,W,C), same shape. */
#ifndef VAEC_TRAIN_METRICS_H
#define VAEC_TRAIN_METRICS_H
#include "core/tensor.h"   // defines: tensor

double metric_psnr(const tensor *a, const tensor *b);
double metric_ssim(const tensor *a, const tensor *b);

#endif
