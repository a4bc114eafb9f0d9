"""Goldens for the spatial VAE (layers/autoencoder_kl.c), generated with diffusers' own AutoencoderKL.

Writes, beside spatial.safetensors (inputs, outputs and gradients in vaec's channels-last layout):
  spatial_a_model.safetensors            config A's weights as diffusers saves them (fp32, diffusers keys)
  spatial_b_model.safetensors            config B's weights
  spatial_a_oldnames_fp16.safetensors    config A in fp16 with the older attention names
                                         (query/key/value/proj_attn as 1x1 conv weights)
Per small config: x -> moments = quant_conv(encoder(x)); mean, logvar = chunk, logvar clamped;
z = mean + exp(logvar/2) * eps (eps given); dec = decoder(post_quant_conv(z));
loss = sum(moments * r_moments) + sum(dec * r_dec); gradients of x and of every parameter.
The full SDXL config (83.65M parameters) is filled with golden_util.fill_deterministic on both sides
and checked forward at 1x3x32x32 (its weights are not stored).
"""
import os

import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

from golden_util import fill_deterministic, to_vaec, weight_to_vaec

here = os.path.dirname(os.path.abspath(__file__))

CONFIGS = {  # name: (block_out_channels, layers_per_block, norm_num_groups, input shape)
    "a": ((32, 64), 1, 8, (1, 3, 16, 16)),
    "b": ((16, 32, 32), 2, 16, (2, 3, 12, 20)),
    "c": ((32, 32), 1, 32, (1, 3, 8, 8)),
}


def make(boc, lpb, groups):
    n = len(boc)
    return AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=boc,
                         layers_per_block=lpb, norm_num_groups=groups, down_block_types=("DownEncoderBlock2D",) * n,
                         up_block_types=("UpDecoderBlock2D",) * n)


def vaec_layout(key, t):
    return weight_to_vaec(t) if t.dim() == 4 else t


def run_case(name, vae, x, gen, out, with_grads=True):
    moments = vae.quant_conv(vae.encoder(x))
    mean, logvar = torch.chunk(moments, 2, dim=1)
    logvar = torch.clamp(logvar, -30.0, 20.0)
    eps = torch.randn(mean.shape, generator=gen, dtype=x.dtype)
    z = mean + torch.exp(0.5 * logvar) * eps
    dec = vae.decoder(vae.post_quant_conv(z))
    out[f"{name}.x"] = to_vaec(x)
    out[f"{name}.eps"] = to_vaec(eps)
    out[f"{name}.moments"] = to_vaec(moments)
    out[f"{name}.dec"] = to_vaec(dec)
    if not with_grads:
        return
    r_m = torch.randn(moments.shape, generator=gen, dtype=x.dtype)
    r_d = torch.randn(dec.shape, generator=gen, dtype=x.dtype)
    loss = (moments * r_m).sum() + (dec * r_d).sum()
    params = dict(vae.named_parameters())
    grads = torch.autograd.grad(loss, [x] + list(params.values()))
    out[f"{name}.r_moments"] = to_vaec(r_m)
    out[f"{name}.r_dec"] = to_vaec(r_d)
    out[f"{name}.gx"] = to_vaec(grads[0])
    for (k, _), g in zip(params.items(), grads[1:]):
        out[f"{name}.grad.{k}"] = vaec_layout(k, g)


def generate():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(11)
    out = {}
    for name, (boc, lpb, groups, xs) in CONFIGS.items():
        vae = make(boc, lpb, groups).eval()
        save_file({k: v.contiguous() for k, v in vae.state_dict().items()}, os.path.join(here, f"spatial_{name}_model.safetensors"))
        if name == "a":   # the same weights in fp16 under the older attention names, 1x1-conv shaped
            old = {}
            ren = {"to_q": "query", "to_k": "key", "to_v": "value", "to_out.0": "proj_attn"}
            for k, v in vae.state_dict().items():
                for new, o in ren.items():
                    if f".attentions.0.{new}." in k:
                        k = k.replace(f".attentions.0.{new}.", f".attentions.0.{o}.")
                        if v.dim() == 2:
                            v = v[:, :, None, None]
                old[k] = v.half().contiguous()
            save_file(old, os.path.join(here, "spatial_a_oldnames_fp16.safetensors"))
            vae16 = make(boc, lpb, groups).eval()
            vae16.load_state_dict({k: v.half().float() for k, v in vae.state_dict().items()})
            x16 = torch.randn(xs, generator=gen, dtype=torch.float64)
            with torch.no_grad():
                run_case("a16", vae16.double(), x16, gen, out, with_grads=False)
        vae = vae.double()
        x = torch.randn(xs, generator=gen, dtype=torch.float64).requires_grad_(True)
        run_case(name, vae, x, gen, out)

    # the posterior's kl and nll (DiagonalGaussianDistribution) on moments of shape (2,8,3,5)
    moments = torch.randn((2, 8, 3, 5), generator=gen, dtype=torch.float64).requires_grad_(True)
    sample = torch.randn((2, 4, 3, 5), generator=gen, dtype=torch.float64)
    mean, logvar = torch.chunk(moments, 2, dim=1)
    logvar = torch.clamp(logvar, -30.0, 20.0)
    var = torch.exp(logvar)
    kl = 0.5 * torch.sum(mean ** 2 + var - 1.0 - logvar, dim=[1, 2, 3])
    nll = 0.5 * torch.sum(torch.log(torch.tensor(2 * torch.pi, dtype=torch.float64)) + logvar + (sample - mean) ** 2 / var,
                          dim=[1, 2, 3])
    gkl, = torch.autograd.grad(kl.sum(), [moments], retain_graph=True)
    gnll, = torch.autograd.grad(nll.sum(), [moments])
    out.update({"post.moments": to_vaec(moments), "post.sample": to_vaec(sample), "post.kl": kl, "post.nll": nll,
                "post.gkl": to_vaec(gkl), "post.gnll": to_vaec(gnll)})

    sdxl = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(128, 256, 512, 512),
                         layers_per_block=2, norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * 4,
                         up_block_types=("UpDecoderBlock2D",) * 4).eval()
    fill_deterministic(sdxl)
    n = sum(p.numel() for p in sdxl.parameters())   # exact in float32 as two 16-bit halves
    out["sdxl.param_count"] = torch.tensor([float(n // 65536), float(n % 65536)])
    sdxl = sdxl.double()
    x = torch.randn((1, 3, 32, 32), generator=gen, dtype=torch.float64)
    with torch.no_grad():
        run_case("sdxl", sdxl, x, gen, out, with_grads=False)
    return out
