"""Peak memory and time to reconstruct a video with the full Open-Sora 1.2 VAE on the CPU, with spatial tiling:
`vaec reconstruct` beside the upstream pipeline (diffusers AutoencoderKL with enable_tiling() per frame in micro
batches of 4, then the temporal VAE in micro_frame_size chunks) in the same run, on the same random weights.

    /root/venv/bin/python bench/reconstruct_video.py [--frames 51] [--width 1280] [--height 720] [--tile 512]
        [--threads 2] [--vaec build/bin/vaec] [--skip-torch]

Writes the clip with the ffmpeg command line (testsrc2), the weights (seeded random init, Open-Sora key names)
to a temporary folder, runs each side in a process of its own and prints its wall time and peak RSS
(getrusage of the child), and the PSNR between the two reconstructions (they should agree closely: vaec's
output goes through an 8-bit video, so ~40+ dB, not bit-exact). Needs torch and diffusers; never part of the build.
The reference temporal VAE is tests/golden/ref_temporal.py (written from the model description)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "tests", "golden"))


def build_models():
    import torch
    from diffusers import AutoencoderKL
    from ref_temporal import TemporalVAE
    torch.manual_seed(0)
    spatial = AutoencoderKL(block_out_channels=(128, 256, 512, 512), layers_per_block=2, latent_channels=4,
                            norm_num_groups=32, down_block_types=("DownEncoderBlock2D",) * 4,
                            up_block_types=("UpDecoderBlock2D",) * 4)
    temporal = TemporalVAE()
    return spatial.eval(), temporal.eval()


def torch_side(a):
    """runs in its own process: reads the clip, reconstructs it as upstream does, saves the frames"""
    import numpy as np
    import torch
    from safetensors.torch import load_file, save_file
    torch.set_num_threads(a.threads)
    spatial, temporal = build_models()
    sd = load_file(os.path.join(a.work, "pipeline.safetensors"))
    spatial.load_state_dict({k[len("spatial_vae.module."):]: v for k, v in sd.items() if k.startswith("spatial_vae.module.")})
    temporal.load_state_dict({k[len("temporal_vae."):]: v for k, v in sd.items() if k.startswith("temporal_vae.")})
    spatial.enable_tiling()
    spatial.tile_sample_min_size = a.tile
    spatial.tile_latent_min_size = a.tile // 8
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", os.path.join(a.work, "clip.mp4"), "-f", "rawvideo",
                          "-pix_fmt", "rgb24", "-"], check=True, capture_output=True).stdout
    x = torch.from_numpy(np.frombuffer(raw, np.uint8).reshape(-1, a.height, a.width, 3).copy()).float() / 127.5 - 1
    x = x.permute(0, 3, 1, 2)   # (T,3,H,W)
    t0 = time.time()
    with torch.no_grad():
        lat = torch.cat([spatial.encode(x[i:i + 4]).latent_dist.mean for i in range(0, x.shape[0], 4)]) * 0.18215
        x_z = lat.permute(1, 0, 2, 3)[None]   # (1,4,T,h,w)
        mfs, mz = 17, 5
        zs = []
        for i in range(0, x_z.shape[2], mfs):
            zs.append(temporal.encode(x_z[:, :, i:i + mfs]).mean)
        parts, left = [], x.shape[0]
        for z in zs:
            parts.append(temporal.decode(z, min(mfs, left)))
            left -= mfs
        x_z_rec = torch.cat(parts, dim=2)[0].permute(1, 0, 2, 3) / 0.18215
        rec = torch.cat([spatial.decode(x_z_rec[i:i + 4]).sample for i in range(0, x_z_rec.shape[0], 4)])
    print(json.dumps({"seconds": time.time() - t0}))
    save_file({"x": rec.clamp(-1, 1).contiguous()}, os.path.join(a.work, "torch_rec.safetensors"))


def run_child(cmd):
    """runs cmd; its stdout, wall seconds and peak RSS in KiB (os.wait4: this child's own rusage)"""
    t0 = time.time()
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(cmd, stdout=out)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.time() - t0
        if proc.returncode != 0:
            raise SystemExit(f"{cmd[0]} failed with status {proc.returncode}")
        out.seek(0)
        return out.read(), wall, ru.ru_maxrss


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--frames", type=int, default=51)
    p.add_argument("--width", type=int, default=1280)
    p.add_argument("--height", type=int, default=720)
    p.add_argument("--tile", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--vaec", default=os.path.join(root, "build", "bin", "vaec"))
    p.add_argument("--skip-torch", action="store_true")
    p.add_argument("--torch-side", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.torch_side:
        return torch_side(a)
    import torch
    from safetensors.torch import load_file, save_file
    a.work = tempfile.mkdtemp(prefix="vaec_bench_rec_")
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"testsrc2=size={a.width}x{a.height}:rate=24",
                    "-frames:v", str(a.frames), "-c:v", "libx264", "-crf", "12", "-pix_fmt", "yuv420p",
                    os.path.join(a.work, "clip.mp4")], check=True)
    spatial, temporal = build_models()
    sd = {"spatial_vae.module." + k: v.contiguous() for k, v in spatial.state_dict().items()}
    sd.update({"temporal_vae." + k: v.contiguous() for k, v in temporal.state_dict().items()})
    save_file(sd, os.path.join(a.work, "pipeline.safetensors"))
    del spatial, temporal, sd
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    print(f"clip: {a.frames} frames {a.width}x{a.height}, tiles {a.tile}, {a.threads} threads, CPU: "
          + subprocess.run("lscpu | sed -n 's/^Model name: *//p'", shell=True, capture_output=True, text=True).stdout.strip())
    cmd = [a.vaec, "reconstruct", "--config", os.path.join(root, "configs", "pipeline-opensora.ini"), "--ckpt",
           os.path.join(a.work, "pipeline.safetensors"), "--input", os.path.join(a.work, "clip.mp4"), "--output",
           os.path.join(a.work, "vaec_rec.safetensors"), "--tile", str(a.tile), "--set", f"train.threads={a.threads}"]
    out, wall, peak = run_child(cmd)
    print(out.strip())
    print(f"vaec:  {wall:8.1f} s wall (whole process), peak RSS {peak / 1024:8.0f} MiB")
    if a.skip_torch:
        return
    out, wall, peak2 = run_child([sys.executable, os.path.abspath(__file__), "--torch-side", "--work", a.work,
                                     "--frames", str(a.frames), "--width", str(a.width), "--height", str(a.height),
                                     "--tile", str(a.tile), "--threads", str(a.threads)])
    secs = json.loads(out.strip().splitlines()[-1])["seconds"]
    print(f"torch: {wall:8.1f} s wall (whole process; {secs:.1f} s in the model), peak RSS {peak2 / 1024:8.0f} MiB")
    v = load_file(os.path.join(a.work, "vaec_rec.safetensors"))["x"][0].permute(1, 0, 2, 3)
    t = load_file(os.path.join(a.work, "torch_rec.safetensors"))["x"]
    mse = (((v - t) / 2) ** 2).mean().item()
    print(f"vaec vs torch reconstruction: PSNR {10 * torch.log10(torch.tensor(1 / max(mse, 1e-20))).item():.1f} dB")


if __name__ == "__main__":
    main()
