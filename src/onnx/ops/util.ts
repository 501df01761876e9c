/** Shape helpers shared by the operator definitions. */
import { RefineryError } from '../../errors.js';
import { type Dim, type Graph, type Node, tensorAttr } from '../graph.js';

export function unsupported(node: Node, expected: string, received: string): never {
  throw new RefineryError('unsupported_operator', [{ path: `node ${node.name} (${node.op})`, expected, received }]);
}

export function shapeError(node: Node, expected: string, received: string): never {
  throw new RefineryError('shape_mismatch', [{ path: `node ${node.name} (${node.op})`, expected, received }]);
}

export function fmtShape(s: readonly Dim[]): string {
  return `[${s.join(',')}]`;
}

/** Numpy-style broadcast of two static shapes; symbolic dims broadcast with 1 and with themselves. */
export function broadcast(node: Node, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  const r = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < r; i++) {
    const da = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const db = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (da === db) out.push(da);
    else if (da === 1) out.push(db);
    else if (db === 1) out.push(da);
    else if (typeof da === 'string') out.push(db);
    else if (typeof db === 'string') out.push(da);
    else shapeError(node, `broadcastable shapes`, `${fmtShape(a)} and ${fmtShape(b)}`);
  }
  return out;
}

export function normAxis(node: Node, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) shapeError(node, `an axis in [-${rank}, ${rank - 1}]`, String(axis));
  return a;
}

/** Product of the dims when all are fixed, otherwise undefined. */
export function staticSize(s: readonly Dim[]): number | undefined {
  let n = 1;
  for (const d of s) {
    if (typeof d !== 'number') return undefined;
    n *= d;
  }
  return n;
}

export function isStatic(s: readonly Dim[]): s is number[] {
  return s.every((d) => typeof d === 'number');
}

/**
 * Sum a gradient down to the shape of `target` (undoing broadcasting). Leading extra axes and axes
 * where the target has size 1 are summed.
 */
export function reduceTo(g: Graph, grad: string, target: string): string {
  const gs = g.shape(grad);
  const ts = g.shape(target);
  const lead = gs.length - ts.length;
  const axes: number[] = [];
  for (let i = 0; i < gs.length; i++) {
    if (i < lead) axes.push(i);
    else if (ts[i - lead] === 1 && gs[i] !== 1) axes.push(i);
  }
  if (axes.length === 0) return grad;
  const summed = g.op('ReduceSum', [grad, g.int64s(axes)], { keepdims: { type: 'int', v: 1 } });
  if (lead === 0) return summed;
  return reshapeLike(g, summed, target);
}

/** Reshape x to the (static or runtime) shape of `like`. */
export function reshapeLike(g: Graph, x: string, like: string): string {
  const s = g.shape(like);
  const shp = isStatic(s) ? g.int64s(s) : g.shapeOf(like);
  return g.op('Reshape', [x, shp]);
}

/** Tensor of ones (or `value`) with the runtime shape of `like`. */
export function filled(g: Graph, like: string, value: number): string {
  return g.op('ConstantOfShape', [g.shapeOf(like)], {
    value: tensorAttr({ dtype: 'float32', dims: [1], data: Float32Array.of(value) }),
  });
}

/** Sum of two gradients (either may be absent). */
export function addGrads(g: Graph, a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return g.op('Add', [a, b]);
}

/** A constant [out, in] matrix (row-major float32) acting along one axis. */
export interface AxisMatrix {
  data: Float32Array;
  out: number;
  in: number;
}

/**
 * Map axis `axis` of v (size m.out) to size m.in: v ×_axis m, the adjoint of applying m along that
 * axis (resizing, padding, strided slicing). The last axis is a right MatMul, the one before it a
 * left MatMul by the transposed constant; other axes move to the end and back.
 */
export function alongAxis(g: Graph, v: string, axis: number, m: AxisMatrix): string {
  const r = g.rank(v);
  if (axis === r - 1) return g.op('MatMul', [v, g.float32(m.data, [m.out, m.in])]);
  if (axis === r - 2) {
    const t = new Float32Array(m.data.length);
    for (let o = 0; o < m.out; o++) for (let i = 0; i < m.in; i++) t[i * m.out + o] = m.data[o * m.in + i];
    return g.op('MatMul', [g.float32(t, [m.in, m.out]), v]);
  }
  const perm = Array.from({ length: r }, (_, i) => i);
  perm[axis] = r - 1;
  perm[r - 1] = axis;
  const moved = g.op('MatMul', [g.op('Transpose', [v], { perm: { type: 'ints', v: perm } }), g.float32(m.data, [m.out, m.in])]);
  return g.op('Transpose', [moved], { perm: { type: 'ints', v: perm } });
}
