"""Time the Fréchet distance of two saved Gaussians the way pytorch-fid computes it (scipy's sqrtm of S1 S2).

Usage: frechet_time.py DIR, with DIR/{a,b}-{mu,sigma}.npy; prints {"seconds": ..., "fd": ...}.
Used by `npm run bench` (src/bench/metrics.ts), interleaved with Refinery's own timing.
"""
import json
import sys
import time

import numpy as np
import scipy.linalg

d = sys.argv[1]
mu1, s1, mu2, s2 = (np.load(f"{d}/{n}.npy") for n in ("a-mu", "a-sigma", "b-mu", "b-sigma"))
t0 = time.perf_counter()
root = scipy.linalg.sqrtm(s1.dot(s2)).real
diff = mu1 - mu2
fd = float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))
print(json.dumps({"seconds": time.perf_counter() - t0, "fd": fd}))
