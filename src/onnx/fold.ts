/**
 * Constant folding of the small integer computations exporters emit for shapes, pads and sizes
 * (torch.onnx turns `F.pad(x, (0, 1, 1, 0))` into ConstantOfShape, Concat, Reshape, Slice with a
 * negative step, Transpose and Cast): evaluated before running, so that operators whose
 * differentiation needs such a value as a constant can have it.
 */
import type { ConstTensor, Graph, Node } from './graph.js';
import { attrInt, attrInts, constNumbers } from './graph.js';

interface Value {
  dims: number[];
  data: number[];
}

/** Largest folded tensor: shape computations are tiny. */
const MAX_SIZE = 4096;

const numel = (dims: number[]) => dims.reduce((a, b) => a * b, 1);

function strides(dims: number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let i = dims.length - 2; i >= 0; i--) s[i] = s[i + 1] * dims[i + 1];
  return s;
}

function fromConst(t: ConstTensor): Value | undefined {
  if (numel(t.dims) > MAX_SIZE) return undefined;
  return { dims: [...t.dims], data: constNumbers(t) };
}

function broadcastBinary(a: Value, b: Value, f: (x: number, y: number) => number): Value | undefined {
  const r = Math.max(a.dims.length, b.dims.length);
  const da = [...new Array<number>(r - a.dims.length).fill(1), ...a.dims];
  const db = [...new Array<number>(r - b.dims.length).fill(1), ...b.dims];
  const dims = da.map((d, i) => Math.max(d, db[i]));
  if (dims.some((d, i) => (da[i] !== d && da[i] !== 1) || (db[i] !== d && db[i] !== 1))) return undefined;
  const sa = strides(da);
  const sb = strides(db);
  const so = strides(dims);
  const data = new Array<number>(numel(dims));
  for (let k = 0; k < data.length; k++) {
    let ia = 0;
    let ib = 0;
    for (let i = 0; i < r; i++) {
      const c = Math.floor(k / so[i]) % dims[i];
      if (da[i] !== 1) ia += c * sa[i];
      if (db[i] !== 1) ib += c * sb[i];
    }
    data[k] = f(a.data[ia], b.data[ib]);
  }
  return { dims, data };
}

function evaluate(g: Graph, node: Node, input: (k: number) => Value | undefined): Value | undefined {
  switch (node.op) {
    case 'Shape': {
      const s = g.shape(node.inputs[0]);
      const r = s.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      const part = s.slice(clamp(attrInt(node, 'start', 0)), clamp(attrInt(node, 'end', r)));
      if (!part.every((d) => typeof d === 'number')) return undefined;
      return { dims: [part.length], data: part as number[] };
    }
    case 'Identity':
    case 'Cast':
      return input(0);
    case 'ConstantOfShape': {
      const shape = input(0);
      if (!shape || numel(shape.data) > MAX_SIZE) return undefined;
      const v = node.attrs.value;
      const fill = v && v.type === 'tensor' ? constNumbers(v.v)[0] : 0;
      return { dims: shape.data, data: new Array<number>(numel(shape.data)).fill(fill) };
    }
    case 'Concat': {
      const parts = node.inputs.map((_, k) => input(k));
      if (parts.some((p) => p === undefined)) return undefined;
      const ps = parts as Value[];
      const r = ps[0].dims.length;
      const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + r : attrInt(node, 'axis', 0);
      const outer = numel(ps[0].dims.slice(0, axis));
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const p of ps) {
          const block = numel(p.dims.slice(axis));
          data.push(...p.data.slice(o * block, (o + 1) * block));
        }
      }
      const dims = [...ps[0].dims];
      dims[axis] = ps.reduce((a, p) => a + p.dims[axis], 0);
      return { dims, data };
    }
    case 'Reshape': {
      const x = input(0);
      const shape = input(1);
      if (!x || !shape) return undefined;
      const dims = shape.data.map((d, i) => (d === 0 && attrInt(node, 'allowzero', 0) === 0 ? x.dims[i] : d));
      const known = dims.filter((d) => d !== -1).reduce((a, b) => a * b, 1);
      return { dims: dims.map((d) => (d === -1 ? x.data.length / known : d)), data: x.data };
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const x = input(0);
      if (!x) return undefined;
      const axes = node.inputs[1] ? input(1)?.data : attrInts(node, 'axes');
      if (node.op === 'Unsqueeze') {
        if (!axes) return undefined;
        const r = x.dims.length + axes.length;
        const norm = axes.map((a) => (a < 0 ? a + r : a));
        const dims: number[] = [];
        let k = 0;
        for (let i = 0; i < r; i++) dims.push(norm.includes(i) ? 1 : x.dims[k++]);
        return { dims, data: x.data };
      }
      const r = x.dims.length;
      const norm = axes?.map((a) => (a < 0 ? a + r : a));
      return { dims: x.dims.filter((d, i) => (norm ? !norm.includes(i) : d !== 1)), data: x.data };
    }
    case 'Transpose': {
      const x = input(0);
      if (!x) return undefined;
      const r = x.dims.length;
      const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
      const dims = perm.map((p) => x.dims[p]);
      const sx = strides(x.dims);
      const so = strides(dims);
      const data = new Array<number>(x.data.length);
      for (let k = 0; k < data.length; k++) {
        let src = 0;
        for (let i = 0; i < r; i++) src += (Math.floor(k / so[i]) % dims[i]) * sx[perm[i]];
        data[k] = x.data[src];
      }
      return { dims, data };
    }
    case 'Slice': {
      const x = input(0);
      const starts = input(1);
      const ends = input(2);
      if (!x || !starts || !ends) return undefined;
      const r = x.dims.length;
      const axes = node.inputs[3] ? input(3)?.data : starts.data.map((_, i) => i);
      const steps = node.inputs[4] ? input(4)?.data : starts.data.map(() => 1);
      if (!axes || !steps) return undefined;
      // Per axis: the list of source indices kept.
      const picks = x.dims.map((d) => Array.from({ length: d }, (_, i) => i));
      axes.forEach((a0, i) => {
        const a = a0 < 0 ? a0 + r : a0;
        const d = x.dims[a];
        const step = steps[i];
        const clampIdx = (v: number, lo: number, hi: number) => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
        const kept: number[] = [];
        if (step > 0) for (let k = clampIdx(starts.data[i], 0, d); k < clampIdx(ends.data[i], 0, d); k += step) kept.push(k);
        else for (let k = clampIdx(starts.data[i], -1, d - 1); k > clampIdx(ends.data[i], -1, d - 1); k += step) kept.push(k);
        picks[a] = kept;
      });
      const dims = picks.map((p) => p.length);
      const sx = strides(x.dims);
      const so = strides(dims);
      const data = new Array<number>(numel(dims));
      for (let k = 0; k < data.length; k++) {
        let src = 0;
        for (let i = 0; i < r; i++) src += picks[i][Math.floor(k / so[i]) % dims[i]] * sx[i];
        data[k] = x.data[src];
      }
      return { dims, data };
    }
    case 'Gather': {
      const x = input(0);
      const idx = input(1);
      if (!x || !idx) return undefined;
      const r = x.dims.length;
      const axis = attrInt(node, 'axis', 0) < 0 ? attrInt(node, 'axis', 0) + r : attrInt(node, 'axis', 0);
      const outer = numel(x.dims.slice(0, axis));
      const inner = numel(x.dims.slice(axis + 1));
      const d = x.dims[axis];
      const data: number[] = [];
      for (let o = 0; o < outer; o++) {
        for (const i0 of idx.data) {
          const i = i0 < 0 ? i0 + d : i0;
          data.push(...x.data.slice((o * d + i) * inner, (o * d + i + 1) * inner));
        }
      }
      return { dims: [...x.dims.slice(0, axis), ...idx.dims, ...x.dims.slice(axis + 1)], data };
    }
    case 'Add':
    case 'Sub':
    case 'Mul':
    case 'Div': {
      const a = input(0);
      const b = input(1);
      if (!a || !b || g.dtype(node.outputs[0]) !== 'int64') return undefined;
      const f = {
        Add: (x: number, y: number) => x + y,
        Sub: (x: number, y: number) => x - y,
        Mul: (x: number, y: number) => x * y,
        Div: (x: number, y: number) => Math.trunc(x / y),
      }[node.op];
      return broadcastBinary(a, b, f);
    }
    default:
      return undefined;
  }
}

/**
 * The value of `name` when it is a constant or a small integer computation over constants and
 * static shapes; undefined otherwise. Results are remembered in `memo`.
 */
export function foldConstant(g: Graph, name: string, memo = new Map<string, Value | undefined>()): ConstTensor | undefined {
  const v = fold(g, name, memo);
  if (!v) return undefined;
  return { dtype: 'int64', dims: v.dims, data: BigInt64Array.from(v.data.map((d) => BigInt(d))) };
}

function fold(g: Graph, name: string, memo: Map<string, Value | undefined>): Value | undefined {
  if (memo.has(name)) return memo.get(name);
  const c = g.constValue(name);
  let v: Value | undefined;
  if (c) v = c.dtype === 'int64' || c.dtype === 'int32' ? fromConst(c) : undefined;
  else {
    const p = g.producer(name);
    const dtype = g.dtype(name);
    if (p && (dtype === 'int64' || dtype === 'int32') && p.outputs[0] === name) {
      v = evaluate(g, p, (k) => (p.inputs[k] ? fold(g, p.inputs[k], memo) : undefined));
    }
  }
  if (v && numel(v.dims) !== v.data.length) v = undefined;
  memo.set(name, v);
  return v;
}
