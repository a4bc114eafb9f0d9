"""Goldens for op_relu and op_max_pool2d (core/ops/relu.c, max_pool.c), the ops VGG16 adds for LPIPS:
inputs, forward outputs, upstream gradient gy and input gradients, channels-last."""
import torch
import torch.nn.functional as F
from golden_util import backward, randn, to_vaec


def case(out, key, gen, shape, fn):
    x = randn(*shape, gen=gen)                 # (N,C,H,W): PyTorch's layout
    y = fn(x)
    gy, (gx,) = backward(y, [x], gen)
    out.update({f"{key}.x": to_vaec(x), f"{key}.y": to_vaec(y), f"{key}.gy": to_vaec(gy), f"{key}.gx": to_vaec(gx)})


def generate():
    gen = torch.Generator().manual_seed(7)
    out = {}
    case(out, "relu", gen, (2, 3, 5, 4), F.relu)
    case(out, "pool_even", gen, (2, 3, 6, 4), lambda x: F.max_pool2d(x, 2, 2))
    case(out, "pool_odd", gen, (1, 4, 7, 5), lambda x: F.max_pool2d(x, 2, 2))   # odd H, W: last row/col dropped
    return out
