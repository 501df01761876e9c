/**
 * Statistics for tests of stochastic algorithms: sample moments with tolerances from the sample
 * size, and a two-sample Kolmogorov-Smirnov test on fixed 1-D projections (Bonferroni over
 * projections). Test-only helpers.
 */

export function sampleMoments(x: ArrayLike<number>, n: number, d: number): { mean: number[]; cov: number[][] } {
  const mean = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j] += x[i * d + j] / n;
  const cov = Array.from({ length: d }, () => new Array<number>(d).fill(0));
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < d; a++) for (let b = 0; b < d; b++) cov[a][b] += ((x[i * d + a] - mean[a]) * (x[i * d + b] - mean[b])) / (n - 1);
  }
  return { mean, cov };
}

/**
 * z-scores of the sample mean against the exact mean: (mean_hat - mu) / sqrt(var / nEff). With
 * nEff = n for independent draws; a test asserts |z| < 4 (two-sided p ~ 6e-5 per coordinate).
 */
export function meanZScores(x: ArrayLike<number>, n: number, d: number, exact: { mean: number[]; cov: number[][] }, nEff = n): number[] {
  const m = sampleMoments(x, n, d);
  return m.mean.map((v, j) => (v - exact.mean[j]) / Math.sqrt(exact.cov[j][j] / nEff));
}

/**
 * z-scores of the sample variances against the exact ones, using Var(s^2) ~ (m4 - sigma^4)/n with
 * the sample fourth central moment.
 */
export function varianceZScores(x: ArrayLike<number>, n: number, d: number, exact: { cov: number[][] }): number[] {
  const m = sampleMoments(x, n, d);
  return m.cov.map((row, j) => {
    let m4 = 0;
    for (let i = 0; i < n; i++) m4 += (x[i * d + j] - m.mean[j]) ** 4 / n;
    const s2 = exact.cov[j][j];
    return (row[j] - s2) / Math.sqrt(Math.max(m4 - row[j] * row[j], 1e-12) / n);
  });
}

export { ksTwoSample } from '../metrics/ks.js';
import { ksTwoSample } from '../metrics/ks.js';

/**
 * KS tests of x against y (both [n, d]) on the coordinate axes and the diagonals of each pair of
 * axes; returns the smallest p-value times the number of projections (Bonferroni, capped at 1).
 */
export function projectedKs(x: ArrayLike<number>, nx: number, y: ArrayLike<number>, ny: number, d: number): { pValue: number; statistics: number[] } {
  const dirs: number[][] = [];
  for (let j = 0; j < d; j++) dirs.push(Array.from({ length: d }, (_, k) => (k === j ? 1 : 0)));
  for (let a = 0; a < d; a++) {
    for (let b = a + 1; b < d; b++) {
      for (const sgn of [1, -1]) dirs.push(Array.from({ length: d }, (_, k) => (k === a ? Math.SQRT1_2 : k === b ? sgn * Math.SQRT1_2 : 0)));
    }
  }
  const project = (v: ArrayLike<number>, n: number, dir: number[]) =>
    Float64Array.from({ length: n }, (_, i) => dir.reduce((s, w, k) => s + w * v[i * d + k], 0));
  const tests = dirs.map((dir) => ksTwoSample(project(x, nx, dir), project(y, ny, dir)));
  return { pValue: Math.min(1, Math.min(...tests.map((t) => t.pValue)) * dirs.length), statistics: tests.map((t) => t.statistic) };
}
