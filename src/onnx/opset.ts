/**
 * Opset conversion of nodes, so that models exported at different opsets (11 to 21) meet in one
 * graph: attributes that later opsets turned into inputs (axes of Squeeze, Unsqueeze and the
 * reductions, Split's sizes) become constant inputs, and opset-11/12 Softmax is checked to mean
 * what opset 13 means. Only upgrades: a graph is always raised to the higher opset.
 */
import { attrInt, attrInts, type Graph, type Node } from './graph.js';
import { normAxis, unsupported } from './ops/util.js';

/** Opset from which each operator takes `axes` as an input instead of an attribute. */
const AXES_INPUT_SINCE: Record<string, number> = {
  Squeeze: 13,
  Unsqueeze: 13,
  ReduceSum: 13,
  ReduceMean: 18,
  ReduceMax: 18,
  ReduceMin: 18,
  ReduceProd: 18,
  ReduceL1: 18,
  ReduceL2: 18,
  ReduceLogSum: 18,
  ReduceLogSumExp: 18,
  ReduceSumSquare: 18,
};

/** Move attribute `name` to input position `at` as an int64 constant (absent attribute: nothing). */
function attrToInput(g: Graph, node: Node, name: string, at: number): void {
  const v = attrInts(node, name);
  delete node.attrs[name];
  if (v === undefined) return;
  while (node.inputs.length < at) node.inputs.push('');
  node.inputs[at] = g.int64s(v);
}

/**
 * Rewrite `node` (in place; its inputs must already be in `g`) from opset `from` to opset `to`.
 * Constants it needs are added to `g`.
 */
export function upgradeNode(g: Graph, node: Node, from: number, to: number): void {
  if (from >= to || (node.domain !== '' && node.domain !== 'ai.onnx')) return;
  const since = AXES_INPUT_SINCE[node.op];
  if (since !== undefined && from < since && since <= to) attrToInput(g, node, 'axes', 1);
  if (from >= 13 || to < 13) return;
  switch (node.op) {
    case 'Split':
      attrToInput(g, node, 'split', 1);
      break;
    case 'Softmax':
    case 'LogSoftmax':
    case 'Hardmax': {
      // Before opset 13 these flatten the input to 2-D at `axis` (default 1); the same as opset 13's
      // per-axis operator only when `axis` is the last one, as PyTorch exports them.
      const r = g.rank(node.inputs[0]);
      const axis = normAxis(node, attrInt(node, 'axis', 1), r);
      if (axis !== r - 1) unsupported(node, `${node.op} over the last axis (opset ${from} flattens at axis)`, `axis ${axis} of rank ${r}`);
      node.attrs.axis = { type: 'int', v: -1 };
      break;
    }
    case 'Dropout':
      delete node.attrs.ratio;
      break;
  }
}

/** Raise every node of `g` to opset `to` (in place). */
export function upgradeGraph(g: Graph, to: number): void {
  if (g.opset >= to) return;
  for (const n of g.nodes) upgradeNode(g, n, g.opset, to);
  g.opset = to;
}
