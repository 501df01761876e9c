/** Loading a generator/discriminator pair (ONNX files, or a run folder from `refinery train`). */
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { RefineryError, fail } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { loadGraph } from '../onnx/model.js';
import { fmtShape } from '../onnx/ops/util.js';
import { type DOutput, type LatentPrior, type ModelMeta, readMeta } from './meta.js';

export interface ModelPair {
  generator: Graph;
  discriminator: Graph;
  meta: ModelMeta;
  files: { generator: string; discriminator: string; meta?: string };
}

export interface PairOptions {
  /** A run folder holding generator.onnx, discriminator.onnx and meta.json. */
  run?: string;
  generator?: string;
  discriminator?: string;
  /** Declared latent prior / D output; checked against meta.json when both are present. */
  latentPrior?: LatentPrior;
  dOutput?: DOutput;
}

/** Load G (and D) and check that they fit together: G's output shape is D's input shape, D outputs [batch, 1]. */
export function loadPair(options: PairOptions, needDiscriminator = true): ModelPair {
  let gPath = options.generator;
  let dPath = options.discriminator;
  let metaPath: string | undefined;
  if (options.run !== undefined) {
    if (!existsSync(options.run) || !statSync(options.run).isDirectory())
      fail('invalid_argument', '--run', 'a folder written by `refinery train`', options.run);
    gPath ??= join(options.run, 'generator.onnx');
    dPath ??= join(options.run, 'discriminator.onnx');
    metaPath = join(options.run, 'meta.json');
  }
  if (gPath === undefined) fail('invalid_argument', '--generator', 'a generator ONNX file (or --run FOLDER)', 'nothing');
  if (needDiscriminator && dPath === undefined) fail('invalid_argument', '--discriminator', 'a discriminator ONNX file (or --run FOLDER)', 'nothing');
  metaPath ??= join(dirname(gPath), 'meta.json');
  const meta = existsSync(metaPath) ? readMeta(metaPath) : undefined;
  const generator = loadGraph(gPath);
  const discriminator = needDiscriminator && dPath !== undefined ? loadGraph(dPath) : undefined;

  if (generator.inputs.length !== 1 || generator.outputs.length < 1) {
    fail(
      'invalid_model',
      gPath,
      'a generator with one input z [batch, latent_dim] and an output x',
      `${generator.inputs.length} inputs, ${generator.outputs.length} outputs`,
    );
  }
  const zShape = generator.inputs[0].shape;
  const latentDim = zShape[1];
  if (zShape.length !== 2 || typeof latentDim !== 'number')
    fail('invalid_model', `${gPath} input ${generator.inputs[0].name}`, 'shape [batch, latent_dim] with a fixed latent_dim', fmtShape(zShape));
  const xShape = generator.info(generator.outputs[0]).shape;
  const dataShape = xShape.slice(1);
  if (!dataShape.every((d) => typeof d === 'number'))
    fail('invalid_model', `${gPath} output ${generator.outputs[0]}`, 'shape [batch, ...] with fixed data dims', fmtShape(xShape));

  if (meta) {
    if (meta.latentDim !== latentDim) fail('invalid_model', `${metaPath}: latent_dim`, `the generator's latent dim ${latentDim}`, String(meta.latentDim));
    if (options.latentPrior && options.latentPrior !== meta.latentPrior)
      fail('invalid_argument', '--latent-prior', `the prior recorded in ${metaPath} (${meta.latentPrior})`, options.latentPrior);
    if (options.dOutput && options.dOutput !== meta.dOutput)
      fail('invalid_argument', '--d-output', `the D output recorded in ${metaPath} (${meta.dOutput})`, options.dOutput);
  }

  if (discriminator) {
    if (discriminator.inputs.length !== 1) fail('invalid_model', dPath!, 'a discriminator with one input x', `${discriminator.inputs.length} inputs`);
    const dIn = discriminator.inputs[0].shape;
    const same = dIn.length === xShape.length && dIn.every((d, i) => i === 0 || typeof d !== 'number' || d === xShape[i]);
    if (!same) {
      throw new RefineryError('shape_mismatch', [
        { path: `${dPath} input ${discriminator.inputs[0].name}`, expected: `the generator's output shape ${fmtShape(xShape)}`, received: fmtShape(dIn) },
      ]);
    }
    const dOut = discriminator.info(discriminator.outputs[0]).shape;
    if (!(dOut.length === 2 && dOut[1] === 1) && dOut.length !== 1)
      fail('invalid_model', `${dPath} output ${discriminator.outputs[0]}`, 'shape [batch, 1] or [batch]', fmtShape(dOut));
  }

  const resolved: ModelMeta = meta ?? {
    latentDim,
    latentPrior: options.latentPrior ?? 'normal',
    dataShape: dataShape as number[],
    dOutput: options.dOutput ?? 'logit',
  };
  return {
    generator,
    discriminator: discriminator as Graph,
    meta: resolved,
    files: { generator: gPath, discriminator: dPath ?? '', meta: meta ? metaPath : undefined },
  };
}
