/**
 * Reverse-mode differentiation of an ONNX graph. The backward pass is emitted as ordinary ONNX
 * nodes appended to the same graph, so one graph computes values and gradients in a single run,
 * and the emitted gradient graph can itself be differentiated again (e.g. for gradient penalties).
 */
import { type Graph, type Node, readersOf } from './graph.js';
import { opDef } from './ops/registry.js';
import { addGrads, filled, unsupported } from './ops/util.js';

/**
 * Append the gradient computation to `g`. `seeds` maps output values to the names of their
 * incoming gradients (same shape); the result maps each `wrt` value to the name of the value
 * holding d(sum_k <seed_k, output_k>)/d(wrt). Values not connected to any seeded output get zeros.
 */
export function differentiate(g: Graph, seeds: Record<string, string>, wrt: string[]): Map<string, string> {
  return differentiateReached(g, seeds, wrt).grads;
}

/**
 * `differentiate`, also saying which `wrt` values the seeded outputs reach through differentiable
 * inputs (the others get zeros in `grads`).
 */
export function differentiateReached(g: Graph, seeds: Record<string, string>, wrt: string[]): { grads: Map<string, string>; reached: Set<string> } {
  const forward = new Set(wrt);
  for (const node of g.nodes) {
    if (node.inputs.some((i) => i !== '' && forward.has(i)) && !opDef(node).constantOutput) {
      for (const o of node.outputs) if (o !== '') forward.add(o);
    }
  }
  const grads = new Map<string, string>(Object.entries(seeds));
  const nodes = g.nodes.slice();
  // The forward graph's readers of each value (built when a rule first asks).
  let readers: Map<string, Node[]> | undefined;
  const soleReader = (value: string): Node | undefined => {
    if (value in seeds || g.outputs.includes(value)) return undefined;
    readers ??= readersOf(nodes);
    const r = readers.get(value);
    return r?.length === 1 ? r[0] : undefined;
  };
  const gradOf = (value: string) => grads.get(value);
  for (let k = nodes.length - 1; k >= 0; k--) {
    const node = nodes[k];
    const dy = node.outputs.map((o) => (o === '' ? undefined : grads.get(o)));
    if (dy.every((d) => d === undefined)) continue;
    if (!node.inputs.some((i) => i !== '' && forward.has(i))) continue;
    const def = opDef(node);
    if (def.constantOutput) continue;
    if (!def.grad) unsupported(node, 'an operator with a gradient rule', `operator ${node.op}`);
    const dx = def.grad({
      g,
      node,
      dy,
      needs: (i) => node.inputs[i] !== undefined && node.inputs[i] !== '' && forward.has(node.inputs[i]),
      soleReader,
      gradOf,
    });
    node.inputs.forEach((inp, i) => {
      const d = dx[i];
      if (d === undefined || inp === '' || !forward.has(inp)) return;
      const sum = addGrads(g, grads.get(inp), d);
      if (sum !== undefined) grads.set(inp, sum);
    });
  }
  const out = new Map<string, string>();
  const reached = new Set<string>();
  for (const w of wrt) {
    const d = grads.get(w);
    if (d !== undefined) reached.add(w);
    out.set(w, d ?? filled(g, w, 0));
  }
  return { grads: out, reached };
}

/** Gradient seed of ones with the shape of `output` (d sum(output)). */
export function onesLike(g: Graph, output: string): string {
  return filled(g, output, 1);
}
