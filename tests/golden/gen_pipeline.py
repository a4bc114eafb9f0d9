"""Goldens for the pipeline (layers/pipeline.c): tiny spatial (diffusers AutoencoderKL) + tiny temporal
(ref_temporal.py), cal_loss on, posterior means (sample_posterior off), micro_frame_size 5 on 9 frames
(chunks of 5 and 4 frames; latent chunks of 2 and 1). Writes pipeline_tiny_model.safetensors with
Open-Sora's pipeline key names (spatial_vae.module.*, temporal_vae.*). Checks all five outputs and the
gradients of x and every parameter of both VAEs (spatial not frozen)."""
import os

import torch
from diffusers import AutoencoderKL
from safetensors.torch import save_file

from golden_util import to_vaec, weight_to_vaec
from ref_temporal import Pipeline, TemporalVAE

here = os.path.dirname(os.path.abspath(__file__))


def generate():
    torch.manual_seed(2)
    gen = torch.Generator().manual_seed(31)
    spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    temporal = TemporalVAE(filters=4, num_res_blocks=1, num_groups=2)
    pipe = Pipeline(spatial, temporal, micro_frame_size=5)
    save_file({k: v.contiguous() for k, v in pipe.state_dict().items()}, os.path.join(here, "pipeline_tiny_model.safetensors"))
    pipe = pipe.double()
    x = (torch.rand((1, 3, 9, 8, 8), generator=gen, dtype=torch.float64) * 2 - 1).requires_grad_(True)
    x_rec, x_z_rec, z, post, x_z = pipe(x)
    outs = {"x_rec": x_rec, "x_z_rec": x_z_rec, "z": z, "mean": post.mean, "logvar": post.logvar, "x_z": x_z}
    loss = 0
    out = {"x": to_vaec(x)}
    for k, v in outs.items():
        r = torch.randn(v.shape, generator=gen, dtype=torch.float64)
        loss = loss + (v * r).sum()
        out[k] = to_vaec(v)
        out["r_" + k] = to_vaec(r)
    params = dict(pipe.named_parameters())
    grads = torch.autograd.grad(loss, [x] + list(params.values()))
    out["gx"] = to_vaec(grads[0])
    for (k, _), g in zip(params.items(), grads[1:]):
        out["grad." + k] = weight_to_vaec(g) if g.dim() >= 4 else g
    return out
