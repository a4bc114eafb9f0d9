#!/usr/bin/env python3
"""diffusers' AutoencoderKL against folders vaec writes and reads.

usage:
  check_diffusers_load.py DIR IO
      DIR: a folder vaec wrote with autoencoder_kl_save_pretrained; IO: x (N,3,H,W) and vaec's moments
      (N,8,h,w). Checks AutoencoderKL.from_pretrained(DIR) loads every key and gives the same moments (1e-4).
  check_diffusers_load.py --outputs DIR IO
      DIR: a folder `vaec ckpt export --to diffusers` wrote; IO: x (B,3,T,H,W) and what vaec computed from it
      without --config: z (`vaec encode --mode mean`: posterior mean x scaling_factor) and x_rec (`vaec
      reconstruct`). Checks both against AutoencoderKL.from_pretrained(DIR), relative error below 1e-5.
  check_diffusers_load.py --save-pretrained DIR IO OUT
      writes a small AutoencoderKL with diffusers' own save_pretrained into DIR, and its z and x_rec of IO's x
      (as above) into OUT, for vaec to reproduce from DIR without --config.
Exit 77: torch or diffusers is not installed (the C test reports itself skipped)."""
import sys

try:
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import load_file, save_file
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)


def video_outputs(vae, x):
    """vaec's video view of the spatial VAE: frames through the VAE, latents scaled by the config's factor"""
    b, c, t, h, w = x.shape
    frames = x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w)
    sf = vae.config.scaling_factor
    with torch.no_grad():
        mean = vae.encode(frames).latent_dist.mean * sf
        rec = vae.decode(mean / sf).sample.clamp(-1, 1)   # vaec reconstruct clamps to the pixel range
    def back(f):
        return f.reshape(b, t, *f.shape[1:]).permute(0, 2, 1, 3, 4).contiguous()
    return back(mean), back(rec)


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def strict_load(folder):
    vae = AutoencoderKL.from_pretrained(folder).eval()
    state = load_file(f"{folder}/diffusion_pytorch_model.safetensors")
    if set(state) != set(vae.state_dict()):
        print(f"key mismatch: {sorted(set(state) ^ set(vae.state_dict()))[:5]}")
        sys.exit(1)
    return vae, len(state)


if sys.argv[1] == "--outputs":
    folder, io = sys.argv[2], sys.argv[3]
    vae, n = strict_load(folder)
    d = load_file(io)
    z, x_rec = video_outputs(vae, d["x"])
    ez, ex = rel(d["z"], z), rel(d["x_rec"], x_rec)
    print(f"AutoencoderKL.from_pretrained loaded {n} tensors; z relative error {ez:.3e}, x_rec {ex:.3e}")
    sys.exit(0 if max(ez, ex) < 1e-5 else 1)

if sys.argv[1] == "--save-pretrained":
    folder, io, out = sys.argv[2], sys.argv[3], sys.argv[4]
    torch.manual_seed(3)
    vae = AutoencoderKL(block_out_channels=(16, 32), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        scaling_factor=0.13025).eval()
    with torch.no_grad():   # norms and biases away from their 1/0 init, so every parameter matters
        for p in vae.parameters():
            p.add_(0.05 * torch.randn_like(p))
    vae.save_pretrained(folder)
    z, x_rec = video_outputs(vae, load_file(io)["x"])
    save_file({"z": z, "x_rec": x_rec}, out)
    print(f"save_pretrained wrote {folder}")
    sys.exit(0)

folder, io = sys.argv[1], sys.argv[2]
vae, n = strict_load(folder)
d = load_file(io)
with torch.no_grad():
    moments = vae.quant_conv(vae.encoder(d["x"]))
err = rel(moments, d["moments"])
print(f"AutoencoderKL.from_pretrained loaded {n} tensors; moments relative error {err:.3e}")
sys.exit(0 if err < 1e-4 else 1)
