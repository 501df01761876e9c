/**
 * Precision and recall for distributions (PRD) of Sajjadi et al. 2018, "Assessing generative
 * models via precision and recall", on histograms over k-means clusters of the pooled samples.
 *
 * Inputs follow the `Samples` convention of linalg.ts: P = real (reference), Q = fake (model).
 */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import { checkPair, asSamples, type SampleInput } from './linalg.js';

/** Stream label of the clustering runs: Rng(seed, PRD_STREAM, run). */
export const PRD_STREAM = 0x505244;

/** A precision-recall curve sampled at ascending slopes λ_i (arrays of equal length, values in [0, 1]). */
export interface PrdCurve {
  /** α(λ_i), ascending λ */
  precision: Float64Array;
  /** β(λ_i) = α(λ_i)/λ_i */
  recall: Float64Array;
  /** the slopes λ_i = tan(θ_i) */
  lambdas: Float64Array;
}

/** The PRD curve of `prd`, averaged over clustering runs, with its F_8 and F_1/8 summaries. */
export interface PrdResult extends PrdCurve {
  /** max_i F_8(α_i, β_i): recall-weighted summary (β = 8) */
  f8: number;
  /** max_i F_1/8(α_i, β_i): precision-weighted summary */
  f1over8: number;
  /** k-means clusters per run */
  numClusters: number;
  /** clusterings whose curves were averaged */
  numRuns: number;
}

/** Options of `prd`; all optional. */
export interface PrdOptions {
  /** k-means clusters (default 20) */
  numClusters?: number;
  /** points of the curve (default 1001) */
  numAngles?: number;
  /** independent clusterings whose curves are averaged (default 10) */
  numRuns?: number;
  /** Lloyd iterations per clustering at most (default 100) */
  maxIterations?: number;
  /** seed word (default 0) */
  seed?: number;
}

/**
 * The slopes of a PRD curve: λ_i = tan(θ_i) with θ_i equally spaced on [ε, π/2 - ε], ε = 1e-10,
 * i = 0..numAngles-1 (as in the reference implementation). numAngles ≥ 2.
 */
export function prdLambdas(numAngles: number): Float64Array {
  if (!Number.isSafeInteger(numAngles) || numAngles < 2) fail('invalid_argument', 'numAngles', 'an integer >= 2', describe(numAngles));
  const eps = 1e-10;
  const lo = eps;
  const hi = Math.PI / 2 - eps;
  const out = new Float64Array(numAngles);
  for (let i = 0; i < numAngles; i++) out[i] = Math.tan(lo + ((hi - lo) * i) / (numAngles - 1));
  return out;
}

/**
 * PRD curve of two distributions on the same finite set Ω (Sajjadi et al. 2018):
 *
 *   α(λ) = Σ_ω min(λ P(ω), Q(ω))   (precision),   β(λ) = α(λ)/λ = Σ_ω min(P(ω), Q(ω)/λ)   (recall)
 *
 * with P = `p` (reference / real), Q = `q` (model / fake), each normalised here to sum to 1
 * (non-negative weights, positive total). Values are clipped to [0, 1].
 */
export function prdFromHistograms(p: ArrayLike<number>, q: ArrayLike<number>, lambdas: Float64Array): PrdCurve {
  const pn = normalise(p, 'p');
  const qn = normalise(q, 'q');
  if (pn.length !== qn.length) fail('shape_mismatch', 'q', `${pn.length} bins`, `${qn.length} bins`);
  const precision = new Float64Array(lambdas.length);
  const recall = new Float64Array(lambdas.length);
  for (let i = 0; i < lambdas.length; i++) {
    const l = lambdas[i];
    let a = 0;
    for (let w = 0; w < pn.length; w++) a += Math.min(l * pn[w], qn[w]);
    precision[i] = clip01(a);
    recall[i] = clip01(a / l);
  }
  return { precision, recall, lambdas };
}

function normalise(h: ArrayLike<number>, name: string): Float64Array {
  let s = 0;
  for (let i = 0; i < h.length; i++) {
    if (!(h[i] >= 0) || !Number.isFinite(h[i])) fail('invalid_argument', name, 'non-negative finite weights', `${h[i]} at ${i}`);
    s += h[i];
  }
  if (!(s > 0)) fail('invalid_argument', name, 'weights with a positive sum', String(s));
  const out = new Float64Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = h[i] / s;
  return out;
}

function clip01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/**
 * F_β of a precision α and recall β̂ (van Rijsbergen; Sajjadi et al. 2018, Sec. 4):
 * F_β = (1 + β²) α β̂ / (β² α + β̂), and 0 when α = β̂ = 0. With β = 8, recall counts 8 times
 * more than precision; F_1/8 is the precision-weighted twin. Returns max_i F_β(precision_i, recall_i).
 */
export function maxFBeta(precision: ArrayLike<number>, recall: ArrayLike<number>, beta: number): number {
  if (!(beta > 0) || !Number.isFinite(beta)) fail('invalid_argument', 'beta', 'a positive finite number', describe(beta));
  const b2 = beta * beta;
  let best = 0;
  for (let i = 0; i < precision.length; i++) {
    const p = precision[i];
    const r = recall[i];
    const den = b2 * p + r;
    const f = den > 0 ? ((1 + b2) * p * r) / den : 0;
    if (f > best) best = f;
  }
  return best;
}

export interface KMeansResult {
  /** cluster of each row */
  labels: Int32Array;
  /** k x d centres */
  centres: Float64Array;
  /** Σ_i |x_i - c_labels[i]|² */
  inertia: number;
  iterations: number;
}

/**
 * k-means (Lloyd's algorithm, full batch) of n x d rows with k-means++ seeding (Arthur &
 * Vassilvitskii 2007) from `rng`. Iterates assignment (nearest centre, smallest index on ties) and
 * update (centre = mean of its rows) until no label changes or `maxIterations`. A cluster left
 * empty is re-seeded at the row farthest from its centre (smallest index on ties). Needs
 * 1 ≤ k ≤ n.
 */
export function kMeans(x: Float64Array, n: number, d: number, k: number, rng: Rng, maxIterations = 100): KMeansResult {
  if (!Number.isSafeInteger(k) || k < 1 || k > n) fail('invalid_argument', 'numClusters', `an integer in [1, ${n}]`, describe(k));
  const centres = new Float64Array(k * d);
  // k-means++ seeding
  const d2 = new Float64Array(n).fill(Infinity);
  let c = rng.int(n);
  for (let m = 0; m < k; m++) {
    centres.set(x.subarray(c * d, c * d + d), m * d);
    if (m === k - 1) break;
    let total = 0;
    for (let i = 0; i < n; i++) {
      const s = sq(x, i * d, centres, m * d, d);
      if (s < d2[i]) d2[i] = s;
      total += d2[i];
    }
    if (total > 0) {
      let u = rng.uniform() * total;
      c = n - 1;
      for (let i = 0; i < n; i++) {
        u -= d2[i];
        if (u < 0 && d2[i] > 0) {
          c = i;
          break;
        }
      }
      while (d2[c] === 0 && c > 0) c--; // guard against rounding at the end of the scan
    } else {
      c = rng.int(n); // all rows coincide with the centres already chosen
    }
  }
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const counts = new Int32Array(k);
  let iterations = 0;
  let inertia = 0;
  for (;;) {
    let changed = 0;
    inertia = 0;
    for (let i = 0; i < n; i++) {
      let best = Infinity;
      let arg = 0;
      for (let m = 0; m < k; m++) {
        const s = sq(x, i * d, centres, m * d, d);
        if (s < best) {
          best = s;
          arg = m;
        }
      }
      if (labels[i] !== arg) changed++;
      labels[i] = arg;
      dist[i] = best;
      inertia += best;
    }
    if (changed === 0 || iterations >= maxIterations) break;
    iterations++;
    centres.fill(0);
    counts.fill(0);
    for (let i = 0; i < n; i++) {
      const m = labels[i];
      counts[m]++;
      for (let l = 0; l < d; l++) centres[m * d + l] += x[i * d + l];
    }
    for (let m = 0; m < k; m++) {
      if (counts[m] > 0) {
        for (let l = 0; l < d; l++) centres[m * d + l] /= counts[m];
      } else {
        let far = 0;
        for (let i = 1; i < n; i++) if (dist[i] > dist[far]) far = i;
        centres.set(x.subarray(far * d, far * d + d), m * d);
        dist[far] = 0;
      }
    }
  }
  return { labels, centres, inertia, iterations };
}

function sq(a: Float64Array, ao: number, b: Float64Array, bo: number, d: number): number {
  let s = 0;
  for (let l = 0; l < d; l++) {
    const t = a[ao + l] - b[bo + l];
    s += t * t;
  }
  return s;
}

/**
 * PRD curve of fake (Q) against real (P) (Sajjadi et al. 2018, Sec. 4 / their reference code):
 * for each of `numRuns` runs, k-means with `numClusters` clusters of the pooled rows real ∪ fake
 * (seeded with Rng(seed, PRD_STREAM, run)), P and Q = normalised cluster histograms of real and
 * fake, and the curve α(λ) = Σ min(λ P, Q), β(λ) = α(λ)/λ (`prdFromHistograms`) at λ =
 * `prdLambdas(numAngles)`; the curves are averaged over runs. Summaries: f8 = max F_8 (recall
 * weighted) and f1over8 = max F_1/8 (precision weighted) over the averaged curve.
 *
 * Identical distributions give α = min(λ, 1), β = min(1, 1/λ) (the point (1, 1) at λ = 1);
 * samples that share no cluster give α = β = 0.
 *
 * Differences from the reference code: full-batch Lloyd with one k-means++ start per run instead
 * of mini-batch k-means with 10 restarts. The reference asks for equally many real and fake rows
 * (the clusters are fitted to the pool, so an unbalanced pool favours the larger set); this is
 * recommended, not enforced.
 *
 * Errors: RefineryError naming 'real' / 'fake', 'numClusters' (integer in [1, N + M]),
 * 'numAngles' (≥ 2), 'numRuns', 'maxIterations' (≥ 1), 'seed'.
 */
export function prd(realInput: SampleInput, fakeInput: SampleInput, options: PrdOptions = {}): PrdResult {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const numClusters = int(options.numClusters, 20, 'numClusters', 1);
  const numAngles = int(options.numAngles, 1001, 'numAngles', 2);
  const numRuns = int(options.numRuns, 10, 'numRuns', 1);
  const maxIterations = int(options.maxIterations, 100, 'maxIterations', 1);
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail('invalid_argument', 'seed', 'an integer', describe(options.seed));
  checkPair(real, fake, 1, 1);
  const d = real.d;
  const n = real.n + fake.n;
  if (numClusters > n) fail('invalid_argument', 'numClusters', `an integer in [1, ${n}] (at most the number of pooled rows)`, String(numClusters));
  const pooled = new Float64Array(n * d);
  pooled.set(real.data, 0);
  pooled.set(fake.data, real.n * d);
  const lambdas = prdLambdas(numAngles);
  const precision = new Float64Array(numAngles);
  const recall = new Float64Array(numAngles);
  const p = new Float64Array(numClusters);
  const q = new Float64Array(numClusters);
  for (let run = 0; run < numRuns; run++) {
    const { labels } = kMeans(pooled, n, d, numClusters, new Rng(seed, PRD_STREAM, run), maxIterations);
    p.fill(0);
    q.fill(0);
    for (let i = 0; i < real.n; i++) p[labels[i]]++;
    for (let i = real.n; i < n; i++) q[labels[i]]++;
    const curve = prdFromHistograms(p, q, lambdas);
    for (let i = 0; i < numAngles; i++) {
      precision[i] += curve.precision[i] / numRuns;
      recall[i] += curve.recall[i] / numRuns;
    }
  }
  for (let i = 0; i < numAngles; i++) {
    precision[i] = clip01(precision[i]);
    recall[i] = clip01(recall[i]);
  }
  return {
    precision,
    recall,
    lambdas,
    f8: maxFBeta(precision, recall, 8),
    f1over8: maxFBeta(precision, recall, 1 / 8),
    numClusters,
    numRuns,
  };
}

function int(v: unknown, dflt: number, name: string, min: number): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || (x as number) < min) fail('invalid_argument', name, `an integer >= ${min}`, describe(v));
  return x as number;
}
