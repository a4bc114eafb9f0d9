"""configs/demo.ini trained in PyTorch: diffusers' AutoencoderKL (spatial, 32,64 channels, 8 groups) and the
reference temporal VAE of tests/golden/ref_temporal.py (16 filters, 1,2,2,2, 8 groups), on data/demo.h5
(`make demo` makes it), batch 2, AdamW, cosine from --lr with 30 warm-up steps to 2%, the upstream nll (L1,
SUM over C,H,W / MEAN over frames) + 1e-6 KL, no clipping. Prints the held-out PSNR of data/demo-eval.h5
before and after, as `vaec train` does, and writes the last held-out clip over its reconstruction to --png.
Weights and batch order are PyTorch's own, so the numbers agree with vaec's in distribution, not bit for bit.

    /path/to/venv/bin/python scripts/demo_in_pytorch.py --steps 300 [--sample] [--threads 2]
"""
import argparse, math, os, sys, time
import h5py, torch
here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "golden"))
from diffusers import AutoencoderKL          # noqa: E402
from ref_temporal import Pipeline, TemporalVAE, Posterior   # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument("--steps", type=int, default=300)
ap.add_argument("--lr", type=float, default=2e-3)
ap.add_argument("--sample", action="store_true", help="sample both posteriors in training (the demo does)")
ap.add_argument("--threads", type=int, default=2)
ap.add_argument("--png", default="demo_in_pytorch.png")
a = ap.parse_args()
torch.manual_seed(0)
torch.set_num_threads(a.threads)


def load(name):   # (C,T,H,W) in [-1, 1] per clip
    with h5py.File(os.path.join(here, "..", "data", name)) as h:
        return [torch.from_numpy(h["clips"][k][:]).float().permute(3, 0, 1, 2) / 127.5 - 1 for k in sorted(h["clips"])]


train, held_out = load("demo.h5"), load("demo-eval.h5")
spatial = AutoencoderKL(block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=8, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 2, up_block_types=("UpDecoderBlock2D",) * 2)
pipe = Pipeline(spatial, TemporalVAE(filters=16, num_res_blocks=1, channel_multipliers=(1, 2, 2, 2), num_groups=8),
                micro_frame_size=17)


def forward(x, sample):   # upstream's pipeline with cal_loss: the spatial posterior sampled too
    b, c, t, h, w = x.shape
    s = pipe.spatial_vae.module
    p2 = Posterior(s.quant_conv(s.encoder(x.permute(0, 2, 1, 3, 4).reshape(b * t, c, h, w))))
    lat = (p2.sample(torch.randn_like(p2.mean)) if sample else p2.mean) * pipe.sf
    post = pipe.temporal_vae.encode(lat.reshape(b, t, *lat.shape[1:]).permute(0, 2, 1, 3, 4))
    xr, _ = pipe.decode(post.sample(torch.randn_like(post.mean)) if sample else post.mean, t)
    return xr, post


def held_out_psnr():
    with torch.no_grad():
        psnr, xr = 0.0, None
        for x in held_out:
            xr = forward(x[None], False)[0].clamp(-1, 1)
            psnr += 10 * math.log10(1 / ((xr - x[None]) / 2).pow(2).mean().item())
        return psnr / len(held_out), xr


opt = torch.optim.AdamW(pipe.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)


def lr_at(step, warmup=30, min_ratio=0.02):
    if step < warmup:
        return a.lr * (step + 1) / warmup
    p = (step - warmup) / max(1, a.steps - warmup)
    return a.lr * (min_ratio + (1 - min_ratio) * 0.5 * (1 + math.cos(math.pi * p)))


t0 = time.time()
print(f"held-out before training: PSNR {held_out_psnr()[0]:.2f} dB")
order = []
for step in range(a.steps):
    if len(order) < 2:
        order += torch.randperm(len(train)).tolist()
    x = torch.stack([train[order.pop(0)], train[order.pop(0)]])
    for g in opt.param_groups:
        g["lr"] = lr_at(step)
    xr, post = forward(x, a.sample)
    loss = (x - xr).abs().sum() / (x.shape[0] * x.shape[2]) + 1e-6 * post.kl().sum() / x.shape[0]
    opt.zero_grad()
    loss.backward()
    opt.step()
    if step % 50 == 0:
        print(f"step {step}: loss {loss.item():.2f}", flush=True)
psnr, xr = held_out_psnr()
print(f"held-out after training: PSNR {psnr:.2f} dB ({a.steps} steps, {time.time() - t0:.0f} s)")
from PIL import Image   # noqa: E402
img = torch.cat([held_out[-1], xr[0]], 2).permute(1, 2, 3, 0)   # (T, 2H, W, C): input over reconstruction
img = torch.cat(list(img), 1)
Image.fromarray(((img + 1) * 127.5).clamp(0, 255).byte().numpy()).resize(
    (img.shape[1] * 4, img.shape[0] * 4), Image.NEAREST).save(a.png)
print(f"preview: {a.png}")
