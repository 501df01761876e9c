/**
 * Metrics read off a classifier's logits on the fake samples: the Inception Score (Salimans et al.
 * 2016, computed as torch-fidelity does: softmax in float64, the samples shuffled with a seed, cut
 * into `splits` equal parts, IS = exp(mean_x KL(p(y|x) ‖ p(y))) per part, reported as mean and
 * standard deviation over the parts), and the class statistics used for mode coverage on labelled
 * data: the fraction of samples classified with confidence above a threshold ("high quality"), the
 * classes reached, and the Jensen–Shannon divergence of the predicted-class histogram from uniform.
 */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import { allFinite, asSamples, type SampleInput } from './linalg.js';
import { jsAgainstUniform } from './modes.js';

/** Inception Score over splits. */
export interface InceptionScore {
  /** Mean of the per-split scores. */
  mean: number;
  /** Standard deviation of the per-split scores (population, as torch-fidelity). */
  std: number;
  /** Score of each split. */
  splits: number[];
}

/** Stream label of the IS shuffle (Rng(seed, IS_STREAM)). */
export const IS_STREAM = 0x4953;

/** Row-wise softmax of logits [n, K] in float64. */
export function softmaxRows(logits: Float32Array | Float64Array, n: number, k: number): Float64Array {
  const p = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let top = -Infinity;
    for (let j = 0; j < k; j++) top = Math.max(top, logits[i * k + j]);
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const e = Math.exp(logits[i * k + j] - top);
      p[i * k + j] = e;
      sum += e;
    }
    for (let j = 0; j < k; j++) p[i * k + j] /= sum;
  }
  return p;
}

/**
 * Class probabilities [n, K] in float64 from a classifier's outputs: its logits (softmaxRows), or,
 * when every row is already a probability vector (entries in [0, 1] summing to 1 within 1e-3: a
 * classifier exported with its final Softmax), those rows themselves, renormalised. Without this a
 * Softmax output would be put through a second softmax, which flattens every row (IS near 1).
 */
export function classProbabilities(outputs: Float32Array | Float64Array, n: number, k: number): Float64Array {
  let probabilities = n > 0;
  for (let i = 0; i < n && probabilities; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) {
      const v = outputs[i * k + j];
      if (!(v >= 0 && v <= 1)) {
        probabilities = false;
        break;
      }
      sum += v;
    }
    if (Math.abs(sum - 1) > 1e-3) probabilities = false;
  }
  if (!probabilities) return softmaxRows(outputs, n, k);
  const p = Float64Array.from(outputs);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += p[i * k + j];
    for (let j = 0; j < k; j++) p[i * k + j] /= sum;
  }
  return p;
}

/**
 * Inception Score of classifier logits [n, K], or probabilities (see classProbabilities), of any classifier (the samples' class distribution
 * should be confident per sample and diverse overall). Options: `splits` (default 10), `seed`
 * of the shuffle (default 0), `shuffle` (default true).
 */
export function inceptionScore(logitsInput: SampleInput, options: { splits?: number; seed?: number; shuffle?: boolean } = {}): InceptionScore {
  const { data, n, d: k } = asSamples(logitsInput, 'logits');
  const splits = options.splits ?? 10;
  if (!Number.isSafeInteger(splits) || splits < 1 || splits > n)
    fail('invalid_argument', 'splits', `an integer in [1, ${n}] (the number of samples)`, describe(options.splits));
  if (!allFinite(data)) fail('invalid_argument', 'logits', 'finite logits', 'a non-finite value');
  const p = classProbabilities(data, n, k);
  const order = options.shuffle === false ? Int32Array.from({ length: n }, (_, i) => i) : new Rng(options.seed ?? 0, IS_STREAM).permutation(n);
  const scores: number[] = [];
  for (let s = 0; s < splits; s++) {
    const lo = Math.floor((s * n) / splits);
    const hi = Math.floor(((s + 1) * n) / splits);
    const py = new Float64Array(k);
    for (let r = lo; r < hi; r++) for (let j = 0; j < k; j++) py[j] += p[order[r] * k + j] / (hi - lo);
    let kl = 0;
    for (let r = lo; r < hi; r++) {
      const row = order[r] * k;
      for (let j = 0; j < k; j++) {
        const v = p[row + j];
        if (v > 0) kl += v * (Math.log(v) - Math.log(py[j]));
      }
    }
    scores.push(Math.exp(kl / (hi - lo)));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) ** 2, 0) / splits);
  return { mean, std, splits: scores };
}

/** What a classifier says about a set of samples. */
export interface ClassStatistics {
  /** Percent of samples whose top class probability exceeds the threshold. */
  confidentPercent: number;
  /** Confidence threshold used, in [0, 1) (default 0.9). */
  threshold: number;
  /** Predicted-class counts (argmax), all samples. */
  classCounts: number[];
  /** Classes predicted for at least one confident sample. */
  classesCovered: number;
  /** Jensen–Shannon divergence (natural log, in [0, ln 2]) of the confident samples' class histogram from uniform. */
  jsFromUniform: number;
}

/** Class statistics of classifier logits [n, K] (or probabilities: see classProbabilities); `threshold` of confidence defaults to 0.9. */
export function classStatistics(logitsInput: SampleInput, options: { threshold?: number } = {}): ClassStatistics {
  const { data, n, d: k } = asSamples(logitsInput, 'logits');
  const threshold = options.threshold ?? 0.9;
  if (!(threshold >= 0 && threshold < 1)) fail('invalid_argument', 'threshold', 'a number in [0, 1)', describe(options.threshold));
  const p = classProbabilities(data, n, k);
  const counts = new Array<number>(k).fill(0);
  const confident = new Array<number>(k).fill(0);
  let nConfident = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (p[i * k + j] > p[i * k + best]) best = j;
    counts[best]++;
    if (p[i * k + best] > threshold) {
      confident[best]++;
      nConfident++;
    }
  }
  return {
    confidentPercent: (100 * nConfident) / n,
    threshold,
    classCounts: counts,
    classesCovered: confident.filter((c) => c > 0).length,
    jsFromUniform: nConfident > 0 ? jsAgainstUniform(confident, nConfident) : Math.log(2),
  };
}
