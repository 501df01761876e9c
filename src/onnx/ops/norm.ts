/**
 * Normalisations over the sample's own statistics: LayerNormalization, InstanceNormalization,
 * GroupNormalization (PyTorch exports GroupNorm as Reshape + InstanceNormalization up to opset 17).
 * Their gradients recompute the statistics, then apply the usual formula
 * dx = inv * (dxhat - mean(dxhat) - xhat * mean(dxhat * xhat)) over the normalised axes.
 */
import { attrFloat, attrInt, int, type Dim, type Graph, type Node } from '../graph.js';
import type { GradCtx, OpDef, OutInfo } from './types.js';
import { fmtShape, normAxis, reduceTo, reshapeLike, shapeError, unsupported } from './util.js';

function mean(g: Graph, x: string, axes: number[]): string {
  if (g.opset >= 18) return g.op('ReduceMean', [x, g.int64s(axes)], { keepdims: int(1) });
  return g.op('ReduceMean', [x], { axes: { type: 'ints', v: axes }, keepdims: int(1) });
}

/** Normalised input and 1/std over `axes` (kept), recomputed from x. */
function standardise(g: Graph, x: string, axes: number[], eps: number): { xhat: string; inv: string } {
  const xc = g.op('Sub', [x, mean(g, x, axes)]);
  const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [mean(g, g.op('Mul', [xc, xc]), axes), g.scalar(eps)])])]);
  return { xhat: g.op('Mul', [xc, inv]), inv };
}

/** Gradient of x -> xhat = (x - mean) / std over `axes`, given the gradient dxhat. */
function standardiseGrad(g: Graph, xhat: string, inv: string, dxhat: string, axes: number[]): string {
  const centred = g.op('Sub', [dxhat, mean(g, dxhat, axes)]);
  const along = g.op('Mul', [xhat, mean(g, g.op('Mul', [dxhat, xhat]), axes)]);
  return g.op('Mul', [inv, g.op('Sub', [centred, along])]);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** [C] -> [C, 1, ..., 1] to broadcast over [N, C, ...]. */
function perChannel(g: Graph, v: string, rank: number): string {
  return g.op('Reshape', [v, g.int64s([-1, ...new Array<number>(rank - 2).fill(1)])]);
}

function noStatisticsGrad(ctx: GradCtx): void {
  if (ctx.dy.slice(1).some((d) => d !== undefined)) {
    unsupported(ctx.node, `${ctx.node.op} whose mean and inverse standard deviation outputs need no gradient`, 'a gradient through them');
  }
}

const layerNorm: OpDef = {
  op: 'LayerNormalization',
  infer(g, node) {
    const x = node.inputs[0];
    const s = g.shape(x);
    const axis = normAxis(node, attrInt(node, 'axis', -1), s.length);
    const stats: Dim[] = s.map((d, i) => (i < axis ? d : 1));
    const out: OutInfo[] = [{ dtype: g.dtype(x), shape: [...s] }];
    for (let k = 1; k < node.outputs.length; k++) out.push({ dtype: 'float32', shape: [...stats] });
    return out;
  },
  grad(ctx) {
    const { g, node } = ctx;
    noStatisticsGrad(ctx);
    const dy = ctx.dy[0];
    const [x, scale, bias] = node.inputs;
    if (dy === undefined) return node.inputs.map(() => undefined);
    const r = g.rank(x);
    const axes = range(normAxis(node, attrInt(node, 'axis', -1), r), r);
    const { xhat, inv } = standardise(g, x, axes, attrFloat(node, 'epsilon', 1e-5));
    return [
      ctx.needs(0) ? standardiseGrad(g, xhat, inv, g.op('Mul', [dy, scale]), axes) : undefined,
      ctx.needs(1) ? reduceTo(g, g.op('Mul', [dy, xhat]), scale) : undefined,
      bias && ctx.needs(2) ? reduceTo(g, dy, bias) : undefined,
    ];
  },
};

const instanceNorm: OpDef = {
  op: 'InstanceNormalization',
  infer(g, node) {
    const s = g.shape(node.inputs[0]);
    if (s.length < 3) shapeError(node, 'an input [N, C, D1, ...]', fmtShape(s));
    return [{ dtype: g.dtype(node.inputs[0]), shape: [...s] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    const [x, scale] = node.inputs;
    if (dy === undefined) return [undefined, undefined, undefined];
    const r = g.rank(x);
    const axes = range(2, r);
    const { xhat, inv } = standardise(g, x, axes, attrFloat(node, 'epsilon', 1e-5));
    const channelSum = (v: string) => g.op('ReduceSum', [v, g.int64s([0, ...axes])], { keepdims: int(0) });
    return [
      ctx.needs(0) ? standardiseGrad(g, xhat, inv, g.op('Mul', [dy, perChannel(g, scale, r)]), axes) : undefined,
      ctx.needs(1) ? channelSum(g.op('Mul', [dy, xhat])) : undefined,
      ctx.needs(2) ? channelSum(dy) : undefined,
    ];
  },
};

/** Opset 18 scales and shifts per group, opset 21 per channel. */
function groupInfo(g: Graph, node: Node) {
  const x = node.inputs[0];
  const s = g.shape(x);
  const groups = attrInt(node, 'num_groups', 0);
  const c = s[1];
  if (s.length < 3 || typeof c !== 'number' || groups < 1 || c % groups !== 0) {
    shapeError(node, 'an input [N, C, D1, ...] with a static C divisible by num_groups', `${fmtShape(s)} with num_groups ${groups}`);
  }
  return { x, c, groups, perGroup: g.opset < 21 };
}

const groupNorm: OpDef = {
  op: 'GroupNormalization',
  infer(g, node) {
    groupInfo(g, node);
    return [{ dtype: g.dtype(node.inputs[0]), shape: [...g.shape(node.inputs[0])] }];
  },
  grad(ctx) {
    const { g, node } = ctx;
    const dy = ctx.dy[0];
    if (dy === undefined) return [undefined, undefined, undefined];
    const { x, c, groups, perGroup } = groupInfo(g, node);
    const r = g.rank(x);
    const scale = node.inputs[1];
    // Channel-wise scale ([C, 1, ...]); per-group scales repeated over their channels.
    const channelScale = perGroup
      ? g.op('Reshape', [g.op('Expand', [g.op('Reshape', [scale, g.int64s([groups, 1])]), g.int64s([groups, c / groups])]), g.int64s([c])])
      : scale;
    const grouped = (v: string) => g.op('Reshape', [v, g.int64s([0, groups, -1])]);
    const { xhat, inv } = standardise(g, grouped(x), [2], attrFloat(node, 'epsilon', 1e-5));
    const xhatFull = reshapeLike(g, xhat, x);
    const channelSum = (v: string) => {
      const perC = g.op('ReduceSum', [v, g.int64s([0, ...range(2, r)])], { keepdims: int(0) });
      return perGroup ? g.op('ReduceSum', [g.op('Reshape', [perC, g.int64s([groups, -1])]), g.int64s([1])], { keepdims: int(0) }) : perC;
    };
    let dx: string | undefined;
    if (ctx.needs(0)) {
      const dxhat = grouped(g.op('Mul', [dy, perChannel(g, channelScale, r)]));
      dx = reshapeLike(g, standardiseGrad(g, xhat, inv, dxhat, [2]), x);
    }
    return [dx, ctx.needs(1) ? channelSum(g.op('Mul', [dy, xhatFull])) : undefined, ctx.needs(2) ? channelSum(dy) : undefined];
  },
};

export const normOps: OpDef[] = [layerNorm, instanceNorm, groupNorm];
