#!/usr/bin/env python3
"""Writes the LPIPS (VGG16) weights vaec's perceptual loss reads ([train] lpips_path) as one safetensors
file with upstream's key names (Open-Sora's opensora/models/vae/lpips.py, as in richzhang/PerceptualSimilarity):

    net.slice1.0.weight ... net.slice5.28.bias   torchvision vgg16().features convs 0, 2, 5, ..., 28
    lin0.model.1.weight ... lin4.model.1.weight  the learned 1x1 channel weights (v0.1)

Two sources, both needed:
  --vgg  torchvision's ImageNet VGG16 state dict (keys features.N.weight/bias), e.g. the file torchvision
         caches as ~/.cache/torch/hub/checkpoints/vgg16-397923af.pth. Default: ask torchvision for
         VGG16_Weights.IMAGENET1K_V1 (downloads it once).
  --lin  the LPIPS lin weights (keys lin0.model.1.weight ...): the `lpips` pip package ships them as
         lpips/weights/v0.1/vgg.pth, and taming-transformers' vgg.pth (what Open-Sora downloads) has the same
         keys. Default: the file inside an installed `lpips` package.

usage: python3 scripts/convert_lpips.py --out weights/lpips_vgg16.safetensors [--vgg vgg16.pth] [--lin vgg.pth]
Needs torch and safetensors (torchvision only without --vgg). Runs outside the build; the weights are not
committed to the repository.
"""
import argparse
import importlib.util
import os
import sys

import torch
from safetensors.torch import save_file

# torchvision vgg16().features conv indices, by LPIPS slice (slices end at relu1_2 ... relu5_3)
SLICE_CONVS = {1: [0, 2], 2: [5, 7], 3: [10, 12, 14], 4: [17, 19, 21], 5: [24, 26, 28]}
LIN_CHANNELS = [64, 128, 256, 512, 512]


def load_state(path):
    obj = torch.load(path, map_location="cpu", weights_only=True)
    return obj.get("state_dict", obj) if isinstance(obj, dict) else obj


def default_vgg():
    import torchvision
    return torchvision.models.vgg16(weights=torchvision.models.VGG16_Weights.IMAGENET1K_V1).state_dict()


def default_lin_path():
    spec = importlib.util.find_spec("lpips")   # located, not imported: importing lpips needs scipy
    if spec is None or not spec.submodule_search_locations:
        sys.exit("convert_lpips: no --lin given and no `lpips` package installed (pip install lpips)")
    return os.path.join(list(spec.submodule_search_locations)[0], "weights", "v0.1", "vgg.pth")


def convert(vgg, lin):
    out = {}
    for s, convs in SLICE_CONVS.items():
        for i in convs:
            for p in ("weight", "bias"):
                key = f"features.{i}.{p}"
                if key not in vgg:
                    sys.exit(f"convert_lpips: the VGG16 state dict has no '{key}' (is it torchvision's vgg16?)")
                out[f"net.slice{s}.{i}.{p}"] = vgg[key]
    for k, c in enumerate(LIN_CHANNELS):
        key = f"lin{k}.model.1.weight"
        if key not in lin:
            sys.exit(f"convert_lpips: the lin weights have no '{key}' (expected LPIPS v0.1 VGG weights)")
        if tuple(lin[key].shape) != (1, c, 1, 1):
            sys.exit(f"convert_lpips: '{key}' has shape {tuple(lin[key].shape)}, want (1, {c}, 1, 1)")
        out[key] = lin[key]
    return {k: v.detach().to(torch.float32).contiguous() for k, v in out.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="the safetensors file to write ([train] lpips_path)")
    ap.add_argument("--vgg", help="torchvision VGG16 state dict (.pth); default: torchvision's ImageNet weights")
    ap.add_argument("--lin", help="LPIPS lin weights (.pth); default: the installed lpips package's v0.1/vgg.pth")
    a = ap.parse_args()
    vgg = load_state(a.vgg) if a.vgg else default_vgg()
    lin = load_state(a.lin or default_lin_path())
    tensors = convert(vgg, lin)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    tmp = a.out + ".tmp"
    save_file(tensors, tmp, metadata={"format": "pt", "source": "LPIPS v0.1 VGG16 (vaec scripts/convert_lpips.py)"})
    os.replace(tmp, a.out)   # never a half-written file under the final name
    n = sum(t.numel() for t in tensors.values())
    print(f"{a.out}: {len(tensors)} tensors, {n} parameters")


if __name__ == "__main__":
    main()
