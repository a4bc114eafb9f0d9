#!/usr/bin/env python3
"""PyTorch twin of vaec_bench: `torch_bench.py --row ROW [--reps N] [--warmup W] [--threads T] [--device cpu|cuda]`
times the same work as `vaec_bench ROW` and prints one JSON line: median ms, the first (warm-up) iteration's
loss, peak RSS of this process (ru_maxrss: run one row per process), and the FLOPs of one iteration as
torch.utils.flop_counter counts them (convolutions, matmuls, attention; norms and pointwise ops count 0),
taken during the warm-up run. Choices (the fastest for torch on this CPU, see docs/performance.md):
single-op conv and group norm rows run channels-last (torch.channels_last / channels_last_3d), attention
uses F.scaled_dot_product_attention with one head; model rows use diffusers' AutoencoderKL and
tests/golden/ref_temporal.py as they are (channels-first). Weights: golden_util.fill_deterministic, the
formula of vaec's params_fill_deterministic; inputs: det_input, the formula of bench_det_input."""
import argparse
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "tests", "golden"))


def det_input(*shape, device="cpu"):
    """(B, C, S...) with 0.8 sin(1.3 b + 0.7 c + 0.0137 s), s the flattened spatial index (bench_det_input)."""
    b, c, s = shape[0], shape[1], math.prod(shape[2:])
    bb = torch.arange(b, dtype=torch.float64).view(b, 1, 1)
    cc = torch.arange(c, dtype=torch.float64).view(1, c, 1)
    ss = torch.arange(s, dtype=torch.float64).view(1, 1, s)
    return (0.8 * torch.sin(1.3 * bb + 0.7 * cc + 0.0137 * ss)).to(torch.float32).reshape(shape).to(device)


def sync(dev):
    if dev == "cuda":
        torch.cuda.synchronize()


# ---- single ops: each returns an iteration function that returns (seconds, loss) ----
def op_row(kind, shape, backward, dev):
    g = torch.Generator().manual_seed(1)
    rand = lambda *s: (torch.rand(*s, generator=g) * 2 - 1).to(dev)  # noqa: E731
    if kind in ("conv2d", "conv3d"):
        c = shape[1]
        x, w, b = rand(*shape), rand(c, c, *([3] * (len(shape) - 2))), rand(c)
        fmt = torch.channels_last if kind == "conv2d" else torch.channels_last_3d
        x, w = x.contiguous(memory_format=fmt), w.contiguous(memory_format=fmt)
        fn = (lambda x, w, b: F.conv2d(x, w, b, padding=1)) if kind == "conv2d" else \
             (lambda x, w, b: F.conv3d(F.pad(x, (1, 1, 1, 1, 2, 0)), w, b))  # causal: time pad 2 in front
        ins = [x, w, b]
    elif kind == "group_norm":
        x = rand(*shape).contiguous(memory_format=torch.channels_last)
        ins = [x, rand(shape[1]), rand(shape[1])]
        fn = lambda x, w, b: F.group_norm(x, 32, w, b, 1e-6)  # noqa: E731
    else:  # attention, one head: (1, 1, L, C)
        ins = [rand(1, 1, *shape) for _ in range(3)]
        fn = lambda q, k, v: F.scaled_dot_product_attention(q, k, v)  # noqa: E731
    for t in ins:
        t.requires_grad_(backward)
    gy = None

    def it():
        nonlocal gy
        if not backward:
            with torch.no_grad():
                sync(dev)
                t0 = time.perf_counter()
                y = fn(*ins)
                sync(dev)
                return time.perf_counter() - t0, 0.0
        y = fn(*ins)
        if gy is None:
            gy = torch.rand(y.shape, generator=g).to(dev).contiguous(memory_format=y.dim() == 4 and torch.channels_last
                                                                       or torch.contiguous_format)
        sync(dev)
        t0 = time.perf_counter()
        y.backward(gy)
        sync(dev)
        t1 = time.perf_counter()
        for t in ins:
            t.grad = None
        return t1 - t0, 0.0
    return it


def sgemm_row(dev):
    a, b = torch.rand(2048, 2048, device=dev), torch.rand(2048, 2048, device=dev)

    def it():
        sync(dev)
        t0 = time.perf_counter()
        torch.mm(a, b)
        sync(dev)
        return time.perf_counter() - t0, 0.0
    return it


# ---- models ----
def sdxl_vae():
    from diffusers import AutoencoderKL
    from golden_util import fill_deterministic
    vae = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, norm_num_groups=32, latent_channels=4,
                        down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4)
    fill_deterministic(vae)
    return vae.eval()


def spatial_row(decode, dev):
    vae = sdxl_vae().to(dev)
    x = det_input(1, 4, 32, 32, device=dev) if decode else det_input(1, 3, 256, 256, device=dev)

    def it():
        with torch.no_grad():
            sync(dev)
            t0 = time.perf_counter()
            y = vae.decoder(vae.post_quant_conv(x)) if decode else vae.quant_conv(vae.encoder(x))
            sync(dev)
            return time.perf_counter() - t0, float(y.flatten()[0])
    return it


def nll(x, xh):  # upstream weighted_nll with logvar 0: L1, SUM over C,H,W, MEAN over frames; float32 (as vaec, also
    x, xh = x.float(), xh.float()   # in the _bf16 rows: autocast leaves bf16 activations, vaec's losses are float32)
    return (x - xh).abs().sum() / (x.shape[0] * x.shape[2])


def temporal_row(filters, res_blocks, groups, t, hw, dev):
    from golden_util import fill_deterministic
    from ref_temporal import TemporalVAE
    m = TemporalVAE(filters=filters, num_res_blocks=res_blocks, num_groups=groups)
    fill_deterministic(m)
    m = m.to(dev)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    x = det_input(1, 4, t, hw, hw, device=dev)

    def it():
        sync(dev)
        t0 = time.perf_counter()
        post = m.encode(x)
        x_rec = m.decode(post.mean, t)
        loss = nll(x, x_rec) + 1e-6 * post.kl().sum() / x.shape[0]
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        sync(dev)
        return time.perf_counter() - t0, float(loss.detach())
    return it


def stage1_row(dev, t=9, hw=64, mfs=17, micro_batch=4):
    """Open-Sora stage 1: frozen spatial VAE (posterior mean, micro batches of 4 frames as upstream's
    VideoAutoencoderKL), temporal VAE trainable; loss = z reconstruction + identity (T == 1 only)."""
    from golden_util import fill_deterministic
    from ref_temporal import TemporalVAE
    spatial = sdxl_vae().to(dev)
    for p in spatial.parameters():
        p.requires_grad_(False)
    temporal = TemporalVAE()
    fill_deterministic(temporal)
    temporal = temporal.to(dev)
    opt = torch.optim.AdamW(temporal.parameters(), lr=1e-5)
    x = det_input(1, 3, t, hw, hw, device=dev)

    def it():
        sync(dev)
        t0 = time.perf_counter()
        with torch.no_grad():
            b, c, tt, h, w = x.shape
            frames = x.permute(0, 2, 1, 3, 4).reshape(b * tt, c, h, w)
            mean = torch.cat([torch.chunk(spatial.quant_conv(spatial.encoder(frames[i:i + micro_batch])), 2, dim=1)[0]
                              for i in range(0, b * tt, micro_batch)]) * 0.18215
            x_z = mean.reshape(b, tt, *mean.shape[1:]).permute(0, 2, 1, 3, 4)
        moments = []
        for i in range(0, tt, mfs):
            chunk = x_z[:, :, i:i + mfs]
            chunk = F.pad(chunk, (0, 0, 0, 0, temporal.pad_of(chunk.shape[2]), 0))
            moments.append(temporal.quant_conv(temporal.encoder(chunk)))
        z = torch.chunk(torch.cat(moments, dim=2), 2, dim=1)[0]
        mz = temporal.latent_t(mfs)
        x_z_rec = torch.cat([temporal.decode(z[:, :, i:i + mz], min(mfs, tt - (i // mz) * mfs))
                             for i in range(0, z.shape[2], mz)], dim=2)
        loss = nll(x_z, x_z_rec)
        if tt == 1:
            loss = loss + nll(x_z, z)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(temporal.parameters(), 1.0)
        opt.step()
        sync(dev)
        return time.perf_counter() - t0, float(loss.detach())
    return it


def temporal_full_row(dev):
    from golden_util import fill_deterministic
    from ref_temporal import TemporalVAE
    m = TemporalVAE()
    fill_deterministic(m)
    m = m.to(dev).eval()
    x = det_input(1, 4, 17, 32, 32, device=dev)

    def it():
        with torch.no_grad():
            sync(dev)
            t0 = time.perf_counter()
            y = m.decode(m.encode(x).mean, 17)
            sync(dev)
            return time.perf_counter() - t0, float(y.flatten()[0])
    return it


def autocast_row(it, dev):
    """a `<row>_bf16` row: the same iteration under torch.autocast(dtype=torch.bfloat16), as vaec's autocast"""
    def run():
        with torch.autocast(dev, dtype=torch.bfloat16):
            return it()
    return run


def make_row(row, dev):
    if row.endswith("_bf16"):
        return autocast_row(make_row(row[:-len("_bf16")], dev), dev)
    ops = {
        "conv2d_128c_256": ("conv2d", (1, 128, 256, 256)), "conv2d_512c_32": ("conv2d", (1, 512, 32, 32)),
        "conv3d_128c_17x32": ("conv3d", (1, 128, 17, 32, 32)), "conv3d_512c_5x32": ("conv3d", (1, 512, 5, 32, 32)),
        "group_norm_128c_256": ("group_norm", (1, 128, 256, 256)), "attention_1024x512": ("attention", (1024, 512)),
    }
    base, _, dirn = row.rpartition("_")
    if base in ops and dirn in ("fwd", "bwd"):
        return op_row(*ops[base], dirn == "bwd", dev)
    table = {
        "sgemm_2048": lambda: sgemm_row(dev),
        "spatial_encode_256": lambda: spatial_row(False, dev),
        "spatial_decode_256": lambda: spatial_row(True, dev),
        "temporal_step_tiny": lambda: temporal_row(16, 1, 8, 9, 16, dev),
        "temporal_step_mid": lambda: temporal_row(64, 2, 32, 17, 16, dev),
        "temporal_step_mid_17x32": lambda: temporal_row(64, 2, 32, 17, 32, dev),
        "stage1_step_9x64": lambda: stage1_row(dev),
        "stage1_step_17x256": lambda: stage1_row(dev, t=17, hw=256),
        "temporal_full_17x32x32": lambda: temporal_full_row(dev),
    }
    if row not in table:
        sys.exit(f"torch_bench.py: unknown row '{row}' (vaec_bench --list prints the rows)")
    return table[row]()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--row", required=True)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.device == "cuda":   # full fp32 on both sides: vaec's fp32 kernels use no TF32
        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False
        torch.cuda.reset_peak_memory_stats()
    it = make_row(a.row, a.device)
    from torch.utils.flop_counter import FlopCounterMode
    flops, loss = 0, 0.0
    for i in range(max(a.warmup, 1)):   # the first warm-up run also counts FLOPs
        if i == 0:
            fc = FlopCounterMode(display=False)
            with fc:
                _, loss = it()
            flops = fc.get_total_flops()
        else:
            it()
    reps = max(a.reps, 1) if a.row != "sgemm_2048" else max(a.reps, 5)
    ts = sorted(it()[0] * 1e3 for _ in range(reps))
    med = ts[reps // 2] if reps % 2 else 0.5 * (ts[reps // 2 - 1] + ts[reps // 2])
    if a.row == "sgemm_2048":
        flops = 2 * 2048 ** 3
    out = {"row": a.row, "impl": "torch", "threads": torch.get_num_threads(), "reps": reps, "median_ms": round(med, 3),
           "min_ms": round(ts[0], 3), "loss": loss, "flops": flops,
           "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    if a.device == "cuda":
        out["peak_cuda_mib"] = round(torch.cuda.max_memory_allocated() / 1048576, 1)
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
