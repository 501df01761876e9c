/**
 * Pairwise quantities of two sample sets on onnxruntime's float64 GEMM, block by block: squared
 * Euclidean distances ‖a‖² + ‖b‖² - 2 a·b (clamped at 0), and kernel sums. Small problems stay in
 * JavaScript with the direct (a - b)² sum, where a session would cost more than the arithmetic.
 */
import { Graph, int } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';

/** Below this many multiply-adds (rows a x rows b x d) distances are computed in JavaScript. */
export const SMALL = 1e6;
/** Entries of one distance block (rows of a x all rows of b): 32 MB of float64. */
const BLOCK_ENTRIES = 1 << 22;

let dist2Session: Promise<Session> | undefined;

/**
 * Squared distances between the rows of `a` and of `b` in `g`: ‖a‖² + (‖b‖² - 2 a·b), clamped at
 * 0: one Gemm (‖b‖² its broadcast bias), an Add and a Relu over the block.
 */
function dist2Op(g: Graph, a: string, b: string, out?: string): string {
  const na = g.op('ReduceSum', [g.op('Mul', [a, a]), g.int64s([1])], { keepdims: int(1) });
  return g.add('Relu', [g.op('Add', [rankOp(g, a, b), na])], {}, out === undefined ? 1 : [out])[0];
}

/**
 * ‖b‖² - 2 a·b for the rows of `a` and of `b` in `g` (one Gemm, ‖b‖² its broadcast bias): the
 * squared distances less each row of a's own ‖a‖², which orders the rows of b as the distances do.
 */
function rankOp(g: Graph, a: string, b: string): string {
  const nb = g.op('ReduceSum', [g.op('Mul', [b, b]), g.int64s([1])], { keepdims: int(0) });
  return g.op('Gemm', [a, b, nb], { transB: int(1), alpha: { type: 'float', v: -2 } });
}

/**
 * Run `s` on consecutive blocks of rows of `a` (na x d, input 'a') against all of `b` (nb x d,
 * input 'b') and the `extra` feeds, a block's product rows x nb at most BLOCK_ENTRIES values:
 * `visit(i0, rows, outputs)` in order.
 */
async function forEachRowBlock(
  s: Session,
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  extra: Record<string, { data: Float64Array | BigInt64Array; shape: number[] }>,
  visit: (i0: number, rows: number, out: Record<string, { data: Float64Array | BigInt64Array; shape: number[] }>) => void,
): Promise<void> {
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_ENTRIES / nb));
  const bTensor = { data: b, shape: [nb, d] };
  for (let i0 = 0; i0 < na; i0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, na - i0);
    visit(i0, rows, await s.runWide({ a: { data: a.subarray(i0 * d, (i0 + rows) * d), shape: [rows, d] }, b: bTensor, ...extra }));
  }
}

function dist2Graph(): Graph {
  const g = new Graph();
  dist2Op(g, g.addInput('a', 'float64', ['rows', 'd']), g.addInput('b', 'float64', ['cols', 'd']), 'd2');
  g.outputs = ['d2'];
  return g;
}

/**
 * Visit the squared distances between the rows of `a` (na x d) and all rows of `b` (nb x d), in
 * blocks of consecutive rows of `a`: `visit(i0, rows, d2)` with d2 row-major rows x nb. Blocks are
 * visited in order. Below `small` multiply-adds (na x nb x d; default 10⁶) they are computed in
 * JavaScript.
 */
export async function forEachDist2Block(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  visit: (i0: number, rows: number, d2: Float64Array) => void,
  small = SMALL,
): Promise<void> {
  if (na * nb * d < small) {
    const d2 = new Float64Array(na * nb);
    for (let i = 0; i < na; i++) {
      for (let j = 0; j < nb; j++) {
        let s = 0;
        for (let l = 0; l < d; l++) {
          const t = a[i * d + l] - b[j * d + l];
          s += t * t;
        }
        d2[i * nb + j] = s;
      }
    }
    visit(0, na, d2);
    return;
  }
  dist2Session ??= Session.create(dist2Graph());
  await forEachRowBlock(await dist2Session, a, na, b, nb, d, {}, (i0, rows, out) => visit(i0, rows, out.d2.data as Float64Array));
}

let nearestSession: Promise<Session> | undefined;

/** dist2Graph's squared distances, then the `k` smallest of each row (TopK: ascending, ties by lower index). */
function nearestGraph(): Graph {
  const g = dist2Graph();
  const k = g.addInput('k', 'int64', [1]);
  g.add('TopK', ['d2', k], { axis: int(1), largest: int(0), sorted: int(1) }, ['values', 'indices']);
  g.outputs = ['values', 'indices'];
  return g;
}

/**
 * The `k` smallest squared distances from each row of `a` (na x d) to the rows of `b` (nb x d), in
 * blocks of consecutive rows of `a`: `visit(i0, rows, values, indices)`, rows x k each, ascending
 * per row with ties in order of index (the values are forEachDist2Block's, bit for bit). Only the k
 * per row leave onnxruntime, where a distance block is nb per row. Needs 1 ≤ k ≤ nb.
 */
export async function forEachNearestBlock(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  k: number,
  visit: (i0: number, rows: number, values: Float64Array, indices: BigInt64Array) => void,
): Promise<void> {
  nearestSession ??= Session.create(nearestGraph());
  const kTensor = { data: BigInt64Array.of(BigInt(k)), shape: [1] };
  await forEachRowBlock(await nearestSession, a, na, b, nb, d, { k: kTensor }, (i0, rows, out) =>
    visit(i0, rows, out.values.data as Float64Array, out.indices.data as BigInt64Array),
  );
}

let rankSession: Promise<Session> | undefined;

/**
 * The `k` rows of b ranked first for each row of a by rankOp (then TopK: ascending, ties by lower
 * index), in an order of onnxruntime's choosing (TopK unsorted: the same set as sorted, ties
 * broken by index either way, and about 8% faster at k = 71 of 10,000). The Add and clamp of
 * dist2Op are left out. Only the indices leave onnxruntime.
 */
function rankGraph(): Graph {
  const g = new Graph();
  const score = rankOp(g, g.addInput('a', 'float64', ['rows', 'd']), g.addInput('b', 'float64', ['cols', 'd']));
  g.add('TopK', [score, g.addInput('k', 'int64', [1])], { axis: int(1), largest: int(0), sorted: int(0) }, ['values', 'indices']);
  g.outputs = ['indices'];
  return g;
}

/**
 * Indices of the `k` nearest rows of `b` (nb x d) to each row of `a` (na x d), in blocks of
 * consecutive rows of `a`: `visit(i0, rows, indices)`, rows x k, each row's k in no particular
 * order (rankGraph's choice: Euclidean, ties by lower index, up to the rounding of the ranking
 * score). For callers that count which rows are nearest, not how far or in what order. Needs
 * 1 ≤ k ≤ nb.
 */
export async function forEachNearestIndexBlock(
  a: Float64Array,
  na: number,
  b: Float64Array,
  nb: number,
  d: number,
  k: number,
  visit: (i0: number, rows: number, indices: BigInt64Array) => void,
): Promise<void> {
  rankSession ??= Session.create(rankGraph());
  const kTensor = { data: BigInt64Array.of(BigInt(k)), shape: [1] };
  await forEachRowBlock(await rankSession, a, na, b, nb, d, { k: kTensor }, (i0, rows, out) => visit(i0, rows, out.indices.data as BigInt64Array));
}

let batchStepSession: Promise<Session> | undefined;

/**
 * One mini-batch k-means step's arithmetic: rows x[indices] (Gather), each assigned to its nearest
 * centre by ‖c‖² - 2 x·c (the squared distance less the row's own ‖x‖², which does not change
 * which centre is nearest; TopK 1: the first centre on ties), and per centre the sum of its rows
 * (a one-hot product: `ids` holds 0..k-1). Few operators: onnxruntime's cost per operator, not
 * the arithmetic, is most of a step's time at k-means sizes.
 */
function batchStepGraph(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float64', ['n', 'd']);
  const idx = g.addInput('indices', 'int64', ['batch']);
  const c = g.addInput('centres', 'float64', ['k', 'd']);
  const cn = g.addInput('centreNorms', 'float64', ['k']);
  const ids = g.addInput('ids', 'int64', [1, 'k']);
  const rows = g.op('Gather', [x, idx], { axis: int(0) });
  const score = g.op('Gemm', [rows, c, cn], { transB: int(1), alpha: { type: 'float', v: -2 } });
  const [, label] = g.add('TopK', [score, g.int64s([1])], { axis: int(1), largest: int(0), sorted: int(1) }, ['best', 'label']);
  const onehot = g.op('Cast', [g.op('Equal', [label, ids])], { to: int(11) });
  g.add('MatMul', [g.op('Transpose', [onehot], {}), rows], {}, ['sums']);
  g.outputs = ['sums', 'best', 'label'];
  return g;
}

/** Offset of an int64's low 32-bit half in a Uint32Array view: 0 on little-endian machines. */
const LOW = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 0 : 1;

/** A Uint32Array view of `a` starting at its first value's low half: entry 2i is value i's low 32 bits. */
export function lowHalves(a: BigInt64Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset + 4 * LOW, 2 * a.length - LOW);
}

/** ‖x_i‖² of each row of x (n x d, row-major), summed over the columns in order. */
export function squaredRowNorms(x: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let t = 0;
    for (let l = 0; l < d; l++) t += x[i * d + l] * x[i * d + l];
    out[i] = t;
  }
  return out;
}

/** 0..k-1 as int64, per k. */
const centreIds = new Map<number, BigInt64Array>();

/**
 * The statistics of one mini-batch k-means step (batchStepGraph) of the rows `indices` of x
 * (n x d, with `rowNorms` its rows' ‖x_i‖²) against `centres` (k x d): per centre the sum of the
 * rows nearest to it (k x d) and their count, and the sum of their squared distances to their
 * centres (‖x‖² + ‖c‖² - 2 x·c, each clamped at 0). The rows stay in onnxruntime.
 */
export async function batchStep(
  x: Float64Array,
  rowNorms: Float64Array,
  n: number,
  d: number,
  indices: BigInt64Array,
  centres: Float64Array,
  k: number,
): Promise<{ sums: Float64Array; counts: Float64Array; inertia: number }> {
  batchStepSession ??= Session.create(batchStepGraph());
  const s = await batchStepSession;
  let ids = centreIds.get(k);
  if (!ids) {
    ids = BigInt64Array.from({ length: k }, (_, m) => BigInt(m));
    centreIds.set(k, ids);
  }
  const centreNorms = squaredRowNorms(centres, k, d);
  const out = await s.runWide({
    x: { data: x, shape: [n, d] },
    indices: { data: indices, shape: [indices.length] },
    centres: { data: centres, shape: [k, d] },
    centreNorms: { data: centreNorms, shape: [k] },
    ids: { data: ids, shape: [1, k] },
  });
  const best = out.best.data as Float64Array;
  // int64 values below 2³¹ read as their low 32-bit halves: no BigInt per row
  const label = lowHalves(out.label.data as BigInt64Array);
  const rows = lowHalves(indices);
  const counts = new Float64Array(k);
  let inertia = 0;
  for (let b = 0; b < indices.length; b++) {
    counts[label[2 * b]]++;
    inertia += Math.max(0, rowNorms[rows[2 * b]] + best[b]);
  }
  return { sums: out.sums.data as Float64Array, counts, inertia };
}

let kernelSession: Promise<Session> | undefined;

/**
 * Sums of the cubic kernel k(x, y) = (x·y/d + 1)³ over all pairs of rows of x (m x d) with x, of y
 * with y and of x with y, and the diagonal sums of the first two (for KID's unbiased MMD²).
 */
export async function cubicKernelSums(
  x: Float64Array,
  y: Float64Array,
  m: number,
  n: number,
  d: number,
): Promise<{ xx: number; xxDiag: number; yy: number; yyDiag: number; xy: number }> {
  kernelSession ??= Session.create(
    (() => {
      const g = new Graph();
      const xs = g.addInput('x', 'float64', ['m', 'd']);
      const ys = g.addInput('y', 'float64', ['n', 'd']);
      const dim = g.addInput('dim', 'float64', []);
      const k = (a: string, b: string) => {
        const t = g.op('Add', [g.op('Div', [g.op('MatMul', [a, g.op('Transpose', [b], {})]), dim]), g.scalar(1, 'float64')]);
        return g.op('Mul', [g.op('Mul', [t, t]), t]);
      };
      const diag = (a: string) => {
        const t = g.op('Add', [g.op('Div', [g.op('ReduceSum', [g.op('Mul', [a, a]), g.int64s([1])], { keepdims: int(0) }), dim]), g.scalar(1, 'float64')]);
        return g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [t, t]), t])], { keepdims: int(0) });
      };
      const all = (v: string) => g.op('ReduceSum', [v], { keepdims: int(0) });
      g.add('Identity', [all(k(xs, xs))], {}, ['xx']);
      g.add('Identity', [diag(xs)], {}, ['xxDiag']);
      g.add('Identity', [all(k(ys, ys))], {}, ['yy']);
      g.add('Identity', [diag(ys)], {}, ['yyDiag']);
      g.add('Identity', [all(k(xs, ys))], {}, ['xy']);
      g.outputs = ['xx', 'xxDiag', 'yy', 'yyDiag', 'xy'];
      return g;
    })(),
  );
  const s = await kernelSession;
  const r = await s.run64({ x: { data: x, shape: [m, d] }, y: { data: y, shape: [n, d] }, dim: { data: Float64Array.of(d), shape: [] } });
  return { xx: r.xx.data[0], xxDiag: r.xxDiag.data[0], yy: r.yy.data[0], yyDiag: r.yyDiag.data[0], xy: r.xy.data[0] };
}

let rbfSession: Promise<Session> | undefined;

/** Σ_ij exp(-‖a_i - b_j‖² / (2σ²)) over all rows of a (na x d) and b (nb x d), blockwise. */
export async function rbfKernelSum(a: Float64Array, na: number, b: Float64Array, nb: number, d: number, sigma: number): Promise<number> {
  const c = -1 / (2 * sigma * sigma);
  if (na * nb * d < SMALL) {
    let sum = 0;
    await forEachDist2Block(a, na, b, nb, d, (_i0, _rows, d2) => {
      for (const v of d2) sum += Math.exp(c * v);
    });
    return sum;
  }
  rbfSession ??= Session.create(
    (() => {
      const g = dist2Graph();
      const coef = g.addInput('coef', 'float64', []);
      g.add('ReduceSum', [g.op('Exp', [g.op('Mul', ['d2', coef])])], { keepdims: int(0) }, ['sum']);
      g.outputs = ['sum'];
      return g;
    })(),
  );
  const s = await rbfSession;
  const rowsPerBlock = Math.max(1, Math.floor(BLOCK_ENTRIES / nb));
  let sum = 0;
  for (let i0 = 0; i0 < na; i0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, na - i0);
    const r = await s.run64({
      a: { data: a.subarray(i0 * d, (i0 + rows) * d), shape: [rows, d] },
      b: { data: b, shape: [nb, d] },
      coef: { data: Float64Array.of(c), shape: [] },
    });
    sum += r.sum.data[0];
  }
  return sum;
}
