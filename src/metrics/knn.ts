/**
 * Blocked nearest-neighbour computations on sample sets (see linalg.ts for the `Samples`
 * convention), in float64, never materialising a distance matrix.
 *
 * Rows are processed in blocks: a block of `blockSize` query rows against a block of `blockSize`
 * reference rows at a time (so both stay in cache), keeping only what each query row needs (its k
 * smallest squared distances, or counters). Memory beyond the inputs is O(n·k) for k-NN and O(n)
 * for ball membership, so 50k x 50k is fine; time is O(n_query · n_ref · d).
 *
 * Distances: squared Euclidean, Σ_j (x_j - y_j)², summed over j in order for each pair. Every
 * pair's value is computed by the same operations whatever the block size, so all results are
 * bit-identical for any `blockSize`.
 */
import { describe, fail } from '../errors.js';
import { forEachDist2Block, forEachNearestBlock, SMALL } from './gram.js';
import { asFloat64, type Samples } from './linalg.js';

export const DEFAULT_BLOCK_SIZE = 256;

export interface KnnOptions {
  /** rows per block (default 256); any positive integer gives identical results */
  blockSize?: number;
}

export interface KnnResult {
  /** n_query x k squared distances, ascending per row */
  dist2: Float64Array;
  /** n_query x k indices of the neighbours in the reference set */
  index: Int32Array;
  k: number;
}

export function checkBlockSize(blockSize: unknown): number {
  const b = blockSize ?? DEFAULT_BLOCK_SIZE;
  if (!Number.isSafeInteger(b) || (b as number) < 1) fail('invalid_argument', 'blockSize', 'a positive integer', describe(blockSize));
  return b as number;
}

/** Squared Euclidean distance between row i of a and row j of b (both d columns). */
export function dist2(a: Float64Array, i: number, b: Float64Array, j: number, d: number): number {
  let s = 0;
  const ao = i * d;
  const bo = j * d;
  for (let l = 0; l < d; l++) {
    const t = a[ao + l] - b[bo + l];
    s += t * t;
  }
  return s;
}

/**
 * The k nearest reference rows of every query row, by squared Euclidean distance. With `ref`
 * omitted (self mode) the reference set is `query` itself and each row excludes itself (by index:
 * an exact duplicate of row i elsewhere is a neighbour at distance 0).
 *
 * Ties: neighbours are ordered by (distance, reference index), so the k-th distance never depends
 * on ties and the indices are deterministic.
 *
 * Inputs are not validated here beyond k (callers validate with checkSamples / checkPair): needs
 * k ≥ 1 and k ≤ n_ref (k ≤ n - 1 in self mode).
 */
export async function kNearest(query: Samples, ref: Samples | undefined, k: number, options: KnnOptions = {}): Promise<KnnResult> {
  const self = ref === undefined;
  const r = ref ?? query;
  const available = self ? r.n - 1 : r.n;
  if (!Number.isSafeInteger(k) || k < 1 || k > available) {
    fail('invalid_argument', 'k', `an integer in [1, ${available}] (fewer neighbours than rows${self ? ' - 1' : ''})`, describe(k));
  }
  checkBlockSize(options.blockSize);
  const d = query.d;
  const q = asFloat64(query);
  const x = self ? q : asFloat64(r);
  const nq = query.n;
  const nr = r.n;
  const best = new Float64Array(nq * k).fill(Infinity);
  const index = new Int32Array(nq * k).fill(-1);
  if (nq * nr * d >= SMALL) {
    // onnxruntime selects the k (k + 1 with the row itself) smallest of each row (TopK): the same
    // neighbours in the same order, and only they leave the session.
    const kk = Math.min(nr, self ? k + 1 : k);
    await forEachNearestBlock(q, nq, x, nr, d, kk, (i0, rows, values, indices) => {
      for (let b = 0; b < rows; b++) {
        const i = i0 + b;
        let w = 0;
        for (let t = 0; t < kk && w < k; t++) {
          const j = Number(indices[b * kk + t]);
          if (self && j === i) continue;
          best[i * k + w] = values[b * kk + t];
          index[i * k + w] = j;
          w++;
        }
      }
    });
    return { dist2: best, index, k };
  }
  await forEachDist2Block(q, nq, x, nr, d, (i0, rows, d2) => {
    for (let b = 0; b < rows; b++) {
      const i = i0 + b;
      const o = i * k;
      const row = b * nr;
      let worst = best[o + k - 1];
      for (let j = 0; j < nr; j++) {
        if (self && j === i) continue;
        const s = d2[row + j];
        if (s < worst) {
          // insertion after every entry <= s: ties keep the smaller index first
          let p = o + k - 1;
          while (p > o && best[p - 1] > s) {
            best[p] = best[p - 1];
            index[p] = index[p - 1];
            p--;
          }
          best[p] = s;
          index[p] = j;
          worst = best[o + k - 1];
        }
      }
    }
  });
  return { dist2: best, index, k };
}

/**
 * Squared radius of each row's k-NN ball within its own set: r_i² = squared distance from x_i to
 * its k-th nearest neighbour among the other rows (NND_k of Kynkäänniemi et al. 2019 and Naeem et
 * al. 2020). Needs n > k.
 */
export async function kthNeighbourRadii2(x: Samples, k: number, options: KnnOptions = {}): Promise<Float64Array> {
  const { dist2: all } = await kNearest(x, undefined, k, options);
  const out = new Float64Array(x.n);
  for (let i = 0; i < x.n; i++) out[i] = all[i * k + k - 1];
  return out;
}

export interface BallMembership {
  /** per point: number of balls B(c_i, r_i) containing it */
  counts: Int32Array;
  /** per centre: 1 if its ball contains at least one point */
  covered: Uint8Array;
}

/**
 * Membership of `points` in the balls B(c_i, r_i) around `centres` with squared radii `radii2`.
 * Convention (ties): a point y is inside B(c, r) when |y - c|² ≤ r² (closed ball), both squared
 * values computed in float64 as above, so a point at exactly the k-th neighbour distance is
 * inside.
 */
export async function ballMembership(points: Samples, centres: Samples, radii2: Float64Array, options: KnnOptions = {}): Promise<BallMembership> {
  if (!(radii2 instanceof Float64Array) || radii2.length !== centres.n) {
    fail('invalid_argument', 'radii2', `a Float64Array of length ${centres.n}`, describe(radii2));
  }
  checkBlockSize(options.blockSize);
  const d = points.d;
  const nc = centres.n;
  const counts = new Int32Array(points.n);
  const covered = new Uint8Array(nc);
  await forEachDist2Block(asFloat64(points), points.n, asFloat64(centres), nc, d, (i0, rows, d2) => {
    for (let b = 0; b < rows; b++) {
      const row = b * nc;
      let cnt = 0;
      for (let j = 0; j < nc; j++) {
        if (d2[row + j] <= radii2[j]) {
          cnt++;
          covered[j] = 1;
        }
      }
      counts[i0 + b] = cnt;
    }
  });
  return { counts, covered };
}
