"""Goldens for reshape/permute/depth_to_time (shape.c), pad.c, slice/concat (slice.c), matmul/linear."""
import torch
import torch.nn.functional as F
from golden_util import backward, randn, to_vaec


def case(out, name, inputs, y, gen):
    """inputs: dict of name -> leaf tensor; saves inputs, y, gy and g<name> for each input"""
    gy, grads = backward(y, list(inputs.values()), gen)
    for (k, v), g in zip(inputs.items(), grads):
        out[f"{name}.{k}"] = v
        out[f"{name}.g{k}"] = g
    out[f"{name}.y"] = y
    out[f"{name}.gy"] = gy


def generate():
    gen = torch.Generator().manual_seed(5)
    out = {}
    x = randn(2, 3, 4, 5, 3, gen=gen)
    case(out, "permute5", {"x": x}, x.permute(0, 4, 1, 2, 3), gen)
    x = randn(3, 5, 2, gen=gen)
    case(out, "permute3", {"x": x}, x.permute(2, 0, 1), gen)
    x = randn(2, 3, 4, gen=gen)
    case(out, "reshape", {"x": x}, x.reshape(4, 6), gen)

    # depth-to-time: the channels-first einops definition, stored channels-last
    for name, (b, c, ts, t, h, w) in {"d2t_a": (1, 4, 2, 3, 2, 3), "d2t_b": (2, 2, 2, 2, 1, 1)}.items():
        xcf = randn(b, c * ts, t, h, w, gen=gen)
        ycf = xcf.reshape(b, c, ts, t, h, w).permute(0, 1, 3, 2, 4, 5).reshape(b, c, t * ts, h, w)
        gy = torch.randn(ycf.shape, generator=gen, dtype=torch.float64)
        (gx,) = torch.autograd.grad(ycf, [xcf], gy)
        out.update({f"{name}.x": to_vaec(xcf), f"{name}.y": to_vaec(ycf), f"{name}.gy": to_vaec(gy),
                    f"{name}.gx": to_vaec(gx)})

    x = randn(1, 3, 4, 5, 2, gen=gen)   # causal time pad 2/0, H and W 1/1, on (B,T,H,W,C)
    case(out, "pad_causal", {"x": x}, F.pad(x, (0, 0, 1, 1, 1, 1, 2, 0), value=0.0), gen)
    x = randn(2, 5, 4, 3, gen=gen)      # Downsample2D's (0,1,0,1) on (N,H,W,C), nonzero value
    case(out, "pad_down", {"x": x}, F.pad(x, (0, 0, 0, 1, 0, 1), value=0.5), gen)

    x = randn(4, 6, 5, gen=gen)
    case(out, "slice_first", {"x": x}, x[0:2], gen)
    case(out, "slice_mid", {"x": x}, x[:, 2:5], gen)
    case(out, "slice_last", {"x": x}, x[..., 3:5], gen)
    for d, shapes in {0: [(1, 3, 2), (2, 3, 2), (3, 3, 2)], 1: [(2, 1, 3), (2, 4, 3), (2, 2, 3)],
                      2: [(2, 3, 1), (2, 3, 2), (2, 3, 4)]}.items():
        xs = {f"x{i}": randn(*s, gen=gen) for i, s in enumerate(shapes)}
        case(out, f"concat{d}", xs, torch.cat(list(xs.values()), dim=d), gen)

    for ta in (0, 1):
        for tb in (0, 1):
            a = randn(*((5, 3) if ta else (3, 5)), gen=gen)
            b = randn(*((4, 5) if tb else (5, 4)), gen=gen)
            case(out, f"mm{ta}{tb}", {"a": a, "b": b}, (a.T if ta else a) @ (b.T if tb else b), gen)
            a = randn(*((2, 5, 3) if ta else (2, 3, 5)), gen=gen)
            b = randn(*((2, 4, 5) if tb else (2, 5, 4)), gen=gen)
            case(out, f"bmm{ta}{tb}", {"a": a, "b": b},
                 torch.bmm(a.transpose(1, 2) if ta else a, b.transpose(1, 2) if tb else b), gen)
    x, w, b = randn(2, 3, 5, gen=gen), randn(4, 5, gen=gen), randn(4, gen=gen)
    case(out, "linear", {"x": x, "w": w, "b": b}, F.linear(x, w, b), gen)
    x, w = randn(3, 5, gen=gen), randn(2, 5, gen=gen)
    case(out, "linear_nobias", {"x": x, "w": w}, F.linear(x, w), gen)
    return out
