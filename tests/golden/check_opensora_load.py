#!/usr/bin/env python3
"""Loads a pipeline checkpoint written by vaec into vaec's PyTorch reference of Open-Sora's pipeline
(ref_temporal.Pipeline, whose module tree carries Open-Sora's key names) with strict key matching, and
compares its outputs with vaec's.

usage: check_opensora_load.py CKPT IO ; IO holds x (B,3,T,H,W) and vaec's x_rec and z (cal_loss, means).
The model is the tiny pipeline of gen_pipeline.py. Exit 77 when torch or diffusers is missing."""
import os
import sys

try:
    import torch
    from diffusers import AutoencoderKL
    from safetensors.torch import load_file
except ImportError as e:
    print(f"skip: {e}")
    sys.exit(77)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ref_temporal import Pipeline, TemporalVAE  # noqa: E402

spatial = AutoencoderKL(block_out_channels=(16, 16), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
pipe = Pipeline(spatial, TemporalVAE(filters=4, num_res_blocks=1, num_groups=2), micro_frame_size=5)
state = load_file(sys.argv[1])
pipe.load_state_dict(state, strict=True)   # raises on any missing or unexpected key
d = load_file(sys.argv[2])
with torch.no_grad():
    x_rec, _, z, _, _ = pipe(d["x"])
worst = 0.0
for name, got in (("x_rec", x_rec), ("z", z)):
    err = ((got - d[name]).abs().max() / d[name].abs().max()).item()
    worst = max(worst, err)
    print(f"{name}: relative error {err:.3e}")
print(f"Open-Sora key names: {len(state)} tensors loaded strictly")
sys.exit(0 if worst < 1e-4 else 1)
