"""Goldens for the elementwise, scalar, reduction and reparameterization ops
(core/ops/binary.c, unary.c, scalar.c, reduce.c, reparam.c)."""
import torch
from golden_util import backward, randn

BINARY = {  # name: (shape a, shape b)
    "same": ((2, 3, 4), (2, 3, 4)),
    "trail": ((2, 3, 4), (4,)),
    "outer": ((2, 1, 4), (1, 3, 1)),
    "col_row": ((5, 1), (1, 4)),
    "chan": ((2, 3, 2, 3, 5), (5,)),
    "scalar": ((3, 4), (1,)),
}
OPS = {"add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div}


def away_from(x, points, margin=0.1):
    """push values at least `margin` away from each kink point (abs at 0, clamp bounds)"""
    with torch.no_grad():
        for p in points:
            d = x - p
            close = d.abs() < margin
            x[close] = p + torch.sign(d[close] + 1e-12) * margin * 2
    return x


def generate():
    gen = torch.Generator().manual_seed(3)
    out = {}
    for case, (sa, sb) in BINARY.items():
        for name, fn in OPS.items():
            a = randn(*sa, gen=gen)
            b = randn(*sb, gen=gen)
            if name == "div":
                with torch.no_grad():
                    b.copy_(torch.sign(b) * (b.abs() + 0.5))
            y = fn(a, b)
            gy, (ga, gb) = backward(y, [a, b], gen)
            k = f"{name}.{case}"
            out.update({k + ".a": a, k + ".b": b, k + ".y": y, k + ".gy": gy, k + ".ga": ga, k + ".gb": gb})

    unary = {
        "abs": (torch.abs, lambda x: away_from(x, [0.0])),
        "square": (torch.square, None),
        "exp": (torch.exp, None),
        "log": (torch.log, lambda x: x.abs_().add_(0.2)),
        "sqrt": (torch.sqrt, lambda x: x.abs_().add_(0.2)),
        "neg": (torch.neg, None),
        "clamp": (lambda x: torch.clamp(x, -0.5, 0.7), lambda x: away_from(x, [-0.5, 0.7])),
        "add_scalar": (lambda x: x + 1.5, None),
        "mul_scalar": (lambda x: x * -2.5, None),
        "rsub_scalar": (lambda x: 3.0 - x, None),
        "pow_scalar": (lambda x: torch.pow(x, 1.7), lambda x: x.abs_().add_(0.2)),
    }
    for name, (fn, prep) in unary.items():
        x = randn(3, 5, 7, gen=gen)
        if prep:
            with torch.no_grad():
                prep(x)
        y = fn(x)
        gy, (gx,) = backward(y, [x], gen)
        out.update({f"{name}.x": x, f"{name}.y": y, f"{name}.gy": gy, f"{name}.gx": gx})

    reductions = {  # name: (dims, keepdim)
        "d1": ([1], False), "d1k": ([1], True), "d02": ([0, 2], False), "neg": ([-1], False),
        "most": ([0, 1, 3], True), "all": (None, False),
    }
    for name, (dims, keep) in reductions.items():
        x = randn(3, 4, 5, 2, gen=gen)
        for kind, fn in (("sum", torch.sum), ("mean", torch.mean)):
            y = fn(x) if dims is None else fn(x, dim=dims, keepdim=keep)
            gy, (gx,) = backward(y, [x], gen)
            k = f"{kind}.{name}"
            out.update({k + ".x": x, k + ".y": y, k + ".gy": gy, k + ".gx": gx})

    mean = randn(2, 3, 4, 5, 4, gen=gen)
    logvar = (torch.rand(2, 3, 4, 5, 4, generator=gen, dtype=torch.float64) * 6 - 3).requires_grad_(True)
    eps = torch.randn(2, 3, 4, 5, 4, generator=gen, dtype=torch.float64)
    z = mean + torch.exp(0.5 * logvar) * eps
    gy, (gm, gl) = backward(z, [mean, logvar], gen)
    out.update({"reparam.mean": mean, "reparam.logvar": logvar, "reparam.eps": eps, "reparam.z": z,
                "reparam.gy": gy, "reparam.gmean": gm, "reparam.glogvar": gl})
    return out
