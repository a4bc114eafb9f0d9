"""Goldens for spatial tiling (layers/vae2d_tiling.c): diffusers' own AutoencoderKL with enable_tiling().
The tiny spatial VAE of the pipeline golden (spatial_vae.module.* of pipeline_tiny_model.safetensors:
block_out_channels (16,16), 1 layer per block, 8 groups, down factor 2) with sample_size 16, so tiles are
16 pixels (8 latent) with a 1/4 overlap. A 40x28 frame is 3x2 tiles on encode; a 20x14 latent is 3x2 tiles
on decode. One frame. Saves x, the tiled moments, a latent z and its tiled decode (all channels-last), and the tile size.
Also the untiled moments of the same frame, so the test can see that tiling changed something."""
import os

import torch
from diffusers import AutoencoderKL
from safetensors.torch import load_file, save_file

from golden_util import to_vaec

here = os.path.dirname(os.path.abspath(__file__))


def generate():
    vae = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2,
                        sample_size=16)
    sd = load_file(os.path.join(here, "pipeline_tiny_model.safetensors"))
    pre = "spatial_vae.module."
    vae.load_state_dict({k[len(pre):]: v for k, v in sd.items() if k.startswith(pre)}, strict=True)
    vae.eval()
    gen = torch.Generator().manual_seed(7)
    x = torch.rand((1, 3, 40, 28), generator=gen) * 2 - 1
    z = torch.randn((1, 4, 20, 14), generator=gen)
    with torch.no_grad():
        plain = vae._encode(x)
        vae.enable_tiling()
        assert vae.tile_sample_min_size == 16 and vae.tile_latent_min_size == 8
        moments = vae._encode(x)
        dec = vae.decode(z).sample
    return {"x": to_vaec(x), "moments": to_vaec(moments), "moments_untiled": to_vaec(plain), "z": to_vaec(z),
            "decoded": to_vaec(dec), "tile": torch.tensor([16.0])}


if __name__ == "__main__":
    out = generate()
    save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(here, "tiling.safetensors"))
    print("wrote tiling.safetensors:", {k: tuple(v.shape) for k, v in out.items()})
