"""Time one sample-based metric the way the reference implementations compute it, on saved arrays.

Usage: metrics_time.py DIR METRIC [OPTIONS_JSON [REPS]], with DIR/real.npy and DIR/fake.npy ([n, d]
float64); computes the metric REPS times (default 1) in this process and prints
{"seconds": [one per repetition], "value": {...}, "implementation": "..."}. Loading the arrays and
importing the libraries are not timed. Used by `npm run bench` (src/bench/metrics.ts), interleaved with
Refinery's own timing of the same metric on the same arrays.

The algorithms are those of the reference code, written here with numpy, scipy and scikit-learn
(Debian: python3-numpy python3-scipy python3-sklearn), the libraries that code uses:
- fd: pytorch-fid's Fréchet distance (frechet.py: np.mean / np.cov of each set, scipy.linalg.sqrtm of S1 S2);
- pr, dc: prdc (Naeem et al. 2020): full pairwise Euclidean distance matrices (scikit-learn), the
  k-th neighbour radius of each real (and fake) row by np.partition, then ball membership with "<";
- kid: the polynomial-kernel unbiased MMD² of Bińkowski et al. (as torch-fidelity / the GAN
  metrics code compute it): kernel (x·y/d + 1)³, 100 subsets of 1000 rows drawn without
  replacement, mean and std (divisor 100) of the per-subset estimates;
- mmd: unbiased MMD² with an RBF kernel of the given bandwidth, full kernel matrices in numpy;
- prd: Sajjadi et al. 2018's prd_score: MiniBatchKMeans(20 clusters, n_init=10) of the pooled
  rows, histograms, α(λ) = Σ min(λ p, q) at 1001 angles, averaged over 10 clusterings, max F_8 and F_1/8;
- cpr: the k-NN variant of Simon et al. 2019 as Refinery defines it (half of each set trains a
  k-NN classifier with k = round(√n_train), thresholds on the count of fake neighbours).
Random draws (KID subsets, PRD's k-means, the cpr split) come from numpy, not Refinery's streams,
so those values agree with Refinery's within their sampling spread, not to the last digit.
"""
import json
import sys
import time

import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.metrics import pairwise_distances
from sklearn.neighbors import NearestNeighbors

from frechet import frechet_distance


def kth_radii(x, k):
    d = pairwise_distances(x, x, metric="euclidean")
    # index k of the row sorted ascending: the k-th neighbour, the row itself being at 0
    return np.partition(d, k, axis=1)[:, k]


def precision_recall(real, fake, k=3):
    real_radii = kth_radii(real, k)
    fake_radii = kth_radii(fake, k)
    cross = pairwise_distances(real, fake, metric="euclidean")
    precision = (cross < real_radii[:, None]).any(axis=0).mean()
    recall = (cross < fake_radii[None, :]).any(axis=1).mean()
    return {"precision": float(precision), "recall": float(recall), "k": k}


def density_coverage(real, fake, k=5):
    real_radii = kth_radii(real, k)
    cross = pairwise_distances(real, fake, metric="euclidean")
    density = (1.0 / k) * (cross < real_radii[:, None]).sum(axis=0).mean()
    coverage = (cross.min(axis=1) < real_radii).mean()
    return {"density": float(density), "coverage": float(coverage), "k": k}


def unbiased_mmd2(kxx, kyy, kxy):
    m, n = kxx.shape[0], kyy.shape[0]
    sxx = (kxx.sum() - np.trace(kxx)) / (m * (m - 1))
    syy = (kyy.sum() - np.trace(kyy)) / (n * (n - 1))
    return sxx + syy - 2 * kxy.mean()


def kid(real, fake, num_subsets=100, subset_size=1000, seed=0):
    rng = np.random.RandomState(seed)
    d = real.shape[1]
    m = min(subset_size, real.shape[0], fake.shape[0])
    values = np.zeros(num_subsets)
    for s in range(num_subsets):
        x = real[rng.choice(real.shape[0], m, replace=False)]
        y = fake[rng.choice(fake.shape[0], m, replace=False)]
        kernel = lambda a, b: (a @ b.T / d + 1) ** 3
        values[s] = unbiased_mmd2(kernel(x, x), kernel(y, y), kernel(x, y))
    return {"mean": float(values.mean()), "std": float(values.std()), "subsetSize": m, "numSubsets": num_subsets}


def mmd(real, fake, bandwidth):
    def kernel(a, b):
        sq = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2 * a @ b.T
        return np.exp(-np.maximum(sq, 0) / (2 * bandwidth**2))

    return {"mmd2": float(unbiased_mmd2(kernel(real, real), kernel(fake, fake), kernel(real, fake))), "bandwidth": bandwidth}


def pr_curve(ref_dist, eval_dist, num_angles=1001):
    angles = np.linspace(1e-10, np.pi / 2 - 1e-10, num=num_angles)
    slopes = np.tan(angles)
    precision = np.minimum(ref_dist[None, :] * slopes[:, None], eval_dist[None, :]).sum(axis=1)
    recall = precision / slopes
    return np.clip(precision, 0, 1), np.clip(recall, 0, 1)


def max_f_beta(precision, recall, beta):
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (1 + beta**2) * precision * recall / (beta**2 * precision + recall)
    return float(np.nanmax(np.where(precision + recall > 0, f, 0)))


def prd(real, fake, num_clusters=20, num_angles=1001, num_runs=10, seed=0):
    precisions, recalls = [], []
    pooled = np.concatenate([fake, real])
    for run in range(num_runs):
        km = MiniBatchKMeans(n_clusters=num_clusters, n_init=10, random_state=seed + run)
        labels = km.fit(pooled).labels_
        eval_labels, ref_labels = labels[: len(fake)], labels[len(fake) :]
        eval_dist = np.histogram(eval_labels, bins=num_clusters, range=[0, num_clusters], density=True)[0]
        ref_dist = np.histogram(ref_labels, bins=num_clusters, range=[0, num_clusters], density=True)[0]
        p, r = pr_curve(ref_dist, eval_dist, num_angles)
        precisions.append(p)
        recalls.append(r)
    p, r = np.mean(precisions, axis=0), np.mean(recalls, axis=0)
    return {"f8": max_f_beta(p, r, 8), "f1over8": max_f_beta(p, r, 1 / 8), "numClusters": num_clusters, "numRuns": num_runs}


def classifier_pr(real, fake, num_angles=1001, seed=0):
    rng = np.random.RandomState(seed)
    ri, fi = rng.permutation(len(real)), rng.permutation(len(fake))
    nr, nf = len(real) // 2, len(fake) // 2
    train = np.concatenate([real[ri[:nr]], fake[fi[:nf]]])
    is_fake = np.concatenate([np.zeros(nr, bool), np.ones(nf, bool)])
    k = max(1, round(np.sqrt(min(nr, nf))))
    nn = NearestNeighbors(n_neighbors=k).fit(train)
    count = lambda x: is_fake[nn.kneighbors(x, return_distance=False)].sum(axis=1)
    c_real, c_fake = count(real[ri[nr:]]), count(fake[fi[nf:]])
    t = np.arange(k + 2)[:, None]
    fpr = (c_real[None, :] >= t).mean(axis=1)  # real rows called fake
    fnr = (c_fake[None, :] < t).mean(axis=1)  # fake rows called real
    angles = np.linspace(1e-10, np.pi / 2 - 1e-10, num=num_angles)
    lambdas = np.tan(angles)
    alpha = np.min(lambdas[:, None] * fpr[None, :] + fnr[None, :], axis=1)
    precision, recall = np.clip(alpha, 0, 1), np.clip(alpha / lambdas, 0, 1)
    return {"f8": max_f_beta(precision, recall, 8), "f1over8": max_f_beta(precision, recall, 1 / 8), "k": k, "classifier": "knn"}


METRICS = {"fd": lambda real, fake: {"distance": frechet_distance(real, fake)}, "pr": precision_recall, "dc": density_coverage, "kid": kid, "mmd": mmd, "prd": prd, "cpr": classifier_pr}

if __name__ == "__main__":
    folder, metric = sys.argv[1], sys.argv[2]
    options = json.loads(sys.argv[3]) if len(sys.argv) > 3 else {}
    reps = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    real, fake = np.load(f"{folder}/real.npy"), np.load(f"{folder}/fake.npy")
    seconds = []
    for _ in range(reps):
        t0 = time.perf_counter()
        value = METRICS[metric](real, fake, **options)
        seconds.append(time.perf_counter() - t0)
    print(json.dumps({"seconds": seconds, "value": value, "implementation": f"numpy {np.__version__}, scikit-learn"}))
