"""Writes tests/golden/h5py_clips.h5: a small vaec video dataset written by h5py, not by vaec, so the C
reader is checked against an independent writer (tests/dataset/test_h5video.c reads it back exactly).

Pixel (clip k, t, y, x, c) = (k*17 + t*31 + y*7 + x*3 + c*101) % 256; the C test regenerates it.
Clip 1 is gzip-compressed and clip 2 is an image (T = 1); the source strings are fixed-length bytes
on clip 0 (as some writers make them) and str elsewhere.

    ~/vaec-venv/bin/python tests/golden/gen_h5.py
"""
import os

import h5py
import numpy as np

SHAPES = [(3, 8, 10), (4, 6, 5), (1, 12, 7)]  # (T, H, W) per clip


def pattern(k, T, H, W):
    t, y, x, c = np.meshgrid(np.arange(T), np.arange(H), np.arange(W), np.arange(3), indexing="ij")
    return ((k * 17 + t * 31 + y * 7 + x * 3 + c * 101) % 256).astype(np.uint8)


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "h5py_clips.h5")
    with h5py.File(out, "w") as f:
        g = f.create_group("clips")
        for k, (T, H, W) in enumerate(SHAPES):
            d = g.create_dataset("%06d" % k, data=pattern(k, T, H, W), chunks=(T, H, W, 3),
                                 compression="gzip" if k == 1 else None,
                                 compression_opts=1 if k == 1 else None)
            d.attrs["source"] = np.bytes_(b"h5py-clip-0") if k == 0 else "h5py-clip-%d" % k
            d.attrs["fps"] = 24.0
        f.attrs["vaec_format"] = "video-clips-v1"
        f.attrs["num_clips"] = np.int64(len(SHAPES))
        f.attrs["num_frames"] = np.int64(sum(s[0] for s in SHAPES))
    print("wrote", out, os.path.getsize(out), "bytes")


if __name__ == "__main__":
    main()
