"""Goldens for the temporal VAE (layers/vae_temporal.c), from vaec's own PyTorch reference (ref_temporal.py).

Writes temporal_tiny_model.safetensors (the tiny model's weights under Open-Sora's bare key names) and,
in temporal.safetensors, per T in {1, 4, 5, 9, 17}: x (1,4,T,4,4) -> moments = quant_conv(encoder(pad(x)));
z = mean + exp(logvar/2) * eps (eps given); dec = decode(z, T); loss = sum(moments * r_moments) +
sum(dec * r_dec); the gradients of x and of every parameter. The full default config (309.7M parameters)
is filled with golden_util.fill_deterministic and checked forward (posterior mean) at 17x8x8."""
import os

import torch
from safetensors.torch import save_file

from golden_util import fill_deterministic, to_vaec, weight_to_vaec
from ref_temporal import TemporalVAE

here = os.path.dirname(os.path.abspath(__file__))
TINY = dict(filters=4, num_res_blocks=2, channel_multipliers=(1, 2, 2, 4), temporal_downsample=(False, True, True),
            num_groups=2)


def vaec_layout(t):
    return weight_to_vaec(t) if t.dim() == 5 else t


def generate():
    torch.manual_seed(1)
    gen = torch.Generator().manual_seed(21)
    out = {}
    tiny = TemporalVAE(**TINY)
    save_file({k: v.contiguous() for k, v in tiny.state_dict().items()}, os.path.join(here, "temporal_tiny_model.safetensors"))
    tiny = tiny.double()
    params = dict(tiny.named_parameters())
    for t in (1, 4, 5, 9, 17):
        x = torch.randn((1, 4, t, 4, 4), generator=gen, dtype=torch.float64).requires_grad_(True)
        post = tiny.encode(x)
        moments = torch.cat([post.mean, post.logvar], dim=1)   # logvar clamped: same as raw here
        raw = tiny.quant_conv(tiny.encoder(torch.nn.functional.pad(x, (0, 0, 0, 0, tiny.pad_of(t), 0))))
        eps = torch.randn(post.mean.shape, generator=gen, dtype=torch.float64)
        dec = tiny.decode(post.sample(eps), t)
        r_m = torch.randn(raw.shape, generator=gen, dtype=torch.float64)
        r_d = torch.randn(dec.shape, generator=gen, dtype=torch.float64)
        grads = torch.autograd.grad((raw * r_m).sum() + (dec * r_d).sum(), [x] + list(params.values()))
        k = f"t{t}"
        out.update({f"{k}.x": to_vaec(x), f"{k}.moments": to_vaec(raw), f"{k}.eps": to_vaec(eps), f"{k}.dec": to_vaec(dec),
                    f"{k}.r_moments": to_vaec(r_m), f"{k}.r_dec": to_vaec(r_d), f"{k}.gx": to_vaec(grads[0])})
        for (name, _), g in zip(params.items(), grads[1:]):
            out[f"{k}.grad.{name}"] = vaec_layout(g)
        del moments

    # the example size: filters 16, 8 groups, 2 res blocks; formula weights (not stored), T = 17.
    # Encoder and decoder are checked apart, each on exact inputs, so an error is attributed to the half
    # that makes it (a decoder fed the encoder's float32 output also measures how much the decoder
    # amplifies rounding in its input, which depends on the weights: ~40x was seen with sine-pattern weights).
    mid = TemporalVAE(filters=16, num_res_blocks=2, num_groups=8)
    fill_deterministic(mid)
    mid = mid.double()
    x = torch.randn((1, 4, 17, 4, 4), generator=gen, dtype=torch.float64).requires_grad_(True)
    raw = mid.quant_conv(mid.encoder(torch.nn.functional.pad(x, (0, 0, 0, 0, mid.pad_of(17), 0))))
    r_m = torch.randn(raw.shape, generator=gen, dtype=torch.float64)
    gx, = torch.autograd.grad((raw * r_m).sum(), [x])
    z = torch.chunk(raw, 2, dim=1)[0].detach().requires_grad_(True)
    dec = mid.decode(z, 17)
    r_d = torch.randn(dec.shape, generator=gen, dtype=torch.float64)
    gz, = torch.autograd.grad((dec * r_d).sum(), [z])
    out.update({"mid.x": to_vaec(x), "mid.moments": to_vaec(raw), "mid.r_moments": to_vaec(r_m), "mid.gx": to_vaec(gx),
                "mid.z": to_vaec(z), "mid.dec": to_vaec(dec), "mid.r_dec": to_vaec(r_d), "mid.gz": to_vaec(gz)})

    full = TemporalVAE()
    fill_deterministic(full)
    n = sum(p.numel() for p in full.parameters())
    out["full.param_count"] = torch.tensor([float(n // 65536), float(n % 65536)])
    full = full.double()
    x = torch.randn((1, 4, 17, 8, 8), generator=gen, dtype=torch.float64)
    with torch.no_grad():
        post = full.encode(x)
        raw = torch.cat([post.mean, post.logvar], dim=1)
        dec = full.decode(post.mean, 17)
    out.update({"full.x": to_vaec(x), "full.moments": to_vaec(raw), "full.dec": to_vaec(dec)})
    return out
