#!/usr/bin/env python3
"""Writes the PyTorch golden files the C tests read: tests/golden/<group>.safetensors.

Each tests/golden/gen_<group>.py defines generate() -> dict of name -> tensor. Reference math runs in
float64 where PyTorch allows, and tensors are stored as float32 in vaec's channels-last layout.
The outputs are committed, so `make test` needs no Python. Needs: torch, numpy, safetensors
(pip install torch numpy safetensors, in a venv outside the repository).

usage: python3 tests/golden/gen.py            # every group
       python3 tests/golden/gen.py conv norm  # some groups
"""
import importlib
import os
import sys

import torch
from safetensors.torch import save_file

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)


def main():
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)
    groups = sys.argv[1:] or sorted(f[4:-3] for f in os.listdir(here) if f.startswith("gen_") and f.endswith(".py"))
    for g in groups:
        mod = importlib.import_module("gen_" + g)
        keep = getattr(mod, "KEEP_DTYPE", False)   # I/O tests store other dtypes on purpose
        tensors = {k: (v.detach() if keep else v.detach().to(torch.float32)).contiguous()
                   for k, v in mod.generate().items()}
        path = os.path.join(here, g + ".safetensors")
        save_file(tensors, path, metadata=getattr(mod, "METADATA", None))
        size = os.path.getsize(path)
        print(f"{path}: {len(tensors)} tensors, {size / 1024:.1f} KiB")


if __name__ == "__main__":
    main()
