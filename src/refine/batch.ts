/**
 * The default rows per model call of `refine`: as many as keep one batch's intermediate values of
 * G then D near BATCH_VALUES (24 MiB of float32), between 64 and 10,000 rows. Large batches of
 * image models spill out of the caches: `npm run -s bench -- --case batch` (DRS, 2,000 burn-in
 * proposals; AMD EPYC, 2 cores) measured the defaults 1.38x (2-D MLP), 1.57x (MNIST DCGAN),
 * 1.48x (dcgan32) and 2.38x (ResNet) faster than batches of 10,000 rows, and within 10% of the
 * best of 64, 256, 1,024 and 10,000. The samples do not depend on it.
 */
import { generatorGraph, discriminatorGraph, type ModelPair } from '../models/pair.js';
import type { Graph } from '../onnx/graph.js';

/** Intermediate values per batch that the default batch size aims at. */
export const BATCH_VALUES = 6 * 2 ** 20;

/** Values one row holds in the node outputs of `graph` (those with a batch axis and fixed other dims). */
function valuesPerRow(graph: Graph): number {
  let total = 0;
  for (const node of graph.nodes) {
    for (const o of node.outputs) {
      if (!o) continue;
      const shape = graph.shape(o);
      if (shape.length < 2 || typeof shape[0] !== 'string' || shape.slice(1).some((d) => typeof d !== 'number')) continue;
      total += (shape.slice(1) as number[]).reduce((a, b) => a * b, 1);
    }
  }
  return total;
}

/** Intermediate values per row of G then D (of G alone for a pair without D). */
export function activationValues(pair: Pick<ModelPair, 'generator' | 'discriminator'>): number {
  return valuesPerRow(generatorGraph(pair)) + (pair.discriminator ? valuesPerRow(discriminatorGraph(pair)) : 0);
}

/** The default `batchSize` of `refine` for `pair`: BATCH_VALUES / activationValues(pair), within [64, 10000]. */
export function defaultBatchSize(pair: Pick<ModelPair, 'generator' | 'discriminator'>): number {
  const perRow = activationValues(pair);
  if (!(perRow > 0)) return 10000;
  return Math.max(64, Math.min(10000, Math.floor(BATCH_VALUES / perRow)));
}
