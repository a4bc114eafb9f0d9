"""Goldens for op_group_norm, op_softmax, op_attention, op_upsample_nearest2x (core/ops/group_norm.c,
softmax.c, attention.c, upsample.c): inputs, forward outputs, upstream gradient gy and every input
gradient, in float64 reference math, channels-last."""
import torch
import torch.nn.functional as F
from golden_util import backward, randn, to_vaec


def group_norm_case(out, key, gen, shape, groups, eps):
    C = shape[1]
    x = (randn(*shape, gen=gen, scale=2.0).detach() + 0.7).requires_grad_(True)   # offset: tests the mean
    w = (1.0 + randn(C, gen=gen, scale=0.5).detach()).requires_grad_(True)
    b = randn(C, gen=gen, scale=0.5)
    y = F.group_norm(x, groups, w, b, eps)
    gy, (gx, gw, gb) = backward(y, [x, w, b], gen)
    out.update({f"{key}.x": to_vaec(x), f"{key}.w": w, f"{key}.b": b, f"{key}.y": to_vaec(y),
                f"{key}.gy": to_vaec(gy), f"{key}.gx": to_vaec(gx), f"{key}.gw": gw, f"{key}.gb": gb})


def softmax_case(out, key, gen, shape):
    x = randn(*shape, gen=gen, scale=3.0)
    y = F.softmax(x, dim=-1)
    gy, (gx,) = backward(y, [x], gen)
    out.update({f"{key}.x": x, f"{key}.y": y, f"{key}.gy": gy, f"{key}.gx": gx})


def attention_case(out, key, gen, N, Lq, Lk, C):
    # diffusers' Attention on (N, HW, C): softmax(q k^T * scale) v with scale = 1/sqrt(C)
    q = randn(N, Lq, C, gen=gen, scale=1.5)
    k = randn(N, Lk, C, gen=gen, scale=1.5)
    v = randn(N, Lk, C, gen=gen)
    scale = 1.0 / C ** 0.5
    y = torch.softmax(q @ k.transpose(1, 2) * scale, dim=-1) @ v
    gy, (gq, gk, gv) = backward(y, [q, k, v], gen)
    out.update({f"{key}.q": q, f"{key}.k": k, f"{key}.v": v, f"{key}.y": y, f"{key}.gy": gy,
                f"{key}.gq": gq, f"{key}.gk": gk, f"{key}.gv": gv})


def upsample_case(out, key, gen, shape):
    x = randn(*shape, gen=gen)
    if x.dim() == 4:
        y = F.interpolate(x, scale_factor=2, mode="nearest")
    else:   # (B,C,T,H,W): per frame, time untouched
        B, C, T, H, W = x.shape
        frames = x.permute(0, 2, 1, 3, 4).reshape(B * T, C, H, W)
        y = F.interpolate(frames, scale_factor=2, mode="nearest")
        y = y.reshape(B, T, C, 2 * H, 2 * W).permute(0, 2, 1, 3, 4)
    gy, (gx,) = backward(y, [x], gen)
    out.update({f"{key}.x": to_vaec(x), f"{key}.y": to_vaec(y), f"{key}.gy": to_vaec(gy), f"{key}.gx": to_vaec(gx)})


def generate():
    gen = torch.Generator().manual_seed(7)
    out = {}
    group_norm_case(out, "gn4", gen, (2, 8, 5, 3), groups=4, eps=1e-6)        # SDXL VAE eps
    group_norm_case(out, "gn5", gen, (2, 8, 3, 4, 5), groups=2, eps=1e-5)     # temporal VAE: spans frames
    group_norm_case(out, "gn32", gen, (2, 32, 3, 2), groups=32, eps=1e-6)     # one channel per group
    softmax_case(out, "sm2", gen, (3, 7))
    softmax_case(out, "sm3", gen, (2, 3, 5))
    attention_case(out, "att16", gen, 2, 16, 16, 8)   # a 4x4 image
    attention_case(out, "att9", gen, 2, 9, 9, 5)
    attention_case(out, "attx", gen, 2, 6, 10, 4)     # cross: Lq != Lk
    upsample_case(out, "up4", gen, (2, 3, 5, 3))
    upsample_case(out, "up5", gen, (2, 3, 2, 3, 4))
    return out
