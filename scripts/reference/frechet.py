"""FD of two sample sets as pytorch-fid computes it: mean, np.cov, scipy.linalg.sqrtm(S1 S2).

Usage: frechet.py REAL.npy FAKE.npy; prints the distance. `frechet_from_stats` and
`frechet_distance` are also imported by the bench's reference timings (frechet_time.py,
metrics_time.py).
"""
import sys

import numpy as np
import scipy.linalg


def frechet_from_stats(mu1, s1, mu2, s2):
    root = scipy.linalg.sqrtm(s1.dot(s2))
    if not np.isfinite(root).all():
        offset = np.eye(s1.shape[0]) * 1e-6
        root = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
    root = root.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))


def frechet_distance(real, fake):
    return frechet_from_stats(real.mean(axis=0), np.cov(real, rowvar=False), fake.mean(axis=0), np.cov(fake, rowvar=False))


if __name__ == "__main__":
    real, fake = (np.load(p).astype(np.float64) for p in sys.argv[1:3])
    print(repr(frechet_distance(real, fake)))
