/**
 * Fréchet distance between Gaussian fits of two sample sets (FID when the samples are Inception
 * features; here the features come from the caller, e.g. raw 2-D coordinates or any embedding).
 */
import { describe, fail } from '../errors.js';
import { matmul64, meanCovariances } from './dense.js';
import { psdCholesky, tridiagonalEigenvalues, tridiagonalizeBlocked } from './eigen.js';
import { allFinite, asSamples, checkPair, checkSamples, type SampleInput, type Samples, trace } from './linalg.js';

/** Mean and unbiased covariance of a sample set (reusable, e.g. cached statistics of the real data). */
export interface GaussianStats {
  /** Mean of the samples, length d */
  mean: Float64Array;
  /** d x d row-major, divisor n - 1 */
  cov: Float64Array;
  /** Number of samples */
  n: number;
  /** Dimension of each sample */
  d: number;
}

/** Fréchet distance between two Gaussian fits, split into its mean and covariance terms. */
export interface FrechetResult {
  /** max(0, meanTerm + traceTerm) */
  distance: number;
  /** |mu1 - mu2|² */
  meanTerm: number;
  /** tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2) */
  traceTerm: number;
  /** dimension of the samples */
  d: number;
  /** rows of the real sample set */
  nReal: number;
  /** rows of the fake sample set */
  nFake: number;
}

/** Mean and unbiased covariance (1/(n-1)) Σ (x - mu)(x - mu)^T of `x` (n ≥ 2, finite). */
export async function gaussianStats(xInput: SampleInput, name = 'samples'): Promise<GaussianStats> {
  const x = asSamples(xInput, name);
  checkSamples(x, name, 2);
  return (await statsOf(x))[0];
}

/**
 * gaussianStats of each of the sets, which the caller has already validated (checkSamples, n ≥
 * 2): the real and the fake set of a distance computed together (see meanCovariances), each with
 * the same bits as alone.
 */
export async function statsOf(...sets: Samples[]): Promise<GaussianStats[]> {
  return (await meanCovariances(sets)).map(({ mean, cov }, i) => ({ mean, cov, n: sets[i].n, d: sets[i].d }));
}

/**
 * Fréchet (2-Wasserstein²) distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982;
 * FID of Heusel et al. 2017):
 *
 *   FD = |mu1 - mu2|² + tr(S1) + tr(S2) - 2 tr((S1 S2)^1/2),
 *
 * in float64. tr((S1 S2)^1/2) = Σ_i sqrt(λ_i(S1 S2)), and the eigenvalues of S1 S2 are those of
 * the symmetric PSD matrix C = Lᵀ S2 L, where S1 = L Lᵀ is the semidefinite Cholesky factor of S1
 * (L is d x r, r = rank S1: singular covariances, n ≤ d, need no ε·I). C's eigenvalues come from
 * a Householder tridiagonalisation (by panels from r = 256 on) and implicit QL (eigen.ts),
 * backward stable with absolute error O(ε‖C‖); negatives can only be rounding and are clamped
 * to 0. The products run on onnxruntime's float64 GEMM (dense.ts). The usual `sqrtm(S1 S2)` (a Schur decomposition of a
 * non-symmetric product) gives the same value to about 1e-9 relative where it is well defined,
 * and is several times slower (2048-d: see `npm run bench`).
 *
 * The result is clamped at 0 (a negative value can only be rounding).
 */
export async function frechetFromStats(a: GaussianStats, b: GaussianStats): Promise<FrechetResult> {
  const d = a.d;
  for (const [s, name] of [
    [a, 'real'],
    [b, 'fake'],
  ] as const) {
    if (!(s.mean instanceof Float64Array) || s.mean.length !== s.d || !(s.cov instanceof Float64Array) || s.cov.length !== s.d * s.d) {
      fail('invalid_argument', name, 'GaussianStats with a mean of length d and a d x d covariance', describe(s));
    }
    if (!allFinite(s.mean) || !allFinite(s.cov)) {
      fail('invalid_argument', name, 'GaussianStats with finite entries', 'a non-finite mean or covariance entry');
    }
  }
  if (b.d !== d) fail('shape_mismatch', 'fake', `d = ${d} (the dimension of real)`, `d = ${b.d}`);
  let meanTerm = 0;
  for (let j = 0; j < d; j++) {
    const diff = a.mean[j] - b.mean[j];
    meanTerm += diff * diff;
  }
  // Covariances beyond 2^±200 (features of size 1e30 and more, or 1e-30 and less): tr((S1 S2)^½)
  // from S1 / σ and S2 / σ, σ = 4^k near their largest variance, as their products would overflow
  // or underflow. Dividing by a power of four is exact, and so is the square root of one (the
  // Cholesky factor becomes L / 2^k), so the result has the same bits either way.
  let largest = 0;
  for (let i = 0; i < d; i++) largest = Math.max(largest, Math.abs(a.cov[i * d + i]), Math.abs(b.cov[i * d + i]));
  const scale = largest > 2 ** 200 || (largest > 0 && largest < 2 ** -200) ? 4 ** Math.max(-500, Math.min(500, Math.floor(Math.log2(largest) / 2))) : 1;
  const s1 = scale === 1 ? a.cov : a.cov.map((v) => v / scale);
  const s2 = scale === 1 ? b.cov : b.cov.map((v) => v / scale);
  const { l, rank: r } = await psdCholesky(s1, d);
  let traceSqrt = 0;
  if (r > 0) {
    const t = await matmul64(s2, l, d, d, r);
    const lt = new Float64Array(r * d);
    for (let i = 0; i < d; i++) for (let c = 0; c < r; c++) lt[c * d + i] = l[i * r + c];
    const m = await matmul64(lt, t, r, d, r);
    for (let i = 0; i < r; i++) {
      for (let j = i + 1; j < r; j++) {
        const s = 0.5 * (m[i * r + j] + m[j * r + i]);
        m[i * r + j] = s;
        m[j * r + i] = s;
      }
    }
    const { diag, off } = await tridiagonalizeBlocked(m, r);
    for (const v of tridiagonalEigenvalues(diag, off)) traceSqrt += Math.sqrt(Math.max(v, 0));
    traceSqrt *= scale; // √λ(S1 S2 / σ²) = √λ(S1 S2) / σ
  }
  const traceTerm = trace(a.cov, d) + trace(b.cov, d) - 2 * traceSqrt;
  return { distance: Math.max(0, meanTerm + traceTerm), meanTerm, traceTerm, d, nReal: a.n, nFake: b.n };
}

/**
 * Fréchet distance between the Gaussian fits (mean, unbiased covariance) of `real` and `fake`
 * (see `frechetFromStats` for the formula and its numerics). Both need n ≥ 2 finite rows of the
 * same dimension d. Cost O((n_real + n_fake) d² + d³).
 *
 * Errors: RefineryError invalid_argument naming 'real' / 'fake' (not n x d, non-finite, n < 2),
 * shape_mismatch naming 'fake' (different d).
 */
export async function frechetDistance(realInput: SampleInput, fakeInput: SampleInput): Promise<FrechetResult> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  checkPair(real, fake, 2, 2);
  const [a, b] = await statsOf(real, fake);
  return frechetFromStats(a, b);
}
