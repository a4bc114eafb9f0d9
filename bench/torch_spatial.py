#!/usr/bin/env python3
"""PyTorch twin of `vaec_bench spatial_sdxl_256`: diffusers' SDXL AutoencoderKL, encode + decode of one
256x256 frame under no_grad, best of N, on torch.get_num_threads() threads. Prints one JSON line."""
import json
import resource
import sys
import time

import torch
from diffusers import AutoencoderKL

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 3
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())
vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32, latent_channels=4,
                    down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4).eval()
x = torch.rand(1, 3, 256, 256) * 2 - 1
best_e = best_d = 1e30
with torch.no_grad():
    for _ in range(reps):
        t0 = time.perf_counter()
        z = vae.encode(x).latent_dist.mode()
        t1 = time.perf_counter()
        vae.decode(z)
        t2 = time.perf_counter()
        best_e, best_d = min(best_e, t1 - t0), min(best_d, t2 - t1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"case": "spatial_sdxl_256", "impl": "torch", "threads": torch.get_num_threads(), "encode_s": round(best_e, 3),
                  "decode_s": round(best_d, 3), "total_s": round(best_e + best_d, 3), "peak_rss_mib": round(peak, 1)}))
