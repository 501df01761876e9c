/**
 * The one contract between models and methods: logRatio(x), the discriminator's estimate of
 * log p_data(x) / p_g(x), as a [batch] value appended to a graph.
 */
import { inline } from '../onnx/compose.js';
import { type Graph, int } from '../onnx/graph.js';
import type { DOutput } from '../models/meta.js';

/**
 * Append D on `x` to `g` and return the name of logRatio [batch]. `feeds` wires D's other inputs
 * (e.g. its weights, when they are fed rather than constant).
 */
export function appendLogRatio(g: Graph, discriminator: Graph, x: string, dOutput: DOutput, prefix = 'd/', feeds: Record<string, string> = {}): string {
  const out = inline(g, discriminator, prefix, { ...feeds, [discriminator.inputs[0].name]: x })[discriminator.outputs[0]];
  const flat = g.rank(out) === 2 ? g.op('Squeeze', [out, g.int64s([1])]) : out;
  if (dOutput !== 'probability') return flat;
  // logit = log p - log(1 - p), with p kept inside (0, 1) so a saturated D gives a finite ratio.
  const p = g.op('Clip', [flat, g.scalar(1e-7), g.scalar(1 - 1e-7)]);
  return g.op('Sub', [g.op('Log', [p]), g.op('Log', [g.op('Sub', [g.scalar(1), p])])]);
}

/** 0.5 |z|^2 per row of a [batch, d] value (the standard normal's energy up to a constant). */
export function halfSquaredNorm(g: Graph, z: string): string {
  const sq = g.op('ReduceSum', [g.op('Mul', [z, z]), g.int64s([1])], { keepdims: int(0) });
  return g.op('Mul', [sq, g.scalar(0.5)]);
}
