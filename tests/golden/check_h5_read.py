"""Reads a vaec-written video dataset with h5py and checks it: used by tests/dataset/test_h5video.c.

    check_h5_read.py FILE T,H,W,SUM [T,H,W,SUM ...]   (one per clip; SUM = sum of all bytes)
Exits 0 when it matches, 1 when it does not, 77 when h5py is not installed (the test is skipped).
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(77)


def main():
    path, want = sys.argv[1], [tuple(int(v) for v in a.split(",")) for a in sys.argv[2:]]
    with h5py.File(path, "r") as f:
        fmt = f.attrs["vaec_format"]
        fmt = fmt.decode() if isinstance(fmt, bytes) else fmt
        assert fmt == "video-clips-v1", fmt
        assert int(f.attrs["num_clips"]) == len(want), f.attrs["num_clips"]
        assert int(f.attrs["num_frames"]) == sum(w[0] for w in want), f.attrs["num_frames"]
        assert len(f["clips"]) == len(want), list(f["clips"])
        for k, (T, H, W, s) in enumerate(want):
            d = f["clips/%06d" % k]
            assert d.dtype == np.uint8 and d.shape == (T, H, W, 3), (k, d.dtype, d.shape)
            assert d.chunks == (T, H, W, 3), (k, d.chunks)
            assert isinstance(d.attrs["source"], str) and float(d.attrs["fps"]) > 0, dict(d.attrs)
            got = int(d[()].astype(np.int64).sum())
            assert got == s, (k, got, s)
    print("h5py read ok:", len(want), "clips")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("mismatch:", e)
        sys.exit(1)
