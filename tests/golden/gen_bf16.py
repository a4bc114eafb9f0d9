"""Golden for one bf16 training step (train/step.c with [train] precision = bf16) against PyTorch's CPU
autocast: the tiny stage-1 setup of gen_stage1.py (its weights file, spatial VAE frozen, posterior means,
use_z_rec_loss and use_image_identity_loss, L1) on step 0's clip, float32 weights, the forward under
torch.autocast("cpu", dtype=torch.bfloat16) as Open-Sora trains (ColossalAI bf16). The losses take their
inputs in float32 (vaec computes every loss, KL and reduction in float32); the gradients reach the
parameters in float32. Records the loss terms and every trainable parameter's gradient (before clipping),
the gradients stored as bf16 (half the bytes; a rounding of 2^-8, well inside the test's 2e-2).
"""
import os

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file

from golden_util import to_vaec, weight_to_vaec
from ref_temporal import Pipeline, TemporalVAE

here = os.path.dirname(os.path.abspath(__file__))
KEEP_DTYPE = True   # x and the losses float32, the gradients bf16


def nll(x, xh, logvar):   # upstream weighted_nll, L1, SUM over C,H,W and MEAN over frames; in logvar's dtype
    x, xh = x.to(logvar.dtype), xh.to(logvar.dtype)   # float32 (vaec's losses) or float64 (the reference)
    return ((x - xh).abs() / torch.exp(logvar) + logvar).sum() / (x.shape[0] * x.shape[2])


def tiny_pipeline(dtype, freeze):
    spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = Pipeline(spatial, TemporalVAE(filters=4, num_res_blocks=1, num_groups=2), micro_frame_size=17)
    pipe.load_state_dict(load_file(os.path.join(here, "pipeline_tiny_model.safetensors")))
    pipe = pipe.to(dtype)
    for p in pipe.spatial_vae.parameters():
        p.requires_grad_(not freeze)
    return pipe


def step_grads(x, dtype, autocast, stage3):
    """one step's trainable gradients (temporal first, then spatial when trained), float64 copies, and the loss:
    stage 1: z_nll (+ identity for one frame); stage 3: + pixel L1 and KL (weight 1e-6), both VAEs trained"""
    pipe = tiny_pipeline(dtype, not stage3)
    logvar = torch.zeros(1, dtype=dtype)
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        z, post, x_z = pipe.encode(x.to(dtype))
        x_rec, x_z_rec = pipe.decode(z, x_z.shape[2])
        loss = nll(x_z.to(dtype), x_z_rec.to(dtype), logvar)
        if stage3:
            loss = loss + nll(x.to(dtype), x_rec.to(dtype), logvar) + 1e-6 * post.kl().to(dtype).sum() / x.shape[0]
    loss.backward()
    named = [(k, p) for k, p in pipe.named_parameters() if p.requires_grad]
    named = [kp for kp in named if kp[0].startswith("temporal_vae.")] + [kp for kp in named if not kp[0].startswith("temporal_vae.")]
    return [(k, p.grad.double()) for k, p in named], loss.item()


def autocast_errors(out, x, stage3):
    """PyTorch's own bf16 error on this setup, tensor by tensor: autocast (float32 weights) against float64,
    max|d| / max|ref| and max|d| / (the largest gradient of the model); the C test holds vaec to these"""
    ac, _ = step_grads(x, torch.float32, True, stage3)
    ref, _ = step_grads(x, torch.float64, False, stage3)
    scale = max(g.abs().max().item() for _, g in ref)
    tag = "stage3" if stage3 else "stage1"
    for (k, a), (_, r) in zip(ac, ref):
        d = (a - r).abs().max().item()
        own = d / max(r.abs().max().item(), 1e-30)
        out[f"torch_err.{tag}.{k}"] = torch.tensor([own, d / scale], dtype=torch.float32)


def generate():
    gen = torch.Generator().manual_seed(51)   # gen_stage1.py's seed: the same first clip
    spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = Pipeline(spatial, TemporalVAE(filters=4, num_res_blocks=1, num_groups=2), micro_frame_size=17)
    pipe.load_state_dict(load_file(os.path.join(here, "pipeline_tiny_model.safetensors")))
    pipe = pipe.float()
    for p in pipe.spatial_vae.parameters():
        p.requires_grad_(False)
    params = [p for p in pipe.parameters() if p.requires_grad]
    names = [k for k, p in pipe.named_parameters() if p.requires_grad]
    logvar = torch.zeros(1)
    x = torch.randint(0, 256, (1, 3, 5, 8, 8), generator=gen).to(torch.float32) / 127.5 - 1
    with torch.autocast("cpu", dtype=torch.bfloat16):
        z, post, x_z = pipe.encode(x)
        mz = pipe.temporal_vae.latent_t(pipe.mfs)
        x_z_rec = torch.cat([pipe.temporal_vae.decode(z[:, :, i:i + mz], min(pipe.mfs, x_z.shape[2] - (i // mz) * pipe.mfs))
                             for i in range(0, z.shape[2], mz)], dim=2)
        z_nll = nll(x_z, x_z_rec, logvar)
    loss = z_nll
    loss.backward()
    out = {"x": to_vaec(x), "loss": torch.stack([loss.detach(), z_nll.detach()])}
    for k, p in zip(names, params):
        assert p.grad.dtype == torch.float32
        out[f"grad.temporal_vae.{k[len('temporal_vae.'):]}" if k.startswith("temporal_vae.") else f"grad.{k}"] = \
            (weight_to_vaec(p.grad) if p.grad.dim() == 5 else p.grad.clone()).to(torch.bfloat16)
    autocast_errors(out, x, False)
    autocast_errors(out, x, True)
    return out
