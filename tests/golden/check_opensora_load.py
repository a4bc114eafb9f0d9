#!/usr/bin/env python3
"""vaec's PyTorch reference of Open-Sora's pipeline (ref_temporal.Pipeline, whose module tree carries
Open-Sora's key names) against pipeline checkpoints vaec writes.

usage:
  check_opensora_load.py CKPT IO
      CKPT: a pipeline file vaec saved; IO: x (B,3,T,H,W) and vaec's x_rec and z (cal_loss, means). The model
      is the tiny pipeline of gen_pipeline.py, loaded with strict key matching.
  check_opensora_load.py --folder DIR IO
      DIR: a folder `vaec ckpt export --to opensora` wrote. DIR/config.json is read through transformers'
      PretrainedConfig.from_pretrained (with the constructor arguments of VideoAutoencoderPipelineConfig), and the
      pipeline is built from it the way
      Open-Sora's VideoAutoencoderPipeline builds itself (vae_2d: AutoencoderKL.from_pretrained(from_pretrained,
      subfolder); vae_temporal: VAE_Temporal(**args) or VAE_Temporal_SD; micro_frame_size, shift and scale as
      the registered buffers (1,C,1,1,1)), then DIR/model.safetensors loads strictly (buffers included). IO: x
      and vaec's z (`vaec encode --mode mean`: normalised, (z - shift) / scale) and x_rec (`vaec decode` of z
      to T frames). Relative errors below 1e-5.
Exit 77 when torch or diffusers is missing."""
import json
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

SD_TEMPORAL = dict(in_out_channels=4, latent_embed_dim=4, embed_dim=4, filters=128, num_res_blocks=4,
                   channel_multipliers=(1, 2, 2, 4), temporal_downsample=(False, True, True))


def rel(a, b):
    return ((a - b).abs().max() / b.abs().max()).item()


def read_config(folder):
    """config.json through transformers, as VideoAutoencoderPipeline.from_pretrained reads it: a PretrainedConfig
    whose constructor takes Open-Sora 1.2's VideoAutoencoderPipelineConfig arguments"""
    from transformers import PretrainedConfig

    class PipelineConfig(PretrainedConfig):
        model_type = "VideoAutoencoderPipeline"

        def __init__(self, vae_2d=None, vae_temporal=None, from_pretrained=None, freeze_vae_2d=False, cal_loss=False,
                     micro_frame_size=None, shift=0.0, scale=1.0, **kwargs):
            self.vae_2d, self.vae_temporal, self.from_pretrained = vae_2d, vae_temporal, from_pretrained
            self.freeze_vae_2d, self.cal_loss, self.micro_frame_size = freeze_vae_2d, cal_loss, micro_frame_size
            self.shift, self.scale = shift, scale
            super().__init__(**kwargs)

    c = PipelineConfig.from_pretrained(folder)
    raw = json.load(open(os.path.join(folder, "config.json")))
    assert "VideoAutoencoderPipeline" in raw["architectures"], raw.get("architectures")
    return {k: getattr(c, k) for k in ("vae_2d", "vae_temporal", "micro_frame_size", "shift", "scale")}


def pipeline_from_folder(folder):
    cfg = read_config(folder)
    v2 = cfg["vae_2d"]
    assert v2["type"] == "VideoAutoencoderKL", v2["type"]
    spatial = AutoencoderKL.from_pretrained(v2["from_pretrained"], subfolder=v2.get("subfolder"))
    vt = dict(cfg["vae_temporal"])
    kind = vt.pop("type")
    vt.pop("from_pretrained", None)
    assert vt.pop("activation_fn", "swish") in ("swish", "silu")
    args = dict(SD_TEMPORAL, **vt) if kind == "VAE_Temporal_SD" else vt
    temporal = TemporalVAE(**args)
    pipe = Pipeline(spatial, temporal, micro_frame_size=cfg["micro_frame_size"])
    shift, scale = torch.tensor(cfg["shift"]), torch.tensor(cfg["scale"])
    pipe.register_buffer("shift", shift[None, :, None, None, None] if shift.dim() else shift)
    pipe.register_buffer("scale", scale[None, :, None, None, None] if scale.dim() else scale)
    state = load_file(os.path.join(folder, "model.safetensors"))
    pipe.load_state_dict(state, strict=True)   # raises on any missing or unexpected key
    return pipe.eval(), len(state)


if sys.argv[1] == "--folder":
    pipe, n = pipeline_from_folder(sys.argv[2])
    d = load_file(sys.argv[3])
    with torch.no_grad():
        mean, _, _ = pipe.encode(d["x"])
        z = (mean - pipe.shift) / pipe.scale
        x_rec, _ = pipe.decode(d["z"] * pipe.scale + pipe.shift, d["x"].shape[2])
    ez, ex = rel(d["z"], z), rel(d["x_rec"], x_rec)
    print(f"pipeline built from config.json, {n} tensors loaded strictly; z relative error {ez:.3e}, x_rec {ex:.3e}")
    sys.exit(0 if max(ez, ex) < 1e-5 else 1)

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
    err = rel(got, d[name])
    worst = max(worst, err)
    print(f"{name}: relative error {err:.3e}")
print(f"Open-Sora key names: {len(state)} tensors loaded strictly")
sys.exit(0 if worst < 1e-4 else 1)
