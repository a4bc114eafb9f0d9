#!/usr/bin/env python3
"""PyTorch twin of `vaec_bench temporal_full_17x32x32`: vaec's PyTorch reference of the 309.7M temporal VAE
(tests/golden/ref_temporal.py), encode + decode (posterior mean) of a (1,4,17,32,32) latent, no grad, float32,
best of N on the given thread count. Prints one JSON line with the process's peak RSS."""
import json
import os
import resource
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "golden"))
from ref_temporal import TemporalVAE  # noqa: E402

reps = int(sys.argv[1]) if len(sys.argv) > 1 else 2
torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) > 2 else torch.get_num_threads())
m = TemporalVAE().eval()
x = torch.randn(1, 4, 17, 32, 32)
best_e = best_d = 1e30
with torch.no_grad():
    for _ in range(reps):
        t0 = time.perf_counter()
        post = m.encode(x)
        t1 = time.perf_counter()
        m.decode(post.mean, 17)
        t2 = time.perf_counter()
        best_e, best_d = min(best_e, t1 - t0), min(best_d, t2 - t1)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"case": "temporal_full_17x32x32", "impl": "torch", "threads": torch.get_num_threads(),
                  "encode_s": round(best_e, 3), "decode_s": round(best_d, 3), "total_s": round(best_e + best_d, 3),
                  "peak_rss_mib": round(peak, 1)}))
