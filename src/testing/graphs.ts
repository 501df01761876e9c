/** Running graphs whole in tests of graph rewrites: every output, and an input gradient added to a graph. */
import { differentiate } from '../onnx/autodiff.js';
import type { Graph } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Session } from '../onnx/session.js';

/**
 * Every output of `g`, in order, run as encoded (a one-thread session over the graph's own bytes,
 * not the compiled graph a Session would build from a Graph: the rewrite under test alone).
 */
export async function graphOutputs(g: Graph, feeds: Record<string, { data: Float32Array; shape: number[] }>): Promise<Float32Array[]> {
  const s = await Session.create(encodeGraph(g), { threads: 1 });
  const out = await s.run(feeds);
  await s.release();
  return g.outputs.map((o) => out[o].data);
}

/** `g` (changed) with the gradient of sum(y * r), y its first output, with respect to its first input as a second output. */
export function withInputGradient(g: Graph, r: Float32Array): Graph {
  const [y] = g.outputs;
  const x = g.inputs[0].name;
  const rv = g.float32(r, (g.shape(y) as number[]).slice(1));
  g.outputs = [y, differentiate(g, { [y]: g.op('Expand', [rv, g.shapeOf(y)]) }, [x]).get(x)!];
  return g;
}
