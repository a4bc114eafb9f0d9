#!/usr/bin/env python3
"""Loads a spatial-VAE checkpoint written by vaec into diffusers' AutoencoderKL and checks its outputs.

usage: check_diffusers_load.py DIR IO
DIR: a folder vaec wrote with autoencoder_kl_save_pretrained (config.json + diffusion_pytorch_model.safetensors);
IO: safetensors with x (N,3,H,W) and vaec's moments (N,8,h,w).
Exit 0: AutoencoderKL.from_pretrained(DIR) loaded every key and its moments match vaec's within 1e-4
(relative to max).
Exit 77: torch or diffusers is not installed (the C test reports itself skipped)."""
import sys

try:
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import load_file
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)

folder, io = sys.argv[1], sys.argv[2]
vae = AutoencoderKL.from_pretrained(folder).eval()
state = load_file(f"{folder}/diffusion_pytorch_model.safetensors")
if set(state) != set(vae.state_dict()):
    print(f"key mismatch: {sorted(set(state) ^ set(vae.state_dict()))[:5]}")
    sys.exit(1)
d = load_file(io)
with torch.no_grad():
    moments = vae.quant_conv(vae.encoder(d["x"]))
err = ((moments - d["moments"]).abs().max() / d["moments"].abs().max()).item()
print(f"AutoencoderKL.from_pretrained loaded {len(state)} tensors; moments relative error {err:.3e}")
sys.exit(0 if err < 1e-4 else 1)
