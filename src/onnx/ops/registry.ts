/** All operators Refinery can shape-infer and differentiate. */
import type { Graph, Node } from '../graph.js';
import { convOps } from './conv.js';
import { elementwiseOps } from './elementwise.js';
import { linearOps } from './linear.js';
import { normOps } from './norm.js';
import { reduceOps } from './reduce.js';
import { resizeOps } from './resize.js';
import { shapeOps } from './shape.js';
import type { OpDef, OutInfo } from './types.js';
import { unsupported } from './util.js';

let table: Map<string, OpDef> | undefined;

function defs(): Map<string, OpDef> {
  if (!table) {
    table = new Map();
    for (const d of [...elementwiseOps, ...linearOps, ...shapeOps, ...convOps, ...resizeOps, ...reduceOps, ...normOps]) table.set(d.op, d);
  }
  return table;
}

export function supportedOps(): string[] {
  return [...defs().keys()].sort();
}

export function opDef(node: Node): OpDef {
  if (node.domain !== '' && node.domain !== 'ai.onnx') {
    unsupported(node, 'an operator of the default ONNX domain', `domain '${node.domain}'`);
  }
  const d = defs().get(node.op);
  if (!d) unsupported(node, `a supported operator (${supportedOps().join(', ')})`, `operator ${node.op}`);
  return d;
}

export function inferNode(g: Graph, node: Node): OutInfo[] {
  return opDef(node).infer(g, node);
}
