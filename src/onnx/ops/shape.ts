/** Operators that move data without arithmetic: Reshape, Flatten, Transpose, Concat, Split, Slice, ... */
import { attrInt, attrInts, constNumbers, int, ints, type Dim, type DType, type Graph, type Node } from '../graph.js';
import { foldConstant } from '../fold.js';
import type { OpDef, OutInfo } from './types.js';
import { type AxisMatrix, alongAxis, filled, fmtShape, isStatic, normAxis, reduceTo, reshapeLike, shapeError, staticSize, unsupported } from './util.js';

/**
 * The value of a 1-D int64 shape-like tensor as dims, when it can be known before running: from
 * constants (folded, see foldConstant), or from Shape/Gather/Concat/Unsqueeze/Squeeze/Cast/Slice chains over shapes
 * (what PyTorch emits for `x.view(x.size(0), -1)`).
 */
export function shapeValue(g: Graph, name: string): Dim[] | undefined {
  const c = g.constValue(name) ?? foldConstant(g, name);
  if (c) return constNumbers(c);
  const p = g.producer(name);
  if (!p) return undefined;
  switch (p.op) {
    case 'Shape': {
      const s = g.shape(p.inputs[0]);
      const r = s.length;
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      return s.slice(clamp(attrInt(p, 'start', 0)), clamp(attrInt(p, 'end', r)));
    }
    case 'Cast':
    case 'Identity':
    case 'Squeeze':
    case 'Unsqueeze':
      return shapeValue(g, p.inputs[0]);
    case 'Concat': {
      const parts = p.inputs.map((i) => shapeValue(g, i));
      if (parts.some((x) => x === undefined)) return undefined;
      return (parts as Dim[][]).flat();
    }
    case 'Slice': {
      // A 1-D slice of a partly symbolic shape (e.g. Shape(x)[0:2] = [batch, C]).
      const data = shapeValue(g, p.inputs[0]);
      const bound = (k: number) => (p.inputs[k] ? (g.constValue(p.inputs[k]) ?? foldConstant(g, p.inputs[k])) : undefined);
      const [starts, ends, axes, steps] = [bound(1), bound(2), bound(3), bound(4)];
      if (!data || !starts || !ends || (p.inputs[3] && !axes) || (p.inputs[4] && !steps)) return undefined;
      if ((axes && constNumbers(axes).some((a) => a !== 0 && a !== -1)) || (steps && constNumbers(steps)[0] !== 1)) return undefined;
      const [b, e] = clampSlice(constNumbers(starts)[0], constNumbers(ends)[0], 1, data.length);
      return data.slice(b, e);
    }
    case 'Gather': {
      const data = shapeValue(g, p.inputs[0]);
      const idx = g.constValue(p.inputs[1]);
      if (!data || !idx || attrInt(p, 'axis', 0) !== 0) return undefined;
      return constNumbers(idx).map((i) => data[i < 0 ? i + data.length : i]);
    }
    default:
      return undefined;
  }
}

let unknownCounter = 0;
/** A fresh symbolic dim for sizes that cannot be expressed statically. */
function unknownDim(): string {
  return `?${unknownCounter++}`;
}

function product(dims: readonly Dim[]): Dim {
  let n = 1;
  const syms: string[] = [];
  for (const d of dims) {
    if (typeof d === 'number') n *= d;
    else syms.push(d);
  }
  if (syms.length === 0) return n;
  if (syms.length === 1 && n === 1) return syms[0];
  return unknownDim();
}

/** Reshape's output shape, resolving 0 (copy) and -1 (infer) with symbolic dims. */
export function reshapeShape(node: Node, input: readonly Dim[], target: readonly Dim[], allowZero: boolean): Dim[] {
  const out: Dim[] = target.map((t, i) => (t === 0 && !allowZero ? input[i] : t));
  const minus = out.indexOf(-1);
  if (minus < 0) return out;
  let inNum = 1;
  let outNum = 1;
  const inSym: string[] = [];
  const outSym: string[] = [];
  for (const d of input) {
    if (typeof d === 'number') inNum *= d;
    else inSym.push(d);
  }
  out.forEach((d, i) => {
    if (i === minus) return;
    if (typeof d === 'number') outNum *= d;
    else outSym.push(d);
  });
  const rest = [...inSym];
  for (const s of outSym) {
    const k = rest.indexOf(s);
    if (k < 0) {
      out[minus] = unknownDim();
      return out;
    }
    rest.splice(k, 1);
  }
  if (outNum === 0 || inNum % outNum !== 0) {
    if (rest.length === 0) shapeError(node, `a shape compatible with ${fmtShape(input)}`, fmtShape(target));
    out[minus] = unknownDim();
    return out;
  }
  const ratio = inNum / outNum;
  if (rest.length === 0) out[minus] = ratio;
  else if (rest.length === 1 && ratio === 1) out[minus] = rest[0];
  else out[minus] = unknownDim();
  return out;
}

function axesInput(g: Graph, node: Node, index: number, attr = 'axes'): number[] | undefined {
  if (node.inputs[index]) return g.constInts(node.inputs[index], node, attr);
  return attrInts(node, attr);
}

const passGrad = (ctx: Parameters<NonNullable<OpDef['grad']>>[0]): (string | undefined)[] => {
  const dy = ctx.dy[0];
  const out: (string | undefined)[] = ctx.node.inputs.map(() => undefined);
  if (dy !== undefined && ctx.needs(0)) out[0] = reshapeLike(ctx.g, dy, ctx.node.inputs[0]);
  return out;
};

export const shapeOps: OpDef[] = [
  {
    op: 'Constant',
    constantOutput: true,
    infer(g, node) {
      const c = g.constValue(node.outputs[0]) ?? constantAttr(node);
      return [{ dtype: c.dtype, shape: [...c.dims] }];
    },
  },
  {
    op: 'Shape',
    constantOutput: true,
    infer(g, node) {
      const r = g.rank(node.inputs[0]);
      const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
      return [{ dtype: 'int64', shape: [Math.max(0, clamp(attrInt(node, 'end', r)) - clamp(attrInt(node, 'start', 0)))] }];
    },
  },
  {
    op: 'ConstantOfShape',
    constantOutput: true,
    infer(g, node) {
      const shape = shapeValue(g, node.inputs[0]);
      const len = g.shape(node.inputs[0])[0];
      const v = node.attrs.value;
      const dtype: DType = v && v.type === 'tensor' ? v.v.dtype : 'float32';
      return [{ dtype, shape: shape ?? Array.from({ length: typeof len === 'number' ? len : 0 }, unknownDim) }];
    },
  },
  {
    op: 'Reshape',
    infer(g, node) {
      const target = shapeValue(g, node.inputs[1]);
      if (!target) {
        const len = g.shape(node.inputs[1])[0];
        if (typeof len !== 'number') unsupported(node, 'a shape input of known length', 'a shape of unknown length');
        return [{ dtype: g.dtype(node.inputs[0]), shape: Array.from({ length: len }, unknownDim) }];
      }
      return [{ dtype: g.dtype(node.inputs[0]), shape: reshapeShape(node, g.shape(node.inputs[0]), target, attrInt(node, 'allowzero', 0) === 1) }];
    },
    grad: passGrad,
  },
  {
    op: 'Flatten',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const axis = attrInt(node, 'axis', 1);
      const a = axis < 0 ? axis + s.length : axis;
      if (a < 0 || a > s.length) shapeError(node, `axis in [-${s.length}, ${s.length}]`, String(axis));
      return [{ dtype: g.dtype(node.inputs[0]), shape: [product(s.slice(0, a)), product(s.slice(a))] }];
    },
    grad: passGrad,
  },
  {
    op: 'Squeeze',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const axes = axesInput(g, node, 1)?.map((a) => normAxis(node, a, s.length));
      const out = s.filter((d, i) => (axes ? !axes.includes(i) : d !== 1));
      return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
    },
    grad: passGrad,
  },
  {
    op: 'Unsqueeze',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const axesRaw = axesInput(g, node, 1);
      if (!axesRaw) unsupported(node, 'axes', 'none');
      const r = s.length + axesRaw.length;
      const axes = axesRaw.map((a) => normAxis(node, a, r));
      const out: Dim[] = [];
      let k = 0;
      for (let i = 0; i < r; i++) out.push(axes.includes(i) ? 1 : s[k++]);
      return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
    },
    grad: passGrad,
  },
  {
    op: 'Transpose',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const perm = attrInts(node, 'perm') ?? s.map((_, i) => s.length - 1 - i);
      if (perm.length !== s.length) shapeError(node, `perm of length ${s.length}`, `[${perm.join(',')}]`);
      return [{ dtype: g.dtype(node.inputs[0]), shape: perm.map((p) => s[p]) }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      const r = g.rank(node.inputs[0]);
      const perm = attrInts(node, 'perm') ?? Array.from({ length: r }, (_, i) => r - 1 - i);
      const inv = new Array<number>(r);
      perm.forEach((p, i) => {
        inv[p] = i;
      });
      return [g.op('Transpose', [dy], { perm: ints(inv) })];
    },
  },
  {
    op: 'Concat',
    infer(g, node) {
      const shapes = node.inputs.map((i) => g.shape(i));
      const r = shapes[0].length;
      const axis = normAxis(node, attrInt(node, 'axis', 0), r);
      const out = [...shapes[0]];
      const along = shapes.map((s) => s[axis]);
      out[axis] = along.every((d) => typeof d === 'number') ? (along as number[]).reduce((a, b) => a + b, 0) : along.length === 1 ? along[0] : unknownDim();
      return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined) return node.inputs.map(() => undefined);
      const axis = normAxis(node, attrInt(node, 'axis', 0), g.rank(dy));
      const sizes = node.inputs.map((i) => g.shape(i)[axis]);
      if (!isStatic(sizes)) unsupported(node, 'static sizes along the concatenation axis for differentiation', fmtShape(sizes));
      if (node.inputs.length === 1) return [ctx.needs(0) ? dy : undefined];
      const parts = g.add('Split', [dy, g.int64s(sizes)], { axis: int(axis) }, node.inputs.length);
      return parts.map((p, i) => (ctx.needs(i) ? p : undefined));
    },
  },
  {
    op: 'Split',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const axis = normAxis(node, attrInt(node, 'axis', 0), s.length);
      let sizes: Dim[] | undefined = axesInput(g, node, 1, 'split');
      if (!sizes) {
        const d = s[axis];
        const k = node.outputs.length;
        if (typeof d !== 'number') sizes = Array.from({ length: k }, unknownDim);
        else {
          const chunk = Math.ceil(d / k);
          sizes = Array.from({ length: k }, (_, i) => Math.max(0, Math.min(chunk, d - i * chunk)));
        }
      }
      return sizes.map((sz): OutInfo => {
        const out = [...s];
        out[axis] = sz;
        return { dtype: g.dtype(node.inputs[0]), shape: out };
      });
    },
    grad(ctx) {
      const { g, node } = ctx;
      if (!ctx.needs(0) || ctx.dy.every((d) => d === undefined)) return [undefined];
      const axis = normAxis(node, attrInt(node, 'axis', 0), g.rank(node.inputs[0]));
      const parts = node.outputs.map((o, i) => ctx.dy[i] ?? filled(g, o, 0));
      return [parts.length === 1 ? parts[0] : g.op('Concat', parts, { axis: int(axis) })];
    },
  },
  {
    op: 'Slice',
    infer(g, node) {
      const spec = sliceSpec(g, node);
      const s = g.shape(node.inputs[0]);
      const out = [...s];
      for (const { axis, start, end, step } of spec) {
        const d = s[axis];
        if (typeof d !== 'number') {
          out[axis] = start === 0 && end >= 2 ** 31 - 1 && step === 1 ? d : unknownDim();
          continue;
        }
        const [b, e] = clampSlice(start, end, step, d);
        out[axis] = step > 0 ? Math.max(0, Math.ceil((e - b) / step)) : Math.max(0, Math.ceil((b - e) / -step));
      }
      return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const none = node.inputs.map(() => undefined);
      if (dy === undefined || !ctx.needs(0)) return none;
      const s = g.shape(node.inputs[0]);
      const r = s.length;
      const spec = sliceSpec(g, node);
      for (const { axis, start, end } of spec) {
        if (typeof s[axis] !== 'number' && !(start === 0 && end >= 2 ** 31 - 1)) {
          unsupported(node, 'a static size along sliced axes for differentiation', `axis ${axis} of size ${s[axis]}`);
        }
      }
      const out: (string | undefined)[] = [...none];
      if (spec.every((a) => a.step === 1)) {
        // Contiguous: the gradient is dy padded with zeros back to the input's size.
        const pads = new Array<number>(2 * r).fill(0);
        for (const { axis, start, end, step } of spec) {
          const d = s[axis];
          if (typeof d !== 'number') continue;
          const [b, e] = clampSlice(start, end, step, d);
          pads[axis] = b;
          pads[axis + r] = d - Math.max(b, e);
        }
        out[0] = g.op('Pad', [dy, g.int64s(pads)], {});
        return out;
      }
      // Strided or reversed (x[:, ::2], flips): scatter each sliced axis through its 0/1 matrix.
      let dx = dy;
      for (const { axis, start, end, step } of spec) {
        const d = s[axis] as number;
        const [b, e] = clampSlice(start, end, step, d);
        const kept: number[] = [];
        if (step > 0) for (let k = b; k < e; k += step) kept.push(k);
        else for (let k = b; k > e; k += step) kept.push(k);
        dx = alongAxis(g, dx, axis, indexMatrix(kept, d));
      }
      out[0] = dx;
      return out;
    },
  },
  {
    op: 'Pad',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const pads = padsOf(g, node);
      return [
        {
          dtype: g.dtype(node.inputs[0]),
          shape: s.map((d, i) => (typeof d === 'number' ? d + pads[i] + pads[i + s.length] : pads[i] + pads[i + s.length] === 0 ? d : unknownDim())),
        },
      ];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const none = node.inputs.map(() => undefined);
      if (dy === undefined || !ctx.needs(0)) return none;
      const mode = String(node.attrs.mode?.v ?? 'constant');
      const s = g.shape(node.inputs[0]);
      const r = s.length;
      const pads = padsOf(g, node);
      if (pads.some((p) => p < 0)) unsupported(node, 'non-negative pads for differentiation', `[${pads.join(',')}]`);
      if (mode !== 'constant') {
        // reflect / edge / wrap: every output index reads one input index; add dy back through the
        // 0/1 matrix of that map, axis by axis.
        const source = PAD_SOURCES[mode] ?? unsupported(node, "Pad mode 'constant', 'reflect', 'edge' or 'wrap' for differentiation", mode);
        let dx = dy;
        for (let i = 0; i < r; i++) {
          if (pads[i] === 0 && pads[i + r] === 0) continue;
          const d = s[i];
          if (typeof d !== 'number') unsupported(node, 'a static size along padded axes for differentiation', `axis ${i} of size ${d}`);
          const reads = Array.from({ length: d + pads[i] + pads[i + r] }, (_, k) => source(k - pads[i], d));
          dx = alongAxis(g, dx, i, indexMatrix(reads, d));
        }
        const out: (string | undefined)[] = [...none];
        out[0] = dx;
        return out;
      }
      const axes: number[] = [];
      const starts: number[] = [];
      const ends: number[] = [];
      for (let i = 0; i < r; i++) {
        if (pads[i] === 0 && pads[i + r] === 0) continue;
        axes.push(i);
        starts.push(pads[i]);
        ends.push(-pads[i + r] || 2 ** 31 - 1);
      }
      const out: (string | undefined)[] = [...none];
      out[0] = axes.length === 0 ? dy : g.op('Slice', [dy, g.int64s(starts), g.int64s(ends), g.int64s(axes)]);
      return out;
    },
  },
  {
    op: 'Expand',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const target = shapeValue(g, node.inputs[1]);
      if (!target) unsupported(node, 'a target shape known before running', 'a computed shape');
      const r = Math.max(s.length, target.length);
      const out: Dim[] = [];
      for (let i = 0; i < r; i++) {
        const a = i - (r - s.length) >= 0 ? s[i - (r - s.length)] : 1;
        const b = i - (r - target.length) >= 0 ? target[i - (r - target.length)] : 1;
        out.push(a === 1 ? b : b === 1 ? a : a);
      }
      return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
    },
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined, undefined];
      return [reduceTo(ctx.g, dy, ctx.node.inputs[0]), undefined];
    },
  },
  {
    op: 'Gather',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const axis = normAxis(node, attrInt(node, 'axis', 0), s.length);
      const idx = g.shape(node.inputs[1]);
      return [{ dtype: g.dtype(node.inputs[0]), shape: [...s.slice(0, axis), ...idx, ...s.slice(axis + 1)] }];
    },
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined, undefined];
      return [gatherGrad(ctx.g, ctx.node, dy), undefined];
    },
  },
  {
    // PixelShuffle: [N, C b^2, H, W] -> [N, C, H b, W b] (DCR: channel (i b + j) C + c; CRD: c b^2 + i b + j).
    op: 'DepthToSpace',
    infer(g, node) {
      const [n, c, h, w] = spaceInfo(g, node);
      const b = attrInt(node, 'blocksize', 0);
      return [{ dtype: g.dtype(node.inputs[0]), shape: [n, c / (b * b), h * b, w * b] }];
    },
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      return [toDepth(ctx.g, ctx.node, dy)];
    },
  },
  {
    // [N, C, H, W] -> [N, C b^2, H / b, W / b], channel (i b + j) C + c (DCR order).
    op: 'SpaceToDepth',
    infer(g, node) {
      const [n, c, h, w] = spaceInfo(g, node);
      const b = attrInt(node, 'blocksize', 0);
      if (h % b !== 0 || w % b !== 0) shapeError(node, `height and width divisible by blocksize ${b}`, fmtShape(g.shape(node.inputs[0])));
      return [{ dtype: g.dtype(node.inputs[0]), shape: [n, c * b * b, h / b, w / b] }];
    },
    grad(ctx) {
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      const b = attrInt(ctx.node, 'blocksize', 0);
      return [ctx.g.op('DepthToSpace', [dy], { blocksize: int(b), mode: { type: 'string', v: 'DCR' } })];
    },
  },
  {
    op: 'Tile',
    infer(g, node) {
      const s = g.shape(node.inputs[0]);
      const repeats = g.constInts(node.inputs[1], node, 'repeats');
      if (repeats.length !== s.length) shapeError(node, `${s.length} repeats`, String(repeats.length));
      return [{ dtype: g.dtype(node.inputs[0]), shape: s.map((d, i) => (repeats[i] === 1 ? d : typeof d === 'number' ? d * repeats[i] : unknownDim())) }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined, undefined];
      // Tile lays the copies out as [r0, d0, r1, d1, ...]: sum over every r axis.
      const s = g.shape(node.inputs[0]);
      const repeats = g.constInts(node.inputs[1], node, 'repeats');
      if (s.filter((d) => typeof d !== 'number').length > 1 || s.some((d, i) => typeof d !== 'number' && repeats[i] !== 1)) {
        unsupported(node, 'Tile with at most one dynamic axis, not repeated, for differentiation', fmtShape(s));
      }
      const split = s.flatMap((d, i) => [repeats[i], typeof d === 'number' ? d : -1]);
      const summed = g.op('ReduceSum', [g.op('Reshape', [dy, g.int64s(split)]), g.int64s(s.map((_, i) => 2 * i))], { keepdims: int(0) });
      return [summed, undefined];
    },
  },
];

/** [N, C, H, W] of a DepthToSpace/SpaceToDepth input, with C, H, W static and a valid blocksize. */
function spaceInfo(g: Graph, node: Node): [Dim, number, number, number] {
  const s = g.shape(node.inputs[0]);
  const b = attrInt(node, 'blocksize', 0);
  if (s.length !== 4 || !isStatic(s.slice(1)) || b < 1)
    shapeError(node, 'an input [N, C, H, W] with static C, H, W and blocksize >= 1', `${fmtShape(s)}, blocksize ${b}`);
  const [n, c, h, w] = s as [Dim, number, number, number];
  if (node.op === 'DepthToSpace' && c % (b * b) !== 0) shapeError(node, `channels divisible by blocksize^2 = ${b * b}`, String(c));
  return [n, c, h, w];
}

/** The adjoint of DepthToSpace (either mode): dy [N, C, H b, W b] back to [N, C b^2, H, W]. */
function toDepth(g: Graph, node: Node, dy: string): string {
  const [, c0, h, w] = spaceInfo(g, node);
  const b = attrInt(node, 'blocksize', 0);
  const c = c0 / (b * b);
  // dy as [N, C, H, b, W, b] (row y = h b + i, column x = w b + j).
  const split = g.op('Reshape', [dy, g.int64s([-1, c, h, b, w, b])]);
  const crd = String(node.attrs.mode?.v ?? 'DCR') === 'CRD';
  // DCR: channel (i b + j) C + c -> [N, i, j, C, H, W]; CRD: c b^2 + i b + j -> [N, C, i, j, H, W].
  const moved = g.op('Transpose', [split], { perm: ints(crd ? [0, 1, 3, 5, 2, 4] : [0, 3, 5, 1, 2, 4]) });
  return g.op('Reshape', [moved, g.int64s([-1, c0, h, w])]);
}

/**
 * Gather's gradient scatters dy back, adding repeated indices: with dy as [P, K, Q] (before the
 * axis, the indices, after) and the one-hot matrix H [K, D] of the indices, dx = H^T dy as [P, D, Q].
 */
function gatherGrad(g: Graph, node: Node, dy: string): string {
  const [x, indices] = node.inputs;
  const s = g.shape(x);
  const axis = normAxis(node, attrInt(node, 'axis', 0), s.length);
  const depth = s[axis];
  const idxShape = g.shape(indices);
  const pre = s.slice(0, axis);
  const post = s.slice(axis + 1);
  const k = staticSize(idxShape);
  const q = staticSize(post);
  if (typeof depth !== 'number' || k === undefined || q === undefined || (staticSize(pre) === undefined && pre.length > 1)) {
    unsupported(node, 'static sizes along and after the gathered axis for differentiation', `data ${fmtShape(s)}, indices ${fmtShape(idxShape)}`);
  }
  const p = staticSize(pre) ?? -1;
  const flat = g.op('Reshape', [indices, g.int64s([k, 1])]);
  // Negative indices count from the end.
  const wrapped = g.op('Where', [g.op('Less', [flat, g.scalar(0, 'int64')]), g.op('Add', [flat, g.scalar(depth, 'int64')]), flat]);
  const positions = g.constant({ dtype: 'int64', dims: [1, depth], data: BigInt64Array.from({ length: depth }, (_, i) => BigInt(i)) }, 'positions');
  const oneHotT = g.op('Transpose', [g.op('Cast', [g.op('Equal', [wrapped, positions])], { to: int(1) })], { perm: ints([1, 0]) });
  const dx = g.op('MatMul', [oneHotT, g.op('Reshape', [dy, g.int64s([p, k, q])])]);
  return reshapeLike(g, dx, x);
}

/** Pad modes other than 'constant': the input index output index j (relative to the input's start) reads. */
const PAD_SOURCES: Record<string, (j: number, d: number) => number> = {
  // numpy 'reflect' (edge not repeated): -1 -> 1, d -> d - 2.
  reflect: (j, d) => {
    const period = 2 * (d - 1);
    if (period === 0) return 0;
    const m = ((j % period) + period) % period;
    return m < d ? m : period - m;
  },
  edge: (j, d) => Math.min(Math.max(j, 0), d - 1),
  wrap: (j, d) => ((j % d) + d) % d,
};

/** The [out, in] 0/1 matrix (float32) whose row k has its 1 at column reads[k]. */
function indexMatrix(reads: number[], inSize: number): AxisMatrix {
  const data = new Float32Array(reads.length * inSize);
  reads.forEach((c, k) => {
    data[k * inSize + c] = 1;
  });
  return { data, out: reads.length, in: inSize };
}

function constantAttr(node: Node) {
  const a = node.attrs.value;
  if (a && a.type === 'tensor') return a.v;
  return unsupported(node, 'a Constant with a tensor value', Object.keys(node.attrs).join(',') || 'no value');
}

interface SliceAxis {
  axis: number;
  start: number;
  end: number;
  step: number;
}

function sliceSpec(g: Graph, node: Node): SliceAxis[] {
  const r = g.rank(node.inputs[0]);
  const starts = g.constInts(node.inputs[1], node, 'starts');
  const ends = g.constInts(node.inputs[2], node, 'ends');
  const axes = node.inputs[3] ? g.constInts(node.inputs[3], node, 'axes') : starts.map((_, i) => i);
  const steps = node.inputs[4] ? g.constInts(node.inputs[4], node, 'steps') : starts.map(() => 1);
  return starts.map((start, i) => ({ axis: normAxis(node, axes[i], r), start, end: ends[i], step: steps[i] }));
}

function clampSlice(start: number, end: number, step: number, d: number): [number, number] {
  let b = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    b = Math.min(Math.max(b, 0), d);
    e = Math.min(Math.max(e, 0), d);
  } else {
    b = Math.min(Math.max(b, -1), d - 1);
    e = Math.min(Math.max(e, -1), d - 1);
  }
  return [b, e];
}

function padsOf(g: Graph, node: Node): number[] {
  const r = g.rank(node.inputs[0]);
  const pads = node.inputs[1] ? g.constInts(node.inputs[1], node, 'pads') : attrInts(node, 'pads', []);
  if (node.inputs[3]) {
    const axes = g.constInts(node.inputs[3], node, 'axes').map((a) => normAxis(node, a, r));
    const full = new Array<number>(2 * r).fill(0);
    axes.forEach((a, i) => {
      full[a] = pads[i];
      full[a + r] = pads[i + axes.length];
    });
    return full;
  }
  if (pads.length !== 2 * r) shapeError(node, `${2 * r} pads`, String(pads.length));
  return pads;
}
