"""Golden for a tiny stage-1 run (train/step.c): the tiny pipeline of gen_pipeline.py (its weights file),
spatial VAE frozen, cal_loss on, posterior means (sample_posterior off), use_z_rec_loss and
use_image_identity_loss on, no pixel loss; AdamW lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0,
global-norm clipping at 1.0; 5 steps on fixed batches (1,3,5,8,8) of uint8 pixels scaled to [-1, 1], step 3 an image batch (1,3,1,8,8).
Records every step's loss terms and gradient norm, and the first step's gradients (what --dump-grads
writes). Reference math in float64."""
import os

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file

from golden_util import to_vaec, weight_to_vaec
from ref_temporal import Pipeline, TemporalVAE

here = os.path.dirname(os.path.abspath(__file__))


def nll(x, xh, logvar):   # upstream weighted_nll, L1, SUM over C,H,W and MEAN over frames
    return ((x - xh).abs() / torch.exp(logvar) + logvar).sum() / (x.shape[0] * x.shape[2])


def generate():
    gen = torch.Generator().manual_seed(51)
    spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                            down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
    pipe = Pipeline(spatial, TemporalVAE(filters=4, num_res_blocks=1, num_groups=2), micro_frame_size=17)
    pipe.load_state_dict(load_file(os.path.join(here, "pipeline_tiny_model.safetensors")))
    pipe = pipe.double()
    for p in pipe.spatial_vae.parameters():
        p.requires_grad_(False)
    params = [p for p in pipe.parameters() if p.requires_grad]
    names = [k for k, p in pipe.named_parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, foreach=False)
    logvar = torch.zeros(1, dtype=torch.float64)
    out = {}
    for step in range(5):
        t = 1 if step == 3 else 5
        # uint8 pixels mapped to [-1, 1] as the loader does, so the same clip stored in an HDF5 file gives the
        # same x (test_cli_train_dump_grads_match_pytorch runs `vaec train --dump-grads` on step 0's clip)
        x = torch.randint(0, 256, (1, 3, t, 8, 8), generator=gen).to(torch.float64) / 127.5 - 1
        out[f"x{step}"] = to_vaec(x)
        z, post, x_z = pipe.encode(x)
        mz = pipe.temporal_vae.latent_t(pipe.mfs)
        x_z_rec = torch.cat([pipe.temporal_vae.decode(z[:, :, i:i + mz], min(pipe.mfs, x_z.shape[2] - (i // mz) * pipe.mfs))
                             for i in range(0, z.shape[2], mz)], dim=2)
        z_nll = nll(x_z, x_z_rec, logvar)
        identity = nll(x_z, z, logvar) if t == 1 else torch.zeros((), dtype=torch.float64)
        loss = z_nll + identity
        opt.zero_grad()
        loss.backward()
        if step == 0:   # raw gradients, before clipping, as --dump-grads writes them
            for k, p in zip(names, params):
                out[f"grad0.{k}"] = weight_to_vaec(p.grad) if p.grad.dim() == 5 else p.grad.clone()
        norm = torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        out[f"step{step}"] = torch.stack([loss.detach(), z_nll.detach(), identity.detach(), norm.detach()])
    return out
