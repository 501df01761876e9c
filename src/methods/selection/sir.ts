/**
 * Sampling importance resampling (SIR; Rubin 1987) with the discriminator's log ratio as the
 * importance weight: draw a pool x_1..x_N ~ p_g, weight w_j = exp(s(x_j) - max_k s(x_k)) (the
 * self-normalised weights of the target p_g exp(s) = p_data, shifted by the max for overflow),
 * and resample n of them multinomially with replacement, P(pick j) = w_j / sum_k w_k. As N grows
 * the resampled law converges to p_data when s is exact.
 *
 * Reported diagnostics: the pool's effective sample size ESS = (sum w)^2 / sum w^2 (Kong 1992) and
 * the number of distinct pool members selected. Non-finite scores get weight 0 (never selected).
 */
import { fail } from '../../errors.js';
import type { Rng } from '../../rng.js';

export interface SirOptions {
  /** Proposals per output sample: a group of g samples shares a pool of g * poolMultiplier (CLI --pool). */
  poolMultiplier: number;
  /**
   * Output samples that share one pool (CLI --sir-group): rows [jG, (j+1)G) of a run form group j.
   * Groups are fixed by the row index alone, so the samples do not depend on chunks, batches or
   * shards. Larger groups lower the resampling bias of a finite pool (O(1 / (G poolMultiplier))).
   */
  groupSize: number;
  /**
   * Resample with replacement (the classical SIR, CLI --sir-replace, default) or without
   * (--no-sir-replace: each pool member at most once, Gumbel-top-g; see sirSelect).
   */
  replace: boolean;
}

/** Default pool of 10 proposals per output (ESS is then typically several times n for a fair D), in groups of 1000 samples. */
export const SIR_DEFAULTS: SirOptions = { poolMultiplier: 10, groupSize: 1000, replace: true };

export function validateSir(o: SirOptions): void {
  if (!Number.isInteger(o.poolMultiplier) || o.poolMultiplier < 1)
    fail('invalid_argument', 'pool', 'a positive integer (proposals per output sample)', String(o.poolMultiplier));
  if (!Number.isInteger(o.groupSize) || o.groupSize < 1)
    fail('invalid_argument', 'sirGroup', 'a positive integer (output samples sharing one pool)', String(o.groupSize));
  if (typeof o.replace !== 'boolean') fail('invalid_argument', 'sirReplace', 'true or false', String(o.replace));
}

export interface SirWeights {
  /** w_j = exp(s_j - max s), 0 for non-finite s_j (float64). */
  weights: Float64Array;
  /** (sum w)^2 / sum w^2. */
  ess: number;
  nonFinite: number;
  maxScore: number;
}

/** Importance weights of a pool from its scores. Throws invalid_model when no score is finite. */
export function sirWeights(scores: ArrayLike<number>): SirWeights {
  let maxScore = -Infinity;
  let nonFinite = 0;
  for (let j = 0; j < scores.length; j++) {
    if (!Number.isFinite(scores[j])) nonFinite++;
    else if (scores[j] > maxScore) maxScore = scores[j];
  }
  if (maxScore === -Infinity) fail('invalid_model', 'discriminator', 'finite logRatio scores on the SIR pool', `${scores.length} non-finite scores`);
  const weights = new Float64Array(scores.length);
  let sum = 0;
  let sum2 = 0;
  for (let j = 0; j < scores.length; j++) {
    const w = Number.isFinite(scores[j]) ? Math.exp(scores[j] - maxScore) : 0;
    weights[j] = w;
    sum += w;
    sum2 += w * w;
  }
  return { weights, ess: (sum * sum) / sum2, nonFinite, maxScore };
}

/**
 * n multinomial draws of indices with P(j) proportional to weights[j] (with replacement): draw
 * u ~ U[0, sum w) and take the first j whose cumulative weight exceeds u (binary search), in
 * draw order. Zero-weight entries are never chosen.
 */
export function multinomialResample(weights: Float64Array, n: number, rng: Rng): Int32Array {
  const cum = new Float64Array(weights.length);
  let acc = 0;
  for (let j = 0; j < weights.length; j++) cum[j] = acc += weights[j];
  if (!(acc > 0)) fail('internal', 'multinomialResample', 'a positive total weight', String(acc));
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform() * acc;
    let lo = 0;
    let hi = weights.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cum[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    // Guard against landing on a zero-weight entry through rounding at the top end.
    while (lo > 0 && weights[lo] === 0) lo--;
    out[i] = lo;
  }
  return out;
}

export interface SirSelection {
  /** Indices into the pool, [n]. */
  indices: Int32Array;
  ess: number;
  /** Distinct pool entries among the indices. */
  unique: number;
  nonFinite: number;
}

/**
 * n draws without replacement with P(j) proportional to weights[j] among the members not yet
 * drawn, by the Gumbel-top-k trick: key_j = log w_j + G_j with G_j = -log(-log u_j) standard
 * Gumbel, u_j from `rng` in pool order; the n largest keys, in decreasing order, are such a
 * sequence of draws. Zero-weight entries are never chosen; fewer than n positive weights fail.
 */
export function weightedWithoutReplacement(weights: Float64Array, n: number, rng: Rng): Int32Array {
  const keys = new Float64Array(weights.length);
  let positive = 0;
  for (let j = 0; j < weights.length; j++) {
    // uniform() is a multiple of 2^-53 in [0, 1): half a step more keeps u in (0, 1), both logs finite.
    const gumbel = -Math.log(-Math.log(rng.uniform() + 2 ** -54));
    keys[j] = weights[j] > 0 ? Math.log(weights[j]) + gumbel : -Infinity;
    if (weights[j] > 0) positive++;
  }
  if (positive < n)
    fail('invalid_model', 'discriminator', `at least ${n} finite logRatio scores in the SIR pool (resampling without replacement)`, String(positive));
  const order = Int32Array.from({ length: weights.length }, (_, j) => j);
  order.sort((a, b) => keys[b] - keys[a] || a - b);
  return order.slice(0, n);
}

/**
 * Weights from the pool's scores, then n draws: multinomial with replacement (see sirWeights,
 * multinomialResample), or without (weightedWithoutReplacement) when `replace` is false.
 */
export function sirSelect(scores: ArrayLike<number>, n: number, rng: Rng, replace = true): SirSelection {
  const w = sirWeights(scores);
  const indices = replace ? multinomialResample(w.weights, n, rng) : weightedWithoutReplacement(w.weights, n, rng);
  const seen = new Uint8Array(scores.length);
  let unique = 0;
  for (const j of indices) {
    if (!seen[j]) {
      seen[j] = 1;
      unique++;
    }
  }
  return { indices, ess: w.ess, unique, nonFinite: w.nonFinite };
}
