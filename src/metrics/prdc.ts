/**
 * k-NN manifold metrics: improved precision and recall (Kynkäänniemi et al. 2019, "Improved
 * precision and recall metric for assessing generative models") and density and coverage (Naeem et
 * al. 2020, "Reliable fidelity and diversity metrics for generative models").
 *
 * Inputs follow the `Samples` convention of linalg.ts: real {data, n: N, d}, fake {data, n: M, d}.
 * Notation: X_1..X_N real, Y_1..Y_M fake, NND_k(Z) = distance from Z to its k-th nearest
 * neighbour within its own set (itself excluded), B(c, r) = closed ball {z : |z - c| ≤ r}.
 *
 * Tie convention: a point is inside a ball when its distance is ≤ the radius (compared as squared
 * distances computed in float64; see knn.ts). Computed by blocked passes (knn.ts): memory
 * O((N + M)·k), time O((N + M)² d); results do not depend on `blockSize`.
 */
import { describe, fail } from '../errors.js';
import { ballMembership, checkBlockSize, kthNeighbourRadii2 } from './knn.js';
import { checkPair, asSamples, type SampleInput, type Samples } from './linalg.js';

/** Options of `improvedPrecisionRecall` (default k = 3) and `densityCoverage` (default k = 5); all optional. */
export interface ManifoldOptions {
  /** neighbour rank defining the ball radii */
  k?: number;
  /** rows per block of the distance passes (default 256; does not change the results) */
  blockSize?: number;
}

/** Improved precision and recall (`improvedPrecisionRecall`). */
export interface PrecisionRecall {
  /** fraction of fake rows inside the real manifold, in [0, 1] */
  precision: number;
  /** fraction of real rows inside the fake manifold, in [0, 1] */
  recall: number;
  /** neighbour rank used for the ball radii */
  k: number;
}

/** Density and coverage (`densityCoverage`). */
export interface DensityCoverage {
  /** mean number of real balls containing each fake row, divided by k: in [0, N/k], about 1 when fake ~ real */
  density: number;
  /** fraction of real balls that contain at least one fake row, in [0, 1] */
  coverage: number;
  /** neighbour rank used for the ball radii */
  k: number;
}

export type Prdc = PrecisionRecall & DensityCoverage;

function checkK(k: unknown, dflt: number): number {
  const v = k ?? dflt;
  if (!Number.isSafeInteger(v) || (v as number) < 1) fail('invalid_argument', 'k', 'a positive integer', describe(k));
  return v as number;
}

function widen(x: Samples): Samples {
  return x.data instanceof Float64Array ? x : { data: Float64Array.from(x.data), n: x.n, d: x.d };
}

/**
 * Improved precision and recall (Kynkäänniemi et al. 2019), k = 3 by default:
 *
 *   precision = (1/M) Σ_j 1[∃ i : |Y_j - X_i| ≤ NND_k(X_i)]   (fakes inside the real manifold)
 *   recall    = (1/N) Σ_i 1[∃ j : |X_i - Y_j| ≤ NND_k(Y_j)]   (reals inside the fake manifold)
 *
 * Needs N > k and M > k. Errors: RefineryError naming 'real' / 'fake' (shape, non-finite values,
 * too few rows), 'k', 'blockSize'.
 */
export async function improvedPrecisionRecall(realInput: SampleInput, fakeInput: SampleInput, options: ManifoldOptions = {}): Promise<PrecisionRecall> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const { precision, recall, k } = await bothManifolds(real, fake, checkK(options.k, 3), options.blockSize);
  return { precision, recall, k };
}

/**
 * Density and coverage (Naeem et al. 2020), k = 5 by default:
 *
 *   density  = (1/(k M)) Σ_j Σ_i 1[Y_j ∈ B(X_i, NND_k(X_i))]     (in [0, N/k]; ≈ 1 when fake ~ real)
 *   coverage = (1/N) Σ_i 1[∃ j : Y_j ∈ B(X_i, NND_k(X_i))]
 *
 * Needs N > k and M ≥ 1. Errors as for `improvedPrecisionRecall`.
 */
export async function densityCoverage(realInput: SampleInput, fakeInput: SampleInput, options: ManifoldOptions = {}): Promise<DensityCoverage> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const k = checkK(options.k, 5);
  const blockSize = checkBlockSize(options.blockSize);
  checkPair(real, fake, k + 1, 1);
  const x = widen(real);
  const y = widen(fake);
  const rx = await kthNeighbourRadii2(x, k, { blockSize });
  const { counts, covered } = await ballMembership(y, x, rx, { blockSize });
  return { density: densityOf(counts, k), coverage: fractionPositive(covered), k };
}

/**
 * All four with one k (default 5, the choice of Naeem et al.; the improved-PR paper uses k = 3):
 * precision, recall, density and coverage as defined above, sharing the real radii and the
 * fake-in-real pass. Needs N > k and M > k.
 */
export async function prdc(realInput: SampleInput, fakeInput: SampleInput, options: ManifoldOptions = {}): Promise<Prdc> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  return bothManifolds(real, fake, checkK(options.k, 5), options.blockSize);
}

/** Radii of both sample sets and the ball memberships both ways: all four metrics at one k. */
async function bothManifolds(real: Samples, fake: Samples, k: number, block: number | undefined): Promise<Prdc> {
  const blockSize = checkBlockSize(block);
  checkPair(real, fake, k + 1, k + 1);
  const x = widen(real);
  const y = widen(fake);
  const rx = await kthNeighbourRadii2(x, k, { blockSize });
  const ry = await kthNeighbourRadii2(y, k, { blockSize });
  const fakeInReal = await ballMembership(y, x, rx, { blockSize });
  const realInFake = (await ballMembership(x, y, ry, { blockSize })).counts;
  return {
    precision: fractionPositive(fakeInReal.counts),
    recall: fractionPositive(realInFake),
    density: densityOf(fakeInReal.counts, k),
    coverage: fractionPositive(fakeInReal.covered),
    k,
  };
}

function fractionPositive(a: Int32Array | Uint8Array): number {
  let c = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > 0) c++;
  return c / a.length;
}

function densityOf(counts: Int32Array, k: number): number {
  let s = 0;
  for (let i = 0; i < counts.length; i++) s += counts[i];
  return s / (k * counts.length);
}
