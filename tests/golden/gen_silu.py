"""Goldens for op_silu (core/ops/silu.c): forward and input gradient on an odd 5-D shape."""
import torch
import torch.nn.functional as F
from golden_util import backward, randn, to_vaec


def generate():
    gen = torch.Generator().manual_seed(1)
    out = {}
    x = randn(2, 3, 5, 7, 4, gen=gen, scale=2.0)   # (B,T,H,W,C) already: elementwise, layout-free
    y = F.silu(x)
    gy, (gx,) = backward(y, [x], gen)
    out.update({"silu.x": x, "silu.y": y, "silu.gy": gy, "silu.gx": gx})
    return out
