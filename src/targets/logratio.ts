/**
 * The one contract between models and methods: logRatio(x), the discriminator's estimate of
 * log p_data(x) / p_g(x), as a [batch] value appended to a graph.
 */
import { inline } from '../onnx/compose.js';
import { Graph, int, ints } from '../onnx/graph.js';
import type { DOutput, LatentPrior } from '../models/meta.js';
import { discriminatorGraph, generatorGraph, type ModelPair } from '../models/pair.js';
import { NONPARAMETRIC_PRIOR } from '../models/prior.js';

/** Append G on the latents `z` [batch, latentDim] to `g` and return the name of its samples x. */
export function appendGenerator(g: Graph, pair: Pick<ModelPair, 'generator'>, z: string): string {
  const generator = generatorGraph(pair);
  return inline(g, generator, 'g/', { [generator.inputs[0].name]: z })[generator.outputs[0]];
}

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

/** A graph over latents: its input z [batch, latentDim], x = G(z) and logRatio(x) [batch] (D on x). */
export interface LatentLogRatio {
  g: Graph;
  z: string;
  x: string;
  logRatio: string;
}

/** A new graph with input z, G on z and D on G's samples: the start of every latent-space target. */
export function latentLogRatio(pair: Pick<ModelPair, 'generator' | 'discriminator' | 'meta'>): LatentLogRatio {
  const g = new Graph();
  const z = g.addInput('z', 'float32', ['batch', pair.meta.latentDim]);
  const x = appendGenerator(g, pair, z);
  return { g, z, x, logRatio: appendLogRatio(g, discriminatorGraph(pair), x, pair.meta.dOutput) };
}

/** 0.5 |z|^2 per row of a [batch, d] value (the standard normal's energy up to a constant). */
export function halfSquaredNorm(g: Graph, z: string): string {
  const sq = g.op('ReduceSum', [g.op('Mul', [z, z]), g.int64s([1])], { keepdims: int(0) });
  return g.op('Mul', [sq, g.scalar(0.5)]);
}

/**
 * -log p0(z) per row of a [batch, d] value, up to a constant for the normal prior (0.5 |z|^2) and
 * exactly for the non-parametric one (-sum over coordinates of a log-sum-exp over its components);
 * undefined for the uniform prior, constant inside its box.
 */
export function priorEnergy(g: Graph, z: string, prior: LatentPrior): string | undefined {
  if (prior === 'normal') return halfSquaredNorm(g, z);
  if (prior !== 'nonparametric') return undefined;
  const p = NONPARAMETRIC_PRIOR;
  const K = p.means.length;
  // u = (z - mu) / s over a new last axis; log p(z_j) = lse_k(log w_k - log s - log sqrt(2 pi) - u^2 / 2).
  const c = Math.log(p.scale) + 0.5 * Math.log(2 * Math.PI);
  const u = g.op('Mul', [g.op('Sub', [g.op('Unsqueeze', [z, g.int64s([2])]), g.float32(Float32Array.from(p.means), [K])]), g.scalar(1 / p.scale)]);
  const terms = g.op('Add', [
    g.op('Mul', [g.op('Mul', [u, u]), g.scalar(-0.5)]),
    g.float32(
      Float32Array.from(p.weights, (w) => Math.log(w) - c),
      [K],
    ),
  ]);
  const lse = g.op('ReduceLogSumExp', [terms], { axes: ints([2]), keepdims: int(0) });
  const logp = g.op('ReduceSum', [lse, g.int64s([1])], { keepdims: int(0) });
  return g.op('Neg', [logp]);
}
