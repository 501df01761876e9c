/**
 * Fréchet distance between Gaussian fits of two sample sets (FID when the samples are Inception
 * features; here the features come from the caller, e.g. raw 2-D coordinates or any embedding).
 */
import { describe, fail } from '../errors.js';
import { checkPair, checkSamples, covariance, matmul, mean, sqrtPsd, symmetricEigen, trace, asSamples, type SampleInput, type Samples } from './linalg.js';

/** Mean and unbiased covariance of a sample set (reusable, e.g. cached statistics of the real data). */
export interface GaussianStats {
  mean: Float64Array;
  /** d x d row-major, divisor n - 1 */
  cov: Float64Array;
  n: number;
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
export function gaussianStats(x: Samples, name = 'samples'): GaussianStats {
  checkSamples(x, name, 2);
  return statsOf(x);
}

function statsOf(x: Samples): GaussianStats {
  const mu = mean(x);
  return { mean: mu, cov: covariance(x, mu), n: x.n, d: x.d };
}

/**
 * Fréchet (2-Wasserstein²) distance between N(mu1, S1) and N(mu2, S2) (Dowson & Landau 1982;
 * FID of Heusel et al. 2017):
 *
 *   FD = |mu1 - mu2|² + tr(S1 + S2 - 2 (S1^1/2 S2 S1^1/2)^1/2),
 *
 * in float64. tr((S1^1/2 S2 S1^1/2)^1/2) = Σ_i sqrt(λ_i(M)) with M = R S2 R, R = S1^1/2.
 *
 * Why this is stable: R comes from the symmetric (Jacobi) eigendecomposition of S1 and is exactly
 * symmetric PSD; M = R S2 R is symmetric PSD in exact arithmetic and is symmetrised, so its
 * eigenvalues are real, computed by a backward-stable method with absolute error O(ε‖M‖), and the
 * only possible negatives are O(ε‖M‖) rounding, clamped to 0. This avoids the usual
 * `sqrtm(S1 S2)` of a non-symmetric product (a Schur decomposition of a non-normal matrix), which
 * can return complex values and loses accuracy when the covariances are singular (n ≤ d) so that
 * implementations add ε·I. Singular covariances need no special treatment here. The remaining
 * error of Σ sqrt(λ_i) is dominated by near-zero eigenvalues (sqrt is not Lipschitz at 0):
 * at most about d·sqrt(ε‖M‖).
 *
 * The result is clamped at 0 (a negative value can only be rounding).
 */
export function frechetFromStats(a: GaussianStats, b: GaussianStats): FrechetResult {
  const d = a.d;
  for (const [s, name] of [
    [a, 'real'],
    [b, 'fake'],
  ] as const) {
    if (!(s.mean instanceof Float64Array) || s.mean.length !== s.d || !(s.cov instanceof Float64Array) || s.cov.length !== s.d * s.d) {
      fail('invalid_argument', name, 'GaussianStats with a mean of length d and a d x d covariance', describe(s));
    }
    if (!s.mean.every(Number.isFinite) || !s.cov.every(Number.isFinite)) {
      fail('invalid_argument', name, 'GaussianStats with finite entries', 'a non-finite mean or covariance entry');
    }
  }
  if (b.d !== d) fail('shape_mismatch', 'fake', `d = ${d} (the dimension of real)`, `d = ${b.d}`);
  let meanTerm = 0;
  for (let j = 0; j < d; j++) {
    const diff = a.mean[j] - b.mean[j];
    meanTerm += diff * diff;
  }
  const r = sqrtPsd(a.cov, d);
  const m = matmul(matmul(r, b.cov, d, d, d), r, d, d, d);
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const s = 0.5 * (m[i * d + j] + m[j * d + i]);
      m[i * d + j] = s;
      m[j * d + i] = s;
    }
  }
  const { values } = symmetricEigen(m, d, { vectors: false });
  let traceSqrt = 0;
  for (const l of values) traceSqrt += Math.sqrt(Math.max(l, 0));
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
export function frechetDistance(realInput: SampleInput, fakeInput: SampleInput): FrechetResult {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  checkPair(real, fake, 2, 2);
  return frechetFromStats(statsOf(real), statsOf(fake));
}
