"""Reads a `vaec data encode` latents file with h5py and checks its layout: used by tests/cli/test_cli_data_encode.c.

    check_latents_read.py MEAN.h5 MOMENTS.h5 C,T,h,w [C,T,h,w ...]   (one latent shape per clip)
MEAN.h5 was written with --mode mean and MOMENTS.h5 with --mode moments from the same clips. Exits 0 when both read as docs/data.md describes and the moments' mean is the mean file's
latents, 1 when not, 77 when h5py is not installed (the test is skipped).
"""
import sys

try:
    import h5py
    import numpy as np
except ImportError:
    sys.exit(77)


def check_root(f, mode, n):
    assert f.attrs["vaec_format"] == "video-latents-v1", f.attrs["vaec_format"]
    assert f.attrs["mode"] == mode, f.attrs["mode"]
    assert int(f.attrs["num_clips"]) == n, f.attrs["num_clips"]


def main():
    mean_path, moments_path = sys.argv[1], sys.argv[2]
    shapes = [tuple(int(v) for v in a.split(",")) for a in sys.argv[3:]]
    n = len(shapes)
    with h5py.File(mean_path, "r") as a, h5py.File(moments_path, "r") as b:
        check_root(a, "mean", n)
        check_root(b, "moments", n)
        assert sorted(a) == ["latents"], list(a)
        assert sorted(b) == ["logvar", "mean"], list(b)
        for k, shape in enumerate(shapes):
            name = "%06d" % k
            z, mu, lv = a["latents/" + name], b["mean/" + name], b["logvar/" + name]
            for d in (z, mu, lv):
                assert d.dtype == np.float32 and d.shape == shape, (name, d.dtype, d.shape)
                assert isinstance(d.attrs["source"], str) and d.attrs["source"], dict(d.attrs)
                assert int(d.attrs["num_frames"]) > 0, dict(d.attrs)
            assert np.array_equal(z[()], mu[()]), (name, "moments mean differs from the mean latents")
            assert np.isfinite(lv[()]).all() and np.isfinite(z[()]).all(), name
            # a later sample, as a diffusion trainer would draw it
            eps = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
            s = mu[()] + np.exp(0.5 * lv[()]) * eps
            assert np.isfinite(s).all(), name
    print("h5py read ok:", n, "clips")


if __name__ == "__main__":
    try:
        main()
    except (AssertionError, KeyError) as e:
        print("mismatch:", repr(e))
        sys.exit(1)
