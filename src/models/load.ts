/** Loading a pair from files: a run folder, or ONNX files with an optional meta.json (Node.js only). */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fail } from '../errors.js';
import { loadGraph } from '../onnx/modelfile.js';
import { parseDOutput, parseLatentPrior } from './meta.js';
import { readMeta } from './metafile.js';
import { makePair, type ModelPair, type PairOptions } from './pair.js';

/**
 * Load G (and D) from files and check that they fit together. A meta.json in the run folder (or
 * beside the generator) records the latent prior and D's output kind; without one, `latentPrior`
 * and `dOutput` are required.
 */
export function loadPair(options: PairOptions, needDiscriminator = true): ModelPair {
  let gPath = options.generator;
  let dPath = options.discriminator;
  let metaPath: string | undefined;
  if (options.run !== undefined) {
    if (!existsSync(options.run) || !statSync(options.run).isDirectory()) fail('invalid_argument', 'run', 'a folder written by `refinery train`', options.run);
    gPath ??= join(options.run, 'generator.onnx');
    dPath ??= join(options.run, 'discriminator.onnx');
    metaPath = join(options.run, 'meta.json');
  }
  if (gPath === undefined) fail('invalid_argument', 'generator', 'a generator ONNX file (or a run folder)', 'nothing');
  if (needDiscriminator && dPath === undefined) fail('invalid_argument', 'discriminator', 'a discriminator ONNX file (or a run folder)', 'nothing');
  metaPath ??= join(dirname(gPath), 'meta.json');
  const meta = existsSync(metaPath) ? readMeta(metaPath) : undefined;
  if (options.latentPrior !== undefined) parseLatentPrior(options.latentPrior, 'latentPrior');
  if (options.dOutput !== undefined) parseDOutput(options.dOutput, 'dOutput');
  return makePair({
    generator: loadGraph(gPath),
    discriminator: needDiscriminator && dPath !== undefined ? loadGraph(dPath) : undefined,
    meta,
    latentPrior: options.latentPrior,
    dOutput: options.dOutput,
    files: { generator: gPath, discriminator: needDiscriminator ? (dPath ?? '') : '', meta: meta ? metaPath : undefined },
  });
}
