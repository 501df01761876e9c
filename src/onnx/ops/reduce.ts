/** Reductions and normalisations: ReduceSum, ReduceMean, Softmax, LogSoftmax, BatchNormalization. */
import { attrFloat, attrInt, attrInts, int, ints, type Dim, type Graph, type Node } from '../graph.js';
import type { GradCtx, OpDef } from './types.js';
import { normAxis, staticSize, unsupported } from './util.js';

function reduceAxes(g: Graph, node: Node): number[] {
  const r = g.rank(node.inputs[0]);
  const fromInput = node.op === 'ReduceSum' || g.opset >= 18;
  let axes = fromInput && node.inputs[1] ? g.constInts(node.inputs[1], node, 'axes') : attrInts(node, 'axes');
  if (!axes || axes.length === 0) {
    if (attrInt(node, 'noop_with_empty_axes', 0) === 1) return [];
    axes = Array.from({ length: r }, (_, i) => i);
  }
  return axes.map((a) => normAxis(node, a, r)).sort((a, b) => a - b);
}

function reduceInfer(g: Graph, node: Node) {
  const s = g.shape(node.inputs[0]);
  const axes = reduceAxes(g, node);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const out: Dim[] = [];
  s.forEach((d, i) => {
    if (!axes.includes(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return [{ dtype: g.dtype(node.inputs[0]), shape: out }];
}

/**
 * The softmax gradient's row sums sum_j dP_ij P_ij, for attention weights P = softmax(S) over the
 * last axis whose only use is a product with values V: O = P V (P on the left) or O = V P^T (P
 * transposed on the right, SAGAN's layout). There, sum_j dP_ij P_ij = sum_c dO_ic O_ic (or
 * sum_c dO_ci O_ci): a product and a sum over the [.., i, c] output instead of the [.., i, j]
 * map (256 x 256 per image at 16 x 16 against 64 channels in the SAGAN fixture), the same value
 * up to rounding. Undefined where the pattern does not hold (the plain rule applies).
 */
function attentionRowDot(ctx: GradCtx, p: string, axis: number): string | undefined {
  const { g } = ctx;
  const r = g.rank(p);
  if (r < 2 || axis !== r - 1) return undefined;
  // The permutation that swaps the last two axes.
  const swap = Array.from({ length: r }, (_, i) => (i < r - 2 ? i : 2 * r - 3 - i));
  let reader = ctx.soleReader(p);
  let transposed = false;
  if (reader?.op === 'Transpose') {
    const perm = attrInts(reader, 'perm');
    if (!perm || perm.join() !== swap.join()) return undefined;
    const pt = reader.outputs[0];
    reader = ctx.soleReader(pt);
    if (reader?.op !== 'MatMul' || reader.inputs[1] !== pt || reader.inputs[0] === pt) return undefined;
    transposed = true;
  } else if (reader?.op !== 'MatMul' || reader.inputs[0] !== p || reader.inputs[1] === p) return undefined;
  const o = reader.outputs[0];
  const dO = ctx.gradOf(o);
  // O has P's batch axes (broadcasting V's would sum over them).
  const [so, sp] = [g.shape(o), g.shape(p)];
  if (dO === undefined || so.length !== r || so.slice(0, r - 2).some((d, i) => d !== sp[i])) return undefined;
  const sum = g.op('ReduceSum', [g.op('Mul', [dO, o]), g.int64s([transposed ? r - 2 : r - 1])], { keepdims: int(1) });
  return transposed ? g.op('Transpose', [sum], { perm: ints(swap) }) : sum;
}

/** Broadcast a reduction's output gradient back over the reduced axes. */
function spread(ctx: GradCtx): string | undefined {
  const { g, node } = ctx;
  const dy = ctx.dy[0];
  if (dy === undefined || !ctx.needs(0)) return undefined;
  const axes = reduceAxes(g, node);
  const keep = attrInt(node, 'keepdims', 1) === 1;
  const kept = keep || axes.length === 0 ? dy : g.op('Unsqueeze', [dy, g.int64s(axes)]);
  return g.op('Expand', [kept, g.shapeOf(node.inputs[0])]);
}

/** The reduction's output with the reduced axes kept (size 1), so it broadcasts against the input. */
function keptOutput(g: Graph, node: Node): string {
  const axes = reduceAxes(g, node);
  const y = node.outputs[0];
  return attrInt(node, 'keepdims', 1) === 1 || axes.length === 0 ? y : g.op('Unsqueeze', [y, g.int64s(axes)]);
}

/** A reduction whose local derivative is `slope(x, y)` (y with the reduced axes kept). */
function reduction(op: string, slope: (g: Graph, x: string, y: string) => string): OpDef {
  return {
    op,
    infer: reduceInfer,
    grad(ctx) {
      const d = spread(ctx);
      if (d === undefined) return [undefined, undefined];
      return [ctx.g.op('Mul', [d, slope(ctx.g, ctx.node.inputs[0], keptOutput(ctx.g, ctx.node))]), undefined];
    },
  };
}

function extremumGrad(ctx: GradCtx): (string | undefined)[] {
  const { g, node } = ctx;
  const d = spread(ctx);
  if (d === undefined) return [undefined, undefined];
  const x = node.inputs[0];
  const hit = g.op('Cast', [g.op('Equal', [x, keptOutput(g, node)])], { to: int(1) });
  const axes = reduceAxes(g, node);
  const count = axes.length === 0 ? undefined : g.op('ReduceSum', [hit, g.int64s(axes)], { keepdims: int(1) });
  const share = count === undefined ? hit : g.op('Div', [hit, count]);
  return [g.op('Mul', [d, share]), undefined];
}

function reducedCount(g: Graph, node: Node): string {
  const s = g.shape(node.inputs[0]);
  const axes = reduceAxes(g, node);
  const n = staticSize(axes.map((a) => s[a]));
  if (n !== undefined) return g.scalar(1 / n);
  // Cast before dividing: Size is int64, and 1/256 in integers is 0.
  const size = (v: string) => g.op('Cast', [g.op('Size', [v])], { to: int(1) });
  return g.op('Div', [size(node.outputs[0]), size(node.inputs[0])]);
}

export const reduceOps: OpDef[] = [
  {
    op: 'ReduceSum',
    infer: reduceInfer,
    grad: (ctx) => [spread(ctx), undefined],
  },
  {
    op: 'ReduceMean',
    infer: reduceInfer,
    grad(ctx) {
      const d = spread(ctx);
      return [d === undefined ? undefined : ctx.g.op('Mul', [d, reducedCount(ctx.g, ctx.node)]), undefined];
    },
  },
  // Max/Min: the gradient is shared equally between the entries that attain the extremum (as
  // PyTorch's amax/amin do).
  { op: 'ReduceMax', infer: reduceInfer, grad: extremumGrad },
  { op: 'ReduceMin', infer: reduceInfer, grad: extremumGrad },
  // d/dx log sum exp x = exp(x - y).
  reduction('ReduceLogSumExp', (g, x, y) => g.op('Exp', [g.op('Sub', [x, y])])),
  // d/dx log sum x = 1 / sum x = exp(-y).
  reduction('ReduceLogSum', (g, _x, y) => g.op('Exp', [g.op('Neg', [y])])),
  reduction('ReduceSumSquare', (g, x) => g.op('Mul', [x, g.scalar(2)])),
  // d/dx |x|_2 = x / |x|_2.
  reduction('ReduceL2', (g, x, y) => g.op('Div', [x, y])),
  reduction('ReduceL1', (g, x) => g.op('Sign', [x])),
  { op: 'Size', infer: () => [{ dtype: 'int64', shape: [] }], constantOutput: true },
  // Forward only: no gradient rule, so differentiating through TopK's values is refused (the
  // metrics' k-NN selects neighbours with it inside onnxruntime).
  {
    op: 'TopK',
    infer(g, node) {
      const shape = [...g.shape(node.inputs[0])];
      const axis = normAxis(node, attrInt(node, 'axis', -1), shape.length);
      const k = g.constValue(node.inputs[1]);
      shape[axis] = k ? Number(k.data[0]) : `${node.outputs[0]}_k`;
      return [
        { dtype: g.dtype(node.inputs[0]), shape },
        { dtype: 'int64', shape: [...shape] },
      ];
    },
  },
  {
    op: 'Softmax',
    infer: (g, node) => [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }],
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      const y = node.outputs[0];
      const axis = normAxis(node, attrInt(node, 'axis', -1), g.rank(y));
      const dot = attentionRowDot(ctx, y, axis) ?? g.op('ReduceSum', [g.op('Mul', [dy, y]), g.int64s([axis])], { keepdims: int(1) });
      return [g.op('Mul', [y, g.op('Sub', [dy, dot])])];
    },
  },
  {
    op: 'LogSoftmax',
    infer: (g, node) => [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }],
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      if (dy === undefined || !ctx.needs(0)) return [undefined];
      const y = node.outputs[0];
      const axis = normAxis(node, attrInt(node, 'axis', -1), g.rank(y));
      const total = g.op('ReduceSum', [dy, g.int64s([axis])], { keepdims: int(1) });
      return [g.op('Sub', [dy, g.op('Mul', [g.op('Exp', [y]), total])])];
    },
  },
  {
    op: 'BatchNormalization',
    infer(g, node) {
      if (attrInt(node, 'training_mode', 0) !== 0 || node.outputs.filter((o) => o !== '').length > 1) {
        unsupported(node, 'BatchNormalization in inference mode (export the model in eval mode)', 'training mode');
      }
      return [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }];
    },
    grad(ctx) {
      const { g, node } = ctx;
      const dy = ctx.dy[0];
      const [x, scale, bias, mean, variance] = node.inputs;
      const none = node.inputs.map(() => undefined);
      if (dy === undefined) return none;
      if (ctx.needs(3) || ctx.needs(4)) unsupported(node, 'running statistics that need no gradient', 'a gradient through mean/var');
      const eps = attrFloat(node, 'epsilon', 1e-5);
      const r = g.rank(x);
      const c = g.shape(x)[1];
      const bshape = [c, ...new Array<number>(Math.max(0, r - 2)).fill(1)];
      // inv = 1 / sqrt(var + eps), folded to a constant when the statistics are constants.
      const sc = g.constValue(scale);
      const vc = g.constValue(variance);
      const asCol = (v: string) => g.op('Reshape', [v, g.int64s(bshape.map((d) => (typeof d === 'number' ? d : -1)))]);
      let factor: string;
      let inv: string | undefined;
      if (sc && vc && !ctx.needs(1) && typeof c === 'number') {
        const f = new Float32Array(c);
        for (let i = 0; i < c; i++) f[i] = Number(sc.data[i]) / Math.sqrt(Number(vc.data[i]) + eps);
        factor = g.float32(f, bshape as number[]);
      } else {
        inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)])])]);
        factor = asCol(g.op('Mul', [scale, inv]));
      }
      const out: (string | undefined)[] = [...none];
      if (ctx.needs(0)) out[0] = g.op('Mul', [dy, factor]);
      const sumAxes = g.int64s([0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)]);
      if (ctx.needs(1)) {
        const invCol = asCol(inv ?? g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(eps)])])]));
        const xhat = g.op('Mul', [g.op('Sub', [x, asCol(mean)]), invCol]);
        out[1] = g.op('ReduceSum', [g.op('Mul', [dy, xhat]), sumAxes], { keepdims: int(0) });
      }
      if (ctx.needs(2)) out[2] = g.op('ReduceSum', [dy, sumAxes], { keepdims: int(0) });
      void bias;
      return out;
    },
  },
];
