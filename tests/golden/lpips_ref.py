"""A small PyTorch reference of LPIPS (VGG16, "vgg_lpips") written from its definition, with upstream's
module tree so state_dict keys are upstream's: net.sliceS.I.{weight,bias}, linK.model.1.weight.
Used by gen_lpips.py (goldens) and scripts/convert_lpips.py's check; not part of the build."""
import torch
import torch.nn as nn
import torch.nn.functional as F

# torchvision vgg16().features indices 0..29: ('c', cin, cout) conv3x3+pad1, 'r' relu, 'p' maxpool 2x2
_FEATURES = [("c", 3, 64), "r", ("c", 64, 64), "r", "p", ("c", 64, 128), "r", ("c", 128, 128), "r", "p",
             ("c", 128, 256), "r", ("c", 256, 256), "r", ("c", 256, 256), "r", "p",
             ("c", 256, 512), "r", ("c", 512, 512), "r", ("c", 512, 512), "r", "p",
             ("c", 512, 512), "r", ("c", 512, 512), "r", ("c", 512, 512), "r"]
_SLICES = [(0, 4), (4, 9), (9, 16), (16, 23), (23, 30)]   # each ends at relu1_2 ... relu5_3
CHANNELS = [64, 128, 256, 512, 512]
SHIFT = [-0.030, -0.088, -0.188]
SCALE = [0.458, 0.448, 0.450]


def _layer(spec):
    if spec == "r":
        return nn.ReLU()
    if spec == "p":
        return nn.MaxPool2d(2, 2)
    return nn.Conv2d(spec[1], spec[2], 3, padding=1)


class Vgg16Taps(nn.Module):
    def __init__(self):
        super().__init__()
        for s, (a, b) in enumerate(_SLICES):
            seq = nn.Sequential()
            for i in range(a, b):
                seq.add_module(str(i), _layer(_FEATURES[i]))
            setattr(self, f"slice{s + 1}", seq)

    def forward(self, x):
        taps = []
        for s in range(5):
            x = getattr(self, f"slice{s + 1}")(x)
            taps.append(x)
        return taps


class Lin(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = nn.Sequential(nn.Dropout(), nn.Conv2d(c, 1, 1, bias=False))


class Lpips(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = Vgg16Taps()
        for k, c in enumerate(CHANNELS):
            setattr(self, f"lin{k}", Lin(c))
        self.eval()
        for p in self.parameters():
            p.requires_grad_(False)

    def forward(self, x, x_hat):
        """x, x_hat: (N,3,H,W) in [-1,1] -> (N,1,1,1)"""
        shift = torch.tensor(SHIFT, dtype=torch.float32).to(x.dtype).view(1, 3, 1, 1)
        scale = torch.tensor(SCALE, dtype=torch.float32).to(x.dtype).view(1, 3, 1, 1)
        f0, f1 = self.net((x - shift) / scale), self.net((x_hat - shift) / scale)
        total = 0
        for k in range(5):
            u0 = f0[k] / (f0[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            u1 = f1[k] / (f1[k].pow(2).sum(1, keepdim=True).sqrt() + 1e-10)
            total = total + getattr(self, f"lin{k}").model((u0 - u1) ** 2).mean([2, 3], keepdim=True)
        return total
