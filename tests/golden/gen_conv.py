"""Goldens for op_conv2d / op_conv3d (core/ops/conv.c): each case in PyTorch's channels-first layout
with F.pad for asymmetric/causal pads, stored channels-last with weights (Cout, k..., Cin)."""
import torch
import torch.nn.functional as F
from golden_util import randn, to_vaec, weight_to_vaec

# name: (dims, x shape (channels-first), cout, kernel, stride, pad per side as F.pad order, bias)
# F.pad order: 2-D (w_left, w_right, h_top, h_bottom); 3-D adds (t_front, t_back)
CASES = {
    "c2_3x3":      (2, (2, 3, 5, 7), 4, (3, 3), (1, 1), (1, 1, 1, 1), True),
    "c2_s2":       (2, (1, 4, 7, 6), 5, (3, 3), (2, 2), (1, 1, 1, 1), True),
    "c2_down_even": (2, (2, 3, 6, 6), 4, (3, 3), (2, 2), (0, 1, 0, 1), True),
    "c2_down_odd": (2, (1, 3, 7, 5), 4, (3, 3), (2, 2), (0, 1, 0, 1), True),
    "c2_1x1":      (2, (2, 6, 3, 5), 3, (1, 1), (1, 1), (0, 0, 0, 0), True),
    "c2_1x1_nob":  (2, (2, 6, 3, 5), 3, (1, 1), (1, 1), (0, 0, 0, 0), False),
    "c2_big":      (2, (1, 32, 16, 16), 32, (3, 3), (1, 1), (1, 1, 1, 1), True),
    "c3_causal":   (3, (1, 3, 4, 5, 4), 5, (3, 3, 3), (1, 1, 1), (1, 1, 1, 1, 2, 0), False),
    "c3_ts2_t5":   (3, (2, 3, 5, 4, 3), 4, (3, 3, 3), (2, 1, 1), (1, 1, 1, 1, 1, 0), True),
    "c3_ts2_t4":   (3, (1, 4, 4, 3, 3), 4, (3, 3, 3), (2, 1, 1), (1, 1, 1, 1, 1, 0), True),
    "c3_1x1":      (3, (2, 5, 3, 2, 3), 3, (1, 1, 1), (1, 1, 1), (0, 0, 0, 0, 0, 0), False),
    "c3_big":      (3, (1, 16, 5, 8, 8), 16, (3, 3, 3), (1, 1, 1), (1, 1, 1, 1, 2, 0), True),
}


def generate():
    gen = torch.Generator().manual_seed(7)
    out = {}
    for name, (dims, xs, cout, k, stride, pad, bias) in CASES.items():
        cin = xs[1]
        fan_in = cin
        for kk in k:
            fan_in *= kk
        x = randn(*xs, gen=gen)
        w = randn(cout, cin, *k, gen=gen, scale=fan_in ** -0.5)
        b = randn(cout, gen=gen) if bias else None
        conv = F.conv2d if dims == 2 else F.conv3d
        y = conv(F.pad(x, pad), w, b, stride=stride)
        gy = torch.randn(y.shape, generator=gen, dtype=torch.float64)
        inputs = [x, w] + ([b] if bias else [])
        grads = torch.autograd.grad(y, inputs, gy)
        out.update({f"{name}.x": to_vaec(x), f"{name}.w": weight_to_vaec(w), f"{name}.y": to_vaec(y),
                    f"{name}.gy": to_vaec(gy), f"{name}.gx": to_vaec(grads[0]), f"{name}.gw": weight_to_vaec(grads[1])})
        if bias:
            out[f"{name}.b"] = b
            out[f"{name}.gb"] = grads[2]
    return out
