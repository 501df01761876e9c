"""Time the Fréchet distance of two saved Gaussians the way pytorch-fid computes it (scipy's sqrtm of S1 S2).

Usage: frechet_time.py DIR, with DIR/{a,b}-{mu,sigma}.npy; prints {"seconds": ..., "fd": ...}.
Used by `npm run bench` (src/bench/metrics.ts), interleaved with Refinery's own timing.
"""
import json
import sys
import time

import numpy as np

from frechet import frechet_from_stats

d = sys.argv[1]
mu1, s1, mu2, s2 = (np.load(f"{d}/{n}.npy") for n in ("a-mu", "a-sigma", "b-mu", "b-sigma"))
t0 = time.perf_counter()
fd = frechet_from_stats(mu1, s1, mu2, s2)
print(json.dumps({"seconds": time.perf_counter() - t0, "fd": fd}))
