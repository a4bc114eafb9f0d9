"""A safetensors file written by the reference library, with every dtype vaec reads and metadata:
the C reader must load each exactly (F16/BF16 values are chosen representable)."""
import torch

KEEP_DTYPE = True
METADATA = {"format": "pt", "note": "written by safetensors.torch"}


def generate():
    base = torch.tensor([[0.0, 1.0, -2.5, 3.140625], [65504.0, -0.0001220703125, 1e-7, -7.0]])
    return {
        "f32": base.float(),
        "f16": base.half(),
        "bf16": torch.tensor([0.0, 1.0, -2.5, 3.140625, 1e30, -1e-30]).bfloat16(),
        "f64": base.double(),
        "i64": torch.arange(-3, 3, dtype=torch.int64).reshape(2, 3),
        "u8": torch.arange(250, 256, dtype=torch.uint8),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
        "video.weight": torch.arange(2 * 3 * 1 * 2 * 2, dtype=torch.float32).reshape(2, 3, 1, 2, 2),
    }
