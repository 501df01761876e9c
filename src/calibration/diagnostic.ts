/**
 * Calibration diagnostics for a discriminator read as a classifier of real (y = 1) vs generated
 * (y = 0) samples, on data not used to fit the calibration.
 *
 * Dawid's Z (used by Turner et al. 2019, MH-GAN, to test D's calibration):
 *
 *   Z = sum_i (y_i - p_i) / sqrt( sum_i p_i (1 - p_i) ),
 *
 * approximately N(0, 1) when P(y_i = 1 | x_i) = p_i (independent labels). It tests calibration
 * "in the large"; Spiegelhalter's Z (1986) is reported beside it because it also detects a wrong
 * slope (over/under-confidence) whose errors cancel in Dawid's sum:
 *
 *   Z_S = sum_i (y_i - p_i)(1 - 2 p_i) / sqrt( sum_i (1 - 2 p_i)^2 p_i (1 - p_i) ).
 *
 * From a log ratio to a probability: with n1 reals and n0 fakes in the test set, the posterior is
 * p_i = sigmoid(logRatio_i + log(n1 / n0)) (equal counts: sigmoid(logRatio_i)).
 */
import { fail } from '../errors.js';
import { sigmoid, softplus } from './logistic.js';

export interface ZStatistic {
  z: number;
  /** Numerator: sum of (weighted) residuals. */
  sum: number;
  /** Denominator squared: the null variance of the sum. */
  variance: number;
  n: number;
}

function checkPair(labels: ArrayLike<number>, probabilities: ArrayLike<number>): void {
  if (labels.length !== probabilities.length)
    fail('shape_mismatch', 'diagnostic', 'as many probabilities as labels', `${probabilities.length} for ${labels.length} labels`);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) fail('invalid_argument', `diagnostic label ${i}`, '0 or 1', String(labels[i]));
    const p = probabilities[i];
    if (!(p >= 0 && p <= 1)) fail('invalid_argument', `diagnostic probability ${i}`, 'a number in [0, 1]', String(p));
  }
}

/** z from a sum and its null variance: 0/0 = 0; a nonzero sum with zero variance is +-Infinity. */
function ratio(sum: number, variance: number): number {
  if (variance > 0) return sum / Math.sqrt(variance);
  return sum === 0 ? 0 : sum > 0 ? Infinity : -Infinity;
}

/** Dawid's Z = sum (y - p) / sqrt(sum p (1 - p)). */
export function dawidZ(labels: ArrayLike<number>, probabilities: ArrayLike<number>): ZStatistic {
  checkPair(labels, probabilities);
  let sum = 0;
  let variance = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i];
    sum += labels[i] - p;
    variance += p * (1 - p);
  }
  return { z: ratio(sum, variance), sum, variance, n: labels.length };
}

/** Spiegelhalter's Z = sum (y - p)(1 - 2p) / sqrt(sum (1 - 2p)^2 p (1 - p)). */
export function spiegelhalterZ(labels: ArrayLike<number>, probabilities: ArrayLike<number>): ZStatistic {
  checkPair(labels, probabilities);
  let sum = 0;
  let variance = 0;
  for (let i = 0; i < labels.length; i++) {
    const p = probabilities[i];
    const c = 1 - 2 * p;
    sum += (labels[i] - p) * c;
    variance += c * c * p * (1 - p);
  }
  return { z: ratio(sum, variance), sum, variance, n: labels.length };
}

/** How well log ratios, read as real-vs-fake probabilities, are calibrated on held-out rows. */
export interface CalibrationDiagnostic {
  /** Real rows (label 1) with a non-NaN log ratio. */
  nReal: number;
  /** Fake rows (label 0) with a non-NaN log ratio. */
  nFake: number;
  /** Rows whose log ratio was NaN (left out of every statistic). */
  nonFinite: number;
  /** Dawid's Z (Turner et al.). */
  z: number;
  /** Spiegelhalter's Z: also detects over- or under-confidence; about N(0, 1) when calibrated. */
  spiegelhalterZ: number;
  /** Mean log loss -[y log p + (1 - y) log(1 - p)] with the prior-adjusted p. */
  logLoss: number;
  /** Fraction of rows with (p > 1/2) == (y == 1). */
  accuracy: number;
  /** Expected calibration error: sum over the reliability bins of (count / N) |fractionReal - meanPredicted|. */
  ece: number;
  /** The reliability diagram: RELIABILITY_BINS equal bins of p over [0, 1] (the last one closed). */
  reliability: ReliabilityBin[];
}

/** One bin of a reliability diagram: rows whose predicted p(real) lies in [lo, hi). */
export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  /** Mean predicted p over the bin's rows (NaN when empty). */
  meanPredicted: number;
  /** Fraction of the bin's rows that are real (NaN when empty). */
  fractionReal: number;
}

export const RELIABILITY_BINS = 10;

/** Reliability bins and expected calibration error of predictions p for labels y. */
export function reliability(y: ArrayLike<number>, p: ArrayLike<number>, bins = RELIABILITY_BINS): { bins: ReliabilityBin[]; ece: number } {
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let k = 0; k < p.length; k++) {
    const b = Math.min(bins - 1, Math.floor(p[k] * bins));
    count[b]++;
    sumP[b] += p[k];
    sumY[b] += y[k];
  }
  let ece = 0;
  const out: ReliabilityBin[] = [];
  for (let b = 0; b < bins; b++) {
    const meanPredicted = count[b] > 0 ? sumP[b] / count[b] : Number.NaN;
    const fractionReal = count[b] > 0 ? sumY[b] / count[b] : Number.NaN;
    if (count[b] > 0) ece += (count[b] / p.length) * Math.abs(fractionReal - meanPredicted);
    out.push({ lo: b / bins, hi: (b + 1) / bins, count: count[b], meanPredicted, fractionReal });
  }
  return { bins: out, ece };
}

/**
 * Both Z statistics, log loss and accuracy of log ratios (labels 1 = real, 0 = fake), with
 * p_i = sigmoid(logRatio_i + log(n1/n0)) over the rows with a non-NaN log ratio (+-Infinity is
 * allowed: p = 1 or 0). Needs at least one real and one fake row.
 */
export function diagnoseLogRatios(labels: ArrayLike<number>, logRatios: ArrayLike<number>): CalibrationDiagnostic {
  if (labels.length !== logRatios.length)
    fail('shape_mismatch', 'diagnostic', 'as many log ratios as labels', `${logRatios.length} for ${labels.length} labels`);
  const keep: number[] = [];
  let n1 = 0;
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] !== 0 && labels[i] !== 1) fail('invalid_argument', `diagnostic label ${i}`, '0 or 1', String(labels[i]));
    if (Number.isNaN(logRatios[i])) continue;
    keep.push(i);
    n1 += labels[i];
  }
  const n0 = keep.length - n1;
  if (n1 < 1 || n0 < 1) fail('invalid_argument', 'diagnostic', 'at least one real and one fake row with a log ratio', `${n1} real and ${n0} fake`);
  const prior = Math.log(n1 / n0);
  const y = Uint8Array.from(keep, (i) => labels[i]);
  const t = Float64Array.from(keep, (i) => logRatios[i] + prior);
  const p = Float64Array.from(t, sigmoid);
  let logLoss = 0;
  let correct = 0;
  for (let k = 0; k < keep.length; k++) {
    // -log p = softplus(-t), -log(1 - p) = softplus(t), stable for large |t|.
    logLoss += (y[k] === 1 ? softplus(-t[k]) : softplus(t[k])) / keep.length;
    if (p[k] > 0.5 === (y[k] === 1)) correct++;
  }
  return {
    nReal: n1,
    nFake: n0,
    nonFinite: labels.length - keep.length,
    z: dawidZ(y, p).z,
    spiegelhalterZ: spiegelhalterZ(y, p).z,
    logLoss,
    accuracy: correct / keep.length,
    ...(({ bins, ece }) => ({ ece, reliability: bins }))(reliability(y, p)),
  };
}
