/**
 * Isotonic calibration of a discriminator score (Zadrozny & Elkan 2002; the alternative to Platt
 * scaling used with MH-GAN, Turner et al. 2019): the non-decreasing step function p(s) minimising
 * the weighted squared error sum_i w_i (y_i - p(s_i))^2, found by pool-adjacent-violators (PAV)
 * in float64, with labels real = 1 / fake = 0 and the class-balanced weights of logistic.ts
 * (w_i = N / (2 n_{y_i})), so p(s) estimates p_data(s) / (p_data(s) + p_g(s)).
 *
 * Conventions (stated once, used everywhere):
 * - Equal scores form one initial group; adjacent blocks whose means violate p_{k-1} < p_k
 *   (including equal means) are pooled, so block values are strictly increasing.
 * - Each block k is represented by a knot t_k = the unweighted mean score of its points.
 * - Block probabilities are clipped to [1/(2m), 1 - 1/(2m)], m = number of fitted points, so the
 *   log ratio is finite: v_k = log p_k - log(1 - p_k).
 * - The calibrated log ratio is linear in s between consecutive knots (interpolating v_k), and
 *   constant (v_0, v_{K-1}) below the first and above the last knot. NaN scores give NaN.
 */
import { fail } from '../errors.js';
import { labeledScores, type Weighting } from './logistic.js';

export interface PavResult {
  /** Block means, strictly increasing. */
  means: Float64Array;
  /** Total weight of each block. */
  weights: Float64Array;
  /** Number of input entries in each block (blocks cover the input in order). */
  sizes: Int32Array;
}

/**
 * Pool-adjacent-violators on a sequence already in order: the non-decreasing fit minimising
 * sum_i w_i (v_i - f_i)^2 is constant on blocks, each block's value the weighted mean of its
 * entries. Adjacent blocks with mean_{k-1} >= mean_k are pooled.
 */
export function pav(values: ArrayLike<number>, weights: ArrayLike<number>): PavResult {
  const n = values.length;
  if (weights.length !== n) fail('shape_mismatch', 'pav weights', `${n} weights`, String(weights.length));
  const sw = new Float64Array(n);
  const swv = new Float64Array(n);
  const size = new Int32Array(n);
  let top = 0;
  for (let i = 0; i < n; i++) {
    if (!(weights[i] > 0) || !Number.isFinite(weights[i])) fail('invalid_argument', `pav weight ${i}`, 'a positive finite weight', String(weights[i]));
    sw[top] = weights[i];
    swv[top] = weights[i] * values[i];
    size[top] = 1;
    top++;
    while (top > 1 && swv[top - 2] / sw[top - 2] >= swv[top - 1] / sw[top - 1]) {
      sw[top - 2] += sw[top - 1];
      swv[top - 2] += swv[top - 1];
      size[top - 2] += size[top - 1];
      top--;
    }
  }
  return { means: Float64Array.from({ length: top }, (_, k) => swv[k] / sw[k]), weights: sw.slice(0, top), sizes: size.slice(0, top) };
}

export interface IsotonicFit {
  /** Knot positions t_k (mean score of each block), strictly increasing. */
  knots: Float64Array;
  /** Block probabilities p_k before clipping (PAV output). */
  probabilities: Float64Array;
  /** v_k = logit of the clipped p_k. */
  logRatios: Float64Array;
  /** Points in each block. */
  counts: Int32Array;
  /** The clip: p in [pClip, 1 - pClip], pClip = 1/(2m). */
  pClip: number;
  nReal: number;
  nFake: number;
  dropped: number;
  weighting: Weighting;
}

/**
 * Fit the isotonic calibration of (scores, labels) (labels 1 = real, 0 = fake) by PAV with
 * class-balanced weights (default). Non-finite scores are left out (counted in `dropped`).
 */
export function fitIsotonic(scores: ArrayLike<number>, labels: ArrayLike<number>, options: { weighting?: Weighting } = {}): IsotonicFit {
  const d = labeledScores(scores, labels, options.weighting ?? 'balanced');
  const n = d.s.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d.s[i] - d.s[j] || i - j);
  // Initial groups: runs of equal scores.
  const gVal: number[] = [];
  const gW: number[] = [];
  const gCount: number[] = [];
  const gSum: number[] = [];
  for (let k = 0; k < n; ) {
    const s = d.s[order[k]];
    let w = 0;
    let wy = 0;
    let c = 0;
    for (; k < n && d.s[order[k]] === s; k++) {
      const i = order[k];
      w += d.w[i];
      wy += d.w[i] * d.y[i];
      c++;
    }
    gVal.push(wy / w);
    gW.push(w);
    gCount.push(c);
    gSum.push(s * c);
  }
  const blocks = pav(gVal, gW);
  const K = blocks.means.length;
  const knots = new Float64Array(K);
  const counts = new Int32Array(K);
  for (let k = 0, gi = 0; k < K; k++) {
    let sum = 0;
    let c = 0;
    for (let j = 0; j < blocks.sizes[k]; j++, gi++) {
      sum += gSum[gi];
      c += gCount[gi];
    }
    knots[k] = sum / c;
    counts[k] = c;
  }
  const pClip = 1 / (2 * n);
  const logRatios = Float64Array.from(blocks.means, (p) => {
    const q = Math.min(Math.max(p, pClip), 1 - pClip);
    return Math.log(q) - Math.log1p(-q);
  });
  return {
    knots,
    probabilities: blocks.means,
    logRatios,
    counts,
    pClip,
    nReal: d.nReal,
    nFake: d.nFake,
    dropped: d.dropped,
    weighting: options.weighting ?? 'balanced',
  };
}

/**
 * Piecewise-linear interpolation of (knots, values), constant outside [knots_0, knots_{K-1}];
 * NaN gives NaN.
 */
export function interpolate(knots: ArrayLike<number>, values: ArrayLike<number>, s: number): number {
  const K = knots.length;
  // A non-finite score stays non-finite (a +Inf region must not become the most likely one).
  if (!Number.isFinite(s)) return NaN;
  if (s <= knots[0]) return values[0];
  if (s >= knots[K - 1]) return values[K - 1];
  let lo = 0;
  let hi = K - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (knots[mid] <= s) lo = mid;
    else hi = mid;
  }
  const f = (s - knots[lo]) / (knots[hi] - knots[lo]);
  return values[lo] + f * (values[hi] - values[lo]);
}

/** The calibrated log ratio of score s (see the module conventions). */
export function isotonicLogRatio(fit: Pick<IsotonicFit, 'knots' | 'logRatios'>, s: number): number {
  return interpolate(fit.knots, fit.logRatios, s);
}
