/**
 * Discriminator rejection sampling (DRS, Azadi et al. 2019, "Discriminator Rejection Sampling").
 *
 * With an exact log ratio s(x) = log p_data(x)/p_g(x) and a bound M >= sup s, accepting a
 * generator proposal x with probability exp(s(x) - M) is the classic rejection sampler: accepted
 * draws follow p_g(x) exp(s(x)) / Z = p_data(x). DRS estimates M as the largest score seen on a
 * burn-in set of proposals (D*_M) and accepts with
 *
 *   F(x) = s(x) - M - log(1 - exp(s(x) - M - eps)) - gamma,    p(x) = sigmoid(F(x)).
 *
 * Without gamma and eps, sigmoid(s - M - log(1 - exp(s - M))) = exp(s - M) exactly: F is the logit
 * of the exact acceptance probability, eps keeps it finite at s = M, and gamma shifts the logit to
 * trade exactness for acceptance (the paper sets gamma to a percentile of F over the burn-in).
 *
 * The paper raises M whenever a larger score appears; Refinery keeps the burn-in's M for the whole
 * run (a proposal above it is accepted with the probability at M), so that sample i does not depend
 * on the samples drawn before it: runs cut into chunks or shards decide alike.
 *
 * Everything here is pure and works on score arrays; the proposal loop lives in run/selection.ts.
 */
import { fail } from '../../errors.js';

/** Options of discriminator rejection sampling (`drs`, and `dre-rs` with them). */
export interface DrsOptions {
  /**
   * Proposals scored before sampling to estimate M = max s (CLI --burn-in); undefined: the paper's
   * 10,000, but never more than 10 per sample of the run nor less than 1,000 (`autoBurnIn`).
   */
  burnIn?: number;
  /**
   * Exact rejection sampling: accept with probability min(1, exp(s - M)); no eps, no gamma
   * (CLI --exact). Correct when logRatio is exact and M bounds it.
   */
  exact: boolean;
  /** Fixed logit shift gamma (CLI --gamma); overrides gammaPercentile. */
  gamma?: number;
  /** gamma = this percentile (0-100) of F-before-gamma over the burn-in (CLI --gamma-percentile). */
  gammaPercentile: number;
  /** eps in log(1 - exp(s - M - eps)) (CLI --epsilon). */
  epsilon: number;
  /** Cap on proposals drawn after the burn-in, per chunk of a run (CLI --max-proposals); undefined: 100 per sample of the chunk. A safety bound: it stops a run that would not finish, never changes the samples of one that does. */
  maxProposals?: number;
}

/**
 * Defaults: the burn-in from the run's size (`autoBurnIn`); gamma = the 95th percentile of F over
 * the burn-in (the DRS paper's setting for its image experiments; 80 is the milder choice); eps = 1e-6.
 */
export const DRS_DEFAULTS: DrsOptions = { exact: false, gammaPercentile: 95, epsilon: 1e-6 };

/**
 * The default burn-in of a run of `n` samples: 10 proposals per sample, at least 1,000 and at
 * most the paper's 10,000 (so 10,000 from n = 1,000 on; 64 samples cost 1,000 scores, not 10,000).
 */
export function autoBurnIn(n: number): number {
  return Math.min(10000, Math.max(1000, 10 * n));
}

export function validateDrs(o: DrsOptions): void {
  if (o.burnIn !== undefined && (!Number.isInteger(o.burnIn) || o.burnIn < 1))
    fail('invalid_argument', 'burnIn', 'a positive integer (proposals used to estimate max logRatio)', String(o.burnIn));
  if (typeof o.exact !== 'boolean') fail('invalid_argument', 'exact', 'a boolean', String(o.exact));
  if (o.exact && o.gamma !== undefined) fail('invalid_argument', 'gamma', 'no gamma with --exact (exact DRS accepts with exp(s - M))', String(o.gamma));
  if (o.gamma !== undefined && !Number.isFinite(o.gamma)) fail('invalid_argument', 'gamma', 'a finite number', String(o.gamma));
  if (!(o.gammaPercentile >= 0 && o.gammaPercentile <= 100)) fail('invalid_argument', 'gammaPercentile', 'a number in [0, 100]', String(o.gammaPercentile));
  if (!(o.epsilon > 0) || !Number.isFinite(o.epsilon)) fail('invalid_argument', 'epsilon', 'a positive number', String(o.epsilon));
  if (o.maxProposals !== undefined && (!Number.isInteger(o.maxProposals) || o.maxProposals < 1)) {
    fail('invalid_argument', 'maxProposals', 'a positive integer', String(o.maxProposals));
  }
}

/** F before gamma: s - M - log(1 - exp(s - M - eps)), for s <= M (float64). */
export function drsLogit(s: number, M: number, epsilon: number): number {
  return s - M - Math.log1p(-Math.exp(s - M - epsilon));
}

/** What DRS needs to accept: the burn-in max M, gamma (undefined in exact mode) and eps. */
export interface DrsParams {
  M: number;
  gamma: number | undefined;
  epsilon: number;
  exact: boolean;
}

/**
 * Acceptance probability of a proposal with score s (s <= M): exact mode min(1, exp(s - M));
 * otherwise sigmoid(drsLogit(s, M, eps) - gamma). Non-finite s: 0.
 */
export function drsAcceptProbability(s: number, p: DrsParams): number {
  if (!Number.isFinite(s)) return 0;
  if (p.exact) return Math.min(1, Math.exp(s - p.M));
  const f = drsLogit(Math.min(s, p.M), p.M, p.epsilon) - (p.gamma ?? 0);
  return 1 / (1 + Math.exp(-f));
}

/** The q-th percentile (0-100) of `values` with linear interpolation between order statistics (numpy's default). */
export function percentile(values: ArrayLike<number>, q: number): number {
  const v = Float64Array.from(values).sort();
  if (v.length === 0) fail('internal', 'percentile', 'at least one value', 'none');
  const pos = (q / 100) * (v.length - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, v.length - 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

/**
 * Burn-in: M = max of the finite burn-in scores; gamma = options.gamma, or the gammaPercentile-th
 * percentile of drsLogit(s, M, eps) over the finite burn-in scores (undefined in exact mode).
 * Throws invalid_model when no burn-in score is finite.
 */
export function drsCalibrate(burnInScores: ArrayLike<number>, o: DrsOptions): DrsParams & { finite: number } {
  let M = -Infinity;
  let finite = 0;
  for (let i = 0; i < burnInScores.length; i++) {
    const s = burnInScores[i];
    if (Number.isFinite(s)) {
      finite++;
      if (s > M) M = s;
    }
  }
  if (finite === 0) fail('invalid_model', 'discriminator', 'finite logRatio scores on the burn-in proposals', `${burnInScores.length} non-finite scores`);
  let gamma: number | undefined;
  if (!o.exact) {
    if (o.gamma !== undefined) gamma = o.gamma;
    else gamma = percentileGamma(burnInScores, M, o);
  }
  return { M, gamma, epsilon: o.epsilon, exact: o.exact, finite };
}

/**
 * gamma = the gammaPercentile-th percentile of drsLogit(s, M, eps) over the finite burn-in scores,
 * under M. Derived under the M it is used with, it keeps the acceptance rate of typical proposals
 * where the percentile puts it, however far one large score (an unbounded critic far from the
 * data) set M.
 */
export function percentileGamma(burnInScores: ArrayLike<number>, M: number, o: Pick<DrsOptions, 'epsilon' | 'gammaPercentile'>): number {
  const f: number[] = [];
  for (let i = 0; i < burnInScores.length; i++) if (Number.isFinite(burnInScores[i])) f.push(drsLogit(burnInScores[i], M, o.epsilon));
  return percentile(f, o.gammaPercentile);
}
