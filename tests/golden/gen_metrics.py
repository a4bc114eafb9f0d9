"""Goldens for PSNR and SSIM (train/metrics.c): an independent PyTorch implementation of the same
definitions (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, valid positions, C1 = 0.01^2, C2 = 0.03^2,
on pixels mapped from [-1, 1] to [0, 1])."""
import torch
import torch.nn.functional as F


def ssim(a, b):   # a, b: (N, C, H, W) in [0, 1]
    g = torch.exp(-((torch.arange(11, dtype=torch.float64) - 5) ** 2) / (2 * 1.5 ** 2))
    g = g / g.sum()
    w = (g[:, None] * g[None, :]).expand(a.shape[1], 1, 11, 11)
    f = lambda t: F.conv2d(t, w, groups=a.shape[1])
    mx, my = f(a), f(b)
    sxx, syy, sxy = f(a * a) - mx * mx, f(b * b) - my * my, f(a * b) - mx * my
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    return (((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))).mean()


def generate():
    gen = torch.Generator().manual_seed(13)
    x = torch.rand(2, 3, 20, 24, 3, generator=gen, dtype=torch.float64) * 2 - 1          # (B,T,H,W,C)
    y = (x + 0.3 * torch.randn(x.shape, generator=gen, dtype=torch.float64)).clamp(-1, 1)
    mse = (((x - y) / 2) ** 2).mean()
    frames = lambda t: ((t + 1) / 2).reshape(-1, 20, 24, 3).permute(0, 3, 1, 2)
    return {"x": x, "y": y, "psnr": (10 * torch.log10(1 / mse)).reshape(1), "ssim": ssim(frames(x), frames(y)).reshape(1)}
