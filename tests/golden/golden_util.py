"""Helpers shared by the golden generators (tests/golden/gen_*.py).

vaec stores activations channels-last: images (N,H,W,C), video (B,T,H,W,C); conv weights
(Cout, kt, kh, kw, Cin). PyTorch works channels-first, so generators compute in PyTorch's layout and
convert with to_vaec() / weight_to_vaec() before saving. All tensors are saved as float32.
"""
import torch


def to_vaec(t):
    """(N,C,...) channels-first -> (N,...,C) channels-last."""
    if t.dim() < 3:
        return t
    perm = [0] + list(range(2, t.dim())) + [1]
    return t.permute(*perm).contiguous().clone()


def weight_to_vaec(w):
    """(Cout,Cin,k...) -> (Cout,k...,Cin)."""
    perm = [0] + list(range(2, w.dim())) + [1]
    return w.permute(*perm).contiguous().clone()   # a 1x1 kernel's permute is already contiguous: never a view


def randn(*shape, gen, scale=1.0, dtype=torch.float64):
    """Reference math in float64; saved as float32. gen: a seeded torch.Generator."""
    return (torch.randn(*shape, generator=gen, dtype=dtype) * scale).requires_grad_(True)


def backward(out, inputs, gen):
    """Upstream gradient gy ~ N(0,1); returns gy and d(sum(out*gy))/d(input) for each input."""
    gy = torch.randn(out.shape, generator=gen, dtype=out.dtype)
    grads = torch.autograd.grad(out, inputs, gy, allow_unused=True)
    return gy, grads


def key_seed(key):
    h = 2166136261
    for c in key.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h


def hash_uniform(seed, n):
    """element k of a parameter's stream, exactly as layers/params.c: hash_uniform"""
    k = torch.arange(n, dtype=torch.int64)
    h = ((k * 2654435761) ^ seed) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h = h ^ (h >> 16)
    return h.to(torch.float64) / 2147483648.0 - 1.0


def fill_deterministic(model):
    """The formula of layers/params.c: params_fill_deterministic, on a PyTorch module's state dict."""
    import math
    with torch.no_grad():
        for key, p in model.state_dict().items():
            n = p.numel()
            base, a = 0.0, 0.02
            if p.dim() >= 2:
                a = 1.0 / math.sqrt(n // p.shape[0])
            elif "norm" in key and key.endswith(".weight"):
                base, a = 1.0, 0.1
            vals = (base + a * hash_uniform(key_seed(key), n)).to(torch.float32)
            p.copy_(vals.reshape(p.shape))
