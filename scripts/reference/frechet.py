"""FD of two sample sets as pytorch-fid computes it: mean, np.cov, scipy.linalg.sqrtm(S1 S2)."""
import sys

import numpy as np
import scipy.linalg

real, fake = (np.load(p).astype(np.float64) for p in sys.argv[1:3])
mu1, mu2 = real.mean(axis=0), fake.mean(axis=0)
s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
root = scipy.linalg.sqrtm(s1.dot(s2))
if not np.isfinite(root).all():
    offset = np.eye(s1.shape[0]) * 1e-6
    root = scipy.linalg.sqrtm((s1 + offset).dot(s2 + offset))
root = root.real
diff = mu1 - mu2
print(repr(float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(root))))
