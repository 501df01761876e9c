/**
 * Kernel two-sample statistics: KID (Bińkowski et al. 2018, "Demystifying MMD GANs") and the
 * unbiased MMD² with a Gaussian RBF kernel (Gretton et al. 2012, "A kernel two-sample test").
 *
 * Inputs follow the `Samples` convention of linalg.ts. All arithmetic in float64.
 *
 * Unbiased estimator of MMD²(P, Q) = E k(x,x') + E k(y,y') - 2 E k(x,y) from X_1..X_m ~ P and
 * Y_1..Y_n ~ Q (Gretton et al. 2012, Lemma 6):
 *
 *   MMD²_u = 1/(m(m-1)) Σ_{i≠i'} k(X_i, X_i') + 1/(n(n-1)) Σ_{j≠j'} k(Y_j, Y_j') - 2/(mn) Σ_{i,j} k(X_i, Y_j).
 *
 * Its expectation is exactly MMD²(P, Q) (0 when P = Q); it can be negative.
 */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import { cubicKernelSums, rbfKernelSum } from './gram.js';
import { dist2 } from './knn.js';
import { asFloat64, checkPair, asSamples, type SampleInput, type Samples } from './linalg.js';

/** Stream label of the KID subset draws: Rng(seed, KID_STREAM, subset). */
export const KID_STREAM = 0x4b4944;
/** Stream label of the median-heuristic subsample: Rng(seed, MMD_STREAM). */
export const MMD_STREAM = 0x4d4d44;

/** Options of `kid`; all optional. */
export interface KidOptions {
  /** number of random subset pairs (default 100) */
  numSubsets?: number;
  /** rows drawn without replacement from each set per subset (default 1000, capped at min(N, M)) */
  subsetSize?: number;
  /** seed word of the subset draws (default 0) */
  seed?: number;
}

/** Kernel Inception Distance (`kid`): mean and spread of the unbiased MMD² over random subset pairs. */
export interface KidResult {
  /** mean of the per-subset unbiased MMD² estimates */
  mean: number;
  /** standard deviation (divisor numSubsets, as in the reference implementation) of the per-subset estimates */
  std: number;
  /** the per-subset estimates */
  values: Float64Array;
  /** rows per set in each subset: the requested size capped at min(N, M) */
  subsetSize: number;
  /** number of subset pairs averaged */
  numSubsets: number;
}

/** Options of `mmd`; all optional. */
export interface MmdOptions {
  /** RBF bandwidth σ > 0 of k(x, y) = exp(-|x - y|² / (2σ²)); default: median heuristic */
  bandwidth?: number;
  /** the median heuristic uses at most this many pooled rows (seeded subsample; default 1000) */
  maxMedianPoints?: number;
  /** seed word of the median-heuristic subsample (default 0) */
  seed?: number;
}

/** Unbiased MMD² with a Gaussian RBF kernel (`mmd`), and the bandwidth it used. */
export interface MmdResult {
  /** unbiased MMD² estimate over all rows */
  mmd2: number;
  /** σ used */
  bandwidth: number;
}

function checkPositiveInt(v: unknown, dflt: number, name: string, min = 1): number {
  const x = v ?? dflt;
  if (!Number.isSafeInteger(x) || (x as number) < min) fail('invalid_argument', name, `an integer >= ${min}`, describe(v));
  return x as number;
}

function checkSeed(v: unknown): number {
  const s = v ?? 0;
  if (!Number.isSafeInteger(s)) fail('invalid_argument', 'seed', 'an integer', describe(v));
  return s as number;
}

/**
 * Rows `idx` of x (n x d) gathered into a new m x d Float64Array.
 */
function gather(x: Float64Array, d: number, idx: Int32Array): Float64Array {
  const out = new Float64Array(idx.length * d);
  for (let r = 0; r < idx.length; r++) out.set(x.subarray(idx[r] * d, idx[r] * d + d), r * d);
  return out;
}

/** First m entries of a uniformly random permutation of 0..n-1 (partial Fisher–Yates). */
function sampleWithoutReplacement(n: number, m: number, rng: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p.slice(0, m);
}

/**
 * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased MMD²_u (file comment) with the
 * cubic polynomial kernel k(x, y) = (x·y/d + 1)³, averaged over `numSubsets` random subset pairs:
 * subset s draws `subsetSize` rows without replacement from real and from fake with
 * Rng(seed, KID_STREAM, s). Returns the mean and the standard deviation (divisor numSubsets) of the
 * per-subset values; the mean is an unbiased estimate of MMD²(P, Q), ≈ 0 (within a few std) when
 * both samples come from one law.
 *
 * subsetSize defaults to 1000 and is capped at min(N, M) (then every subset is a permutation of the
 * whole smaller set). Needs N, M ≥ 2. Cost O(numSubsets · subsetSize² · d).
 *
 * Errors: RefineryError naming 'real' / 'fake' (shape, non-finite, fewer than 2 rows),
 * 'numSubsets', 'subsetSize' (integer ≥ 2), 'seed'.
 */
export async function kid(realInput: SampleInput, fakeInput: SampleInput, options: KidOptions = {}): Promise<KidResult> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const numSubsets = checkPositiveInt(options.numSubsets, 100, 'numSubsets');
  const requested = checkPositiveInt(options.subsetSize, 1000, 'subsetSize', 2);
  const seed = checkSeed(options.seed);
  checkPair(real, fake, 2, 2);
  const d = real.d;
  const x = asFloat64(real);
  const y = asFloat64(fake);
  const m = Math.min(requested, real.n, fake.n);
  const values = new Float64Array(numSubsets);
  for (let s = 0; s < numSubsets; s++) {
    const rng = new Rng(seed, KID_STREAM, s);
    const xs = gather(x, d, sampleWithoutReplacement(real.n, m, rng));
    const ys = gather(y, d, sampleWithoutReplacement(fake.n, m, rng));
    const k = await cubicKernelSums(xs, ys, m, m, d);
    values[s] = (k.xx - k.xxDiag) / (m * (m - 1)) + (k.yy - k.yyDiag) / (m * (m - 1)) - (2 * k.xy) / (m * m);
    if (!Number.isFinite(values[s])) {
      // The cubic kernel is not scale-free, so it cannot be rescaled away: say which set is too large.
      const [name, which, sum] = !Number.isFinite(k.xx) ? ['real', 'its', k.xx] : !Number.isFinite(k.yy) ? ['fake', 'its', k.yy] : ['fake', 'its cross', k.xy];
      fail(
        'invalid_argument',
        name,
        'features whose cubic kernel (x·y/d + 1)³ sums are finite in float64 (|x·y|/d up to about 1e100)',
        `${which} kernel sum ${sum}`,
      );
    }
  }
  let mu = 0;
  for (const v of values) mu += v;
  mu /= numSubsets;
  let ss = 0;
  for (const v of values) ss += (v - mu) * (v - mu);
  return { mean: mu, std: Math.sqrt(ss / numSubsets), values, subsetSize: m, numSubsets };
}

/**
 * Median heuristic bandwidth: σ = median of the pairwise distances |z_a - z_b| (a < b) of the
 * pooled rows Z = real ∪ fake (the lower median for an even count of pairs), over all pooled rows
 * when there are at most `maxPoints` of them, otherwise over `maxPoints` rows drawn without
 * replacement with Rng(seed, MMD_STREAM).
 */
export function medianBandwidth(real: Samples, fake: Samples, maxPoints = 1000, seed = 0): number {
  checkPair(real, fake, 1, 1);
  const d = real.d;
  const total = real.n + fake.n;
  const pooled = new Float64Array(total * d);
  pooled.set(real.data, 0);
  pooled.set(fake.data, real.n * d);
  let z: Float64Array = pooled;
  let nz = total;
  if (total > maxPoints) {
    z = gather(pooled, d, sampleWithoutReplacement(total, maxPoints, new Rng(seed, MMD_STREAM)));
    nz = maxPoints;
  }
  const dists = new Float64Array((nz * (nz - 1)) / 2);
  let p = 0;
  for (let a = 0; a < nz; a++) {
    for (let b = a + 1; b < nz; b++) dists[p++] = dist2(z, a, z, b, d);
  }
  dists.sort();
  return Math.sqrt(dists[(dists.length - 1) >> 1]);
}

/**
 * Unbiased MMD²_u (file comment) over all rows of real (m = N) and fake (n = M) with the Gaussian
 * RBF kernel k(x, y) = exp(-|x - y|² / (2σ²)); σ = `bandwidth`, or the median heuristic
 * (`medianBandwidth`) by default. Needs N, M ≥ 2. Cost O((N + M)² d).
 *
 * Errors: RefineryError naming 'real' / 'fake', 'bandwidth' (not a positive finite number, or a
 * median heuristic of 0 because most pooled rows coincide), 'maxMedianPoints' (integer ≥ 2), 'seed'.
 */
export async function mmd(realInput: SampleInput, fakeInput: SampleInput, options: MmdOptions = {}): Promise<MmdResult> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const maxPoints = checkPositiveInt(options.maxMedianPoints, 1000, 'maxMedianPoints', 2);
  const seed = checkSeed(options.seed);
  if (options.bandwidth !== undefined && !(typeof options.bandwidth === 'number' && Number.isFinite(options.bandwidth) && options.bandwidth > 0)) {
    fail('invalid_argument', 'bandwidth', 'a positive finite number', describe(options.bandwidth));
  }
  checkPair(real, fake, 2, 2);
  const bandwidth = options.bandwidth ?? medianBandwidth(real, fake, maxPoints, seed);
  if (!(bandwidth > 0)) {
    fail('invalid_argument', 'bandwidth', 'a positive median pairwise distance (pass a bandwidth)', `median heuristic ${bandwidth}`);
  }
  const [x, y, m, n, d] = [asFloat64(real), asFloat64(fake), real.n, fake.n, real.d];
  // Off-diagonal sums: every diagonal term is exp(0) = 1.
  const kxx = (await rbfKernelSum(x, m, x, m, d, bandwidth)) - m;
  const kyy = (await rbfKernelSum(y, n, y, n, d, bandwidth)) - n;
  const kxy = await rbfKernelSum(x, m, y, n, d, bandwidth);
  const mmd2 = kxx / (m * (m - 1)) + kyy / (n * (n - 1)) - (2 * kxy) / (m * n);
  return { mmd2, bandwidth };
}
