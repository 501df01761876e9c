/**
 * Precision and recall for distributions (PRD) of Sajjadi et al. 2018, "Assessing generative
 * models via precision and recall", on histograms over k-means clusters of the pooled samples.
 *
 * Inputs follow the `Samples` convention of linalg.ts: P = real (reference), Q = fake (model).
 */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import { batchStep, forEachDist2Block, lowHalves, squaredRowNorms } from './gram.js';
import { checkPair, asSamples, type SampleInput } from './linalg.js';

/** Multiply-adds from which a k-means++ seeding step's distances are one onnxruntime product. */
const SEEDING_GEMM = 1e5;

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
  /** k-means++ starts per clustering (default 10, as the reference code) */
  numInit?: number;
  /** Passes (mini-batch) or iterations (Lloyd) per clustering at most (default 100) */
  maxIterations?: number;
  /**
   * 'minibatch' (default): scikit-learn's MiniBatchKMeans, as the reference code; 'lloyd':
   * full-batch Lloyd from each start, the clustering of least inertia kept (slower, lower inertia).
   */
  clustering?: 'minibatch' | 'lloyd';
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
 * k-means++ seeding (Arthur & Vassilvitskii 2007): k rows of x (n x d) drawn with `rng`, as k x d
 * centres (`kMeansPlusPlusSeedings` with one stream).
 */
export async function kMeansPlusPlus(x: Float64Array, n: number, d: number, k: number, rng: Rng): Promise<Float64Array> {
  return (await kMeansPlusPlusSeedings(x, n, d, k, [rng]))[0];
}

/**
 * Independent k-means++ seedings of x (n x d), one per stream of `rngs`, each as k x d centres: the
 * same centres as `kMeansPlusPlus` with that stream alone. They advance together, so the distances
 * from every row to the seedings' new centres are one product per step (gram.ts, from 10⁵
 * multiply-adds on) rather than one per seeding and step.
 */
export async function kMeansPlusPlusSeedings(x: Float64Array, n: number, d: number, k: number, rngs: Rng[]): Promise<Float64Array[]> {
  const s = rngs.length;
  const centres = rngs.map(() => new Float64Array(k * d));
  const d2 = rngs.map(() => new Float64Array(n).fill(Infinity));
  const chosen = rngs.map((rng) => rng.int(n));
  const fresh = new Float64Array(s * d);
  for (let m = 0; m < k; m++) {
    for (let j = 0; j < s; j++) {
      const row = x.subarray(chosen[j] * d, chosen[j] * d + d);
      centres[j].set(row, m * d);
      fresh.set(row, j * d);
    }
    if (m === k - 1) break;
    await forEachDist2Block(
      x,
      n,
      fresh,
      s,
      d,
      (i0, rows, block) => {
        for (let b = 0; b < rows; b++) {
          for (let j = 0; j < s; j++) if (block[b * s + j] < d2[j][i0 + b]) d2[j][i0 + b] = block[b * s + j];
        }
      },
      SEEDING_GEMM,
    );
    for (let j = 0; j < s; j++) chosen[j] = nextSeed(d2[j], rngs[j]);
  }
  return centres;
}

/** The next k-means++ centre: a row drawn with probability proportional to its squared distance `d2` to the centres so far. */
function nextSeed(d2: Float64Array, rng: Rng): number {
  const n = d2.length;
  let total = 0;
  for (let i = 0; i < n; i++) total += d2[i];
  if (!(total > 0)) return rng.int(n); // all rows coincide with the centres already chosen
  let u = rng.uniform() * total;
  let c = n - 1;
  for (let i = 0; i < n; i++) {
    u -= d2[i];
    if (u < 0 && d2[i] > 0) {
      c = i;
      break;
    }
  }
  while (d2[c] === 0 && c > 0) c--; // guard against rounding at the end of the scan
  return c;
}

/** Options of `miniBatchKMeans`. */
export interface MiniBatchOptions {
  /** k-means++ seedings tried on a subsample, the one of least inertia there kept (default 10). */
  numInit?: number;
  /** Rows per mini-batch (default 1024). */
  batchSize?: number;
  /** Passes over the data at most (default 100). */
  maxIterations?: number;
  /** Stop after this many batches without improvement of the smoothed batch inertia (default 10). */
  maxNoImprovement?: number;
}

/**
 * Mini-batch k-means (Sculley 2010), as scikit-learn's MiniBatchKMeans that the PRD reference code
 * calls: `numInit` k-means++ seedings on a random subsample of 3 x batchSize rows, the one of least
 * inertia on that subsample kept; then batches of `batchSize` rows drawn with replacement, each
 * assigned to its nearest centre and each centre moved to the running mean of the rows it has
 * received (per-centre learning rate 1/count); stop when the exponentially weighted batch inertia
 * has not improved for `maxNoImprovement` batches or after `maxIterations` passes. Labels and
 * inertia are then those of a full assignment. (scikit-learn also re-seeds clusters that receive
 * almost no rows; this does not.)
 */
export async function miniBatchKMeans(x: Float64Array, n: number, d: number, k: number, rng: Rng, options: MiniBatchOptions = {}): Promise<KMeansResult> {
  if (!Number.isSafeInteger(k) || k < 1 || k > n) fail('invalid_argument', 'numClusters', `an integer in [1, ${n}]`, describe(k));
  const numInit = options.numInit ?? 10;
  const batch = Math.min(options.batchSize ?? 1024, n);
  const maxNoImprovement = options.maxNoImprovement ?? 10;
  const maxSteps = Math.ceil(((options.maxIterations ?? 100) * n) / batch);
  const initSize = Math.min(n, Math.max(3 * batch, k));
  // Seedings on one subsample, judged by their inertia on it.
  const subIdx = n === initSize ? Int32Array.from({ length: n }, (_, i) => i) : rng.permutation(n).subarray(0, initSize);
  const sub = new Float64Array(initSize * d);
  subIdx.forEach((r, i) => {
    sub.set(x.subarray(r * d, (r + 1) * d), i * d);
  });
  const seedings = await kMeansPlusPlusSeedings(
    sub,
    initSize,
    d,
    k,
    Array.from({ length: numInit }, (_, i) => rng.fork(1, i)),
  );
  // Their inertias on the subsample, from one product with all their centres.
  const all = new Float64Array(numInit * k * d);
  seedings.forEach((c, i) => {
    all.set(c, i * k * d);
  });
  const inertias = new Float64Array(numInit);
  await forEachDist2Block(sub, initSize, all, numInit * k, d, (_, rows, block) => {
    for (let r = 0; r < rows; r++) {
      for (let i = 0; i < numInit; i++) {
        const at = r * numInit + i;
        inertias[i] += block[at * k + nearest(block, at, k)];
      }
    }
  });
  let best = 0;
  for (let i = 1; i < numInit; i++) if (inertias[i] < inertias[best]) best = i;
  const centres = seedings[best];
  const counts = new Float64Array(k);
  const stepRng = rng.fork(2);
  const alpha = Math.min(1, (2 * batch) / (n + 1));
  let ewa = Number.NaN;
  let ewaBest = Infinity;
  let noImprovement = 0;
  let steps = 0;
  const indices = new BigInt64Array(batch);
  const indexHalves = lowHalves(indices);
  const rowNorms = squaredRowNorms(x, n, d);
  for (; steps < maxSteps; steps++) {
    for (let b = 0; b < batch; b++) indexHalves[2 * b] = stepRng.int(n); // the high halves stay 0
    // The batch's rows, their nearest centres and each centre's sum and count, in onnxruntime.
    const { sums, counts: got, inertia } = await batchStep(x, rowNorms, n, d, indices, centres, k);
    for (let m = 0; m < k; m++) {
      if (got[m] === 0) continue;
      const total = counts[m] + got[m];
      for (let l = 0; l < d; l++) centres[m * d + l] = (centres[m * d + l] * counts[m] + sums[m * d + l]) / total;
      counts[m] = total;
    }
    const perRow = inertia / batch;
    ewa = Number.isNaN(ewa) ? perRow : ewa * (1 - alpha) + perRow * alpha;
    if (ewa < ewaBest) {
      ewaBest = ewa;
      noImprovement = 0;
    } else if (++noImprovement >= maxNoImprovement) {
      steps++;
      break;
    }
  }
  const labels = new Int32Array(n);
  let inertia = 0;
  await forEachDist2Block(x, n, centres, k, d, (i0, rows, block) => {
    for (let b = 0; b < rows; b++) {
      const arg = nearest(block, b, k);
      labels[i0 + b] = arg;
      inertia += block[b * k + arg];
    }
  });
  return { labels, centres, inertia, iterations: steps };
}

/** The column of the smallest entry of row `r` of a rows x k block of squared distances (the first on ties). */
function nearest(block: Float64Array, r: number, k: number): number {
  let d2 = Infinity;
  let arg = 0;
  for (let m = 0; m < k; m++) {
    const s = block[r * k + m];
    if (s < d2) {
      d2 = s;
      arg = m;
    }
  }
  return arg;
}

/**
 * k-means (Lloyd's algorithm, full batch) of n x d rows with k-means++ seeding (Arthur &
 * Vassilvitskii 2007) from `rng`. Iterates assignment (nearest centre, smallest index on ties) and
 * update (centre = mean of its rows) until no label changes, the centres move less than `tol`
 * (relative, as scikit-learn's KMeans) or `maxIterations`. A cluster left
 * empty is re-seeded at the row farthest from its centre (smallest index on ties). Needs
 * 1 ≤ k ≤ n. Distances to the centres come from gram.ts (onnxruntime's GEMM on large inputs).
 */
export async function kMeans(x: Float64Array, n: number, d: number, k: number, rng: Rng, maxIterations = 100, tol = 1e-4): Promise<KMeansResult> {
  if (!Number.isSafeInteger(k) || k < 1 || k > n) fail('invalid_argument', 'numClusters', `an integer in [1, ${n}]`, describe(k));
  const centres = await kMeansPlusPlus(x, n, d, k, rng);
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const counts = new Int32Array(k);
  // Converged when the centres move by at most `tol` x the mean per-feature variance (squared,
  // summed over centres): scikit-learn's KMeans rule (tol = 1e-4).
  const tolerance = tol * meanVariance(x, n, d);
  const previous = new Float64Array(k * d);
  let shift = Infinity;
  let iterations = 0;
  let inertia = 0;
  for (;;) {
    let changed = 0;
    inertia = 0;
    await forEachDist2Block(x, n, centres, k, d, (i0, rows, block) => {
      for (let b = 0; b < rows; b++) {
        const i = i0 + b;
        const arg = nearest(block, b, k);
        const best = block[b * k + arg];
        if (labels[i] !== arg) changed++;
        labels[i] = arg;
        dist[i] = best;
        inertia += best;
      }
    });
    if (changed === 0 || iterations >= maxIterations || shift <= tolerance) break;
    iterations++;
    previous.set(centres);
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
    shift = 0;
    for (let j = 0; j < k * d; j++) shift += (centres[j] - previous[j]) ** 2;
  }
  return { labels, centres, inertia, iterations };
}

/**
 * The best of `numInit` k-means runs (lowest inertia; the first on ties), run i seeded with
 * rng.fork(i): the restarts of the PRD reference code.
 */
export async function kMeansRestarts(x: Float64Array, n: number, d: number, k: number, rng: Rng, numInit: number, maxIterations = 100): Promise<KMeansResult> {
  let best: KMeansResult | undefined;
  for (let i = 0; i < numInit; i++) {
    const r = await kMeans(x, n, d, k, rng.fork(i), maxIterations);
    if (best === undefined || r.inertia < best.inertia) best = r;
  }
  return best!;
}

/** Mean over features of the per-feature variance of n x d rows. */
function meanVariance(x: Float64Array, n: number, d: number): number {
  let total = 0;
  for (let l = 0; l < d; l++) {
    let m = 0;
    for (let i = 0; i < n; i++) m += x[i * d + l];
    m /= n;
    let v = 0;
    for (let i = 0; i < n; i++) v += (x[i * d + l] - m) ** 2;
    total += v / n;
  }
  return total / d;
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
 * Clustering: per run, scikit-learn's mini-batch k-means with 10 k-means++ seedings, as the
 * reference code (`miniBatchKMeans`); `clustering: 'lloyd'` runs full-batch Lloyd from each of
 * the `numInit` starts instead and keeps the clustering of least inertia. The reference asks for equally many real and fake rows
 * (the clusters are fitted to the pool, so an unbalanced pool favours the larger set); this is
 * recommended, not enforced.
 *
 * Errors: RefineryError naming 'real' / 'fake', 'numClusters' (integer in [1, N + M]),
 * 'numAngles' (≥ 2), 'numRuns', 'maxIterations' (≥ 1), 'seed'.
 */
export async function prd(realInput: SampleInput, fakeInput: SampleInput, options: PrdOptions = {}): Promise<PrdResult> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const numClusters = int(options.numClusters, 20, 'numClusters', 1);
  const numAngles = int(options.numAngles, 1001, 'numAngles', 2);
  const numRuns = int(options.numRuns, 10, 'numRuns', 1);
  const maxIterations = int(options.maxIterations, 100, 'maxIterations', 1);
  const numInit = int(options.numInit, 10, 'numInit', 1);
  const clustering = options.clustering ?? 'minibatch';
  if (clustering !== 'minibatch' && clustering !== 'lloyd') fail('invalid_argument', 'clustering', 'minibatch or lloyd', describe(options.clustering));
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
    const rng = new Rng(seed, PRD_STREAM, run);
    const { labels } =
      clustering === 'lloyd'
        ? await kMeansRestarts(pooled, n, d, numClusters, rng, numInit, maxIterations)
        : await miniBatchKMeans(pooled, n, d, numClusters, rng, { numInit, maxIterations });
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
