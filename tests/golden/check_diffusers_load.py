#!/usr/bin/env python3
"""Loads a spatial-VAE checkpoint written by vaec into diffusers' AutoencoderKL and checks its outputs.

usage: check_diffusers_load.py CKPT IO  [block_out_channels layers_per_block norm_num_groups]
CKPT: vaec's safetensors (diffusers keys); IO: safetensors with x (N,3,H,W) and vaec's moments (N,8,h,w).
Exit 0: diffusers loaded every key strictly and its moments match vaec's within 1e-4 (relative to max).
Exit 77: torch or diffusers is not installed (the C test reports itself skipped)."""
import sys

try:
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import load_file
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

ckpt, io = sys.argv[1], sys.argv[2]
boc = tuple(int(c) for c in sys.argv[3].split(","))
lpb, groups = int(sys.argv[4]), int(sys.argv[5])
vae = AutoencoderKL(block_out_channels=boc, layers_per_block=lpb, norm_num_groups=groups, latent_channels=4,
                    down_block_types=("DownEncoderBlock2D",) * len(boc), up_block_types=("UpDecoderBlock2D",) * len(boc))
state = load_file(ckpt)
missing, unexpected = vae.load_state_dict(state, strict=False)
if missing or unexpected:
    print(f"key mismatch: missing {missing[:5]}, unexpected {unexpected[:5]}")
    sys.exit(1)
d = load_file(io)
with torch.no_grad():
    moments = vae.quant_conv(vae.encoder(d["x"]))
err = ((moments - d["moments"]).abs().max() / d["moments"].abs().max()).item()
print(f"diffusers loaded {len(state)} tensors; moments relative error {err:.3e}")
sys.exit(0 if err < 1e-4 else 1)
