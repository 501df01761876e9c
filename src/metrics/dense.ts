/**
 * Dense float64 linear algebra of the metrics on onnxruntime's GEMM (about 60 GFLOP/s on 2 cores
 * against about 2 for a JavaScript loop): matrix products and covariances. Small problems stay in
 * JavaScript, where a session would cost more than the arithmetic.
 *
 * The sessions are compiled once per process and kept (a few kilobytes each).
 */
import { Graph, int } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { covariance, matmul, mean, type Samples } from './linalg.js';

/** Below this many multiply-adds a product is done in JavaScript. */
const SMALL = 2e6;

let matmulSession: Promise<Session> | undefined;

function session(build: (g: Graph) => void): Promise<Session> {
  const g = new Graph();
  build(g);
  return Session.create(g);
}

/** C = A B (A m x k, B k x n, row-major float64). */
export async function matmul64(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Promise<Float64Array> {
  if (m * k * n < SMALL) return matmul(a, b, m, k, n);
  return product(a, b, m, k, n);
}

/** y = A x (A m x n, row-major float64) on onnxruntime whatever the size: for callers that only call it on large A. */
export function matvec64(a: Float64Array, x: Float64Array, m: number, n: number): Promise<Float64Array> {
  return product(a, x, m, n, 1);
}

async function product(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Promise<Float64Array> {
  matmulSession ??= session((g) => {
    const x = g.addInput('a', 'float64', ['m', 'k']);
    const y = g.addInput('b', 'float64', ['k', 'n']);
    g.add('MatMul', [x, y], {}, ['c']);
    g.outputs = ['c'];
  });
  const s = await matmulSession;
  return (await s.run64({ a: { data: a, shape: [m, k] }, b: { data: b, shape: [k, n] } })).c.data;
}

/** Sessions of `trailingUpdate64` by panel width p (a constant of the Slice). */
const trailingSessions = new Map<number, Promise<Session>>();

/**
 * T[p:, p:] - X Yᵀ for T m x m, X and Y (m - p) x q (row-major float64): a blocked
 * tridiagonalisation's update of its trailing block after a panel of p columns (eigen.ts).
 */
export async function trailingUpdate64(t: Float64Array, m: number, p: number, x: Float64Array, y: Float64Array): Promise<Float64Array> {
  if (!trailingSessions.has(p)) {
    trailingSessions.set(
      p,
      session((g) => {
        const tt = g.addInput('t', 'float64', ['m', 'm']);
        const rest = g.op('Slice', [tt, g.int64s([p, p]), g.int64s([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER])]);
        const xs = g.addInput('x', 'float64', ['rest', 'q']);
        const ys = g.addInput('y', 'float64', ['rest', 'q']);
        g.add('Gemm', [xs, ys, rest], { transB: int(1), alpha: { type: 'float', v: -1 } }, ['out']);
        g.outputs = ['out'];
      }),
    );
  }
  const s = await trailingSessions.get(p)!;
  const q = x.length / (m - p);
  const out = await s.runWide({
    t: { data: t, shape: [m, m] },
    x: { data: x, shape: [m - p, q] },
    y: { data: y, shape: [m - p, q] },
  });
  return out.out.data as Float64Array;
}

/** Values of a chunk of centred data (bounds the session's centred copy: 64 MB; 4096 rows of 2048-d features). */
const CHUNK_VALUES = 4096 * 2048;

/** Sessions of `meanCovariances` by the number of chunks they take in one run (1 or 2). */
const gramSessions = new Map<number, Promise<Session>>();

/**
 * A session whose run takes `count` chunks x0, x1, ... with their means mean0, mean1, ... and
 * returns each chunk's centred Gram matrix gram0, gram1, ... (Σ_rows (x - mean)ᵀ(x - mean)). Each
 * chunk has its own copy of the same two operators, so a chunk's Gram matrix has the same bits
 * whichever session computed it.
 */
function gramSession(count: number): Promise<Session> {
  if (!gramSessions.has(count)) {
    gramSessions.set(
      count,
      session((g) => {
        for (let i = 0; i < count; i++) {
          const c = g.op('Sub', [g.addInput(`x${i}`, 'float64', [`rows${i}`, `d${i}`]), g.addInput(`mean${i}`, 'float64', [`d${i}`])]);
          g.add('Gemm', [c, c], { transA: int(1) }, [`gram${i}`]);
        }
        g.outputs = Array.from({ length: count }, (_, i) => `gram${i}`);
      }),
    );
  }
  return gramSessions.get(count)!;
}

/**
 * Mean and unbiased covariance (1/(n-1)) Σ (x - mu)(x - mu)ᵀ of each set (n ≥ 2), two-pass: the
 * mean, then the centred rows' Gram matrix accumulated chunk by chunk (XᵀX on onnxruntime). Sets
 * of one chunk each are computed two per session run (the real and the fake set of a Fréchet
 * distance: one call's overhead instead of two, the threads kept busy between them), with the same
 * bits as alone. The results are exactly symmetric. `chunkValues` (values per chunk) is for tests.
 */
export async function meanCovariances(sets: readonly Samples[], chunkValues = CHUNK_VALUES): Promise<{ mean: Float64Array; cov: Float64Array }[]> {
  const results: { mean: Float64Array; cov: Float64Array }[] = sets.map((x) => ({ mean: mean(x), cov: new Float64Array(x.d * x.d) }));
  // Chunks to compute: [set, first row, rows], small sets in JavaScript.
  const chunks: [number, number, number][] = [];
  sets.forEach((x, i) => {
    if (x.n * x.d * x.d < SMALL) {
      results[i].cov = covariance(x, results[i].mean);
      return;
    }
    const chunkRows = Math.max(1, Math.floor(chunkValues / x.d));
    for (let start = 0; start < x.n; start += chunkRows) chunks.push([i, start, Math.min(chunkRows, x.n - start)]);
  });
  const feed = ([i, start, rows]: [number, number, number], k: number) => {
    const { data, d } = sets[i];
    // Centred inside the session (the same subtractions as in JavaScript), so float64 rows are not copied.
    const part = data.subarray(start * d, (start + rows) * d);
    return {
      [`x${k}`]: { data: part instanceof Float64Array ? part : Float64Array.from(part), shape: [rows, d] },
      [`mean${k}`]: { data: results[i].mean, shape: [d] },
    };
  };
  // Pairs of chunks per run, then the odd one; each Gram matrix is added to its set's sum in chunk order.
  for (let c = 0; c < chunks.length; c += 2) {
    const group = chunks.slice(c, c + 2);
    const s = await gramSession(group.length);
    const out = await s.run64(Object.assign({}, ...group.map(feed)));
    group.forEach(([i], k) => {
      const cov = results[i].cov;
      const gram = out[`gram${k}`].data;
      for (let e = 0; e < gram.length; e++) cov[e] += gram[e];
    });
  }
  sets.forEach((x, i) => {
    if (x.n * x.d * x.d < SMALL) return;
    const { cov } = results[i];
    const d = x.d;
    for (let a = 0; a < d; a++) {
      for (let b = a; b < d; b++) {
        const v = (0.5 * (cov[a * d + b] + cov[b * d + a])) / (x.n - 1);
        cov[a * d + b] = v;
        cov[b * d + a] = v;
      }
    }
  });
  return results;
}
