/**
 * A generator/discriminator pair: ONNX graphs checked to fit together (G's output shape is D's
 * input shape, D outputs [batch, 1]) with what the latent prior is and what D outputs. From files
 * (`loadPair`: a run folder of `refinery train`, or two ONNX files with an optional meta.json
 * beside them) or from memory (`pairFromBytes`).
 */
import { RefineryError, type Issue, fail } from '../errors.js';
import type { Device } from '../onnx/device.js';
import { asGraph, type Graph, type OnnxModel } from '../onnx/graph.js';
import { graphFromModel, modelFromBytes } from '../onnx/model.js';
import { fmtShape } from '../onnx/ops/util.js';
import { decodeModel } from '../onnx/proto.js';
import { D_OUTPUTS, type DOutput, LATENT_PRIORS, type LatentPrior, type ModelMeta, parseDOutput, parseLatentPrior, parseMeta } from './meta.js';

/** A generator and its discriminator, checked to fit together, with what the latent prior is and what D outputs. */
export interface ModelPair {
  /** z [batch, latentDim] -> x [batch, ...dataShape]. */
  generator: OnnxModel;
  /** x -> [batch, 1]. */
  discriminator: OnnxModel;
  /** Latent size and prior, data shape and what D outputs (from meta.json, or as declared). */
  meta: ModelMeta;
  /** Where the models came from (empty strings for models given in memory). */
  files: { generator: string; discriminator: string; meta?: string };
  /** Where the refinement runs its models (default 'cpu'); `refine`'s `device` option sets it. */
  device?: Device;
}

/** Where `loadPair` finds the models: a run folder, or ONNX files (without `run`, a meta.json beside the generator is read when present). */
export interface PairOptions {
  /** A run folder holding generator.onnx, discriminator.onnx and meta.json. */
  run?: string;
  /** Generator ONNX file: z [batch, latent_dim] -> x [batch, ...]. Default: generator.onnx in `run`. */
  generator?: string;
  /** Discriminator ONNX file: x -> [batch, 1]. Default: discriminator.onnx in `run`. */
  discriminator?: string;
  /** The latent prior; required without a meta.json, checked against it otherwise. */
  latentPrior?: LatentPrior;
  /** What D outputs; required without a meta.json, checked against it otherwise. */
  dOutput?: DOutput;
}

/**
 * Parse the bytes of an ONNX model (errors name `source`): for method options (a corrector, DRE
 * features) and for evaluation (feature extractors, classifiers). A model beyond Refinery's graph
 * toolkit still runs forward (evaluation), and is refused with the reason where it must be
 * composed or differentiated.
 */
export function parseModel(bytes: Uint8Array, source = 'model'): OnnxModel {
  if (!(bytes instanceof Uint8Array)) fail('invalid_argument', source, 'the bytes of an ONNX model (a Uint8Array)', typeof bytes);
  return modelFromBytes(bytes, source);
}

function parseGraph(bytes: Uint8Array, source: string): Graph {
  if (!(bytes instanceof Uint8Array)) fail('invalid_argument', source, 'the bytes of an ONNX model (a Uint8Array)', typeof bytes);
  return graphFromModel(decodeModel(bytes, source), source);
}

interface PairParts {
  generator: Graph;
  discriminator?: Graph;
  meta?: ModelMeta;
  latentPrior?: LatentPrior;
  dOutput?: DOutput;
  files: { generator: string; discriminator: string; meta?: string };
}

/**
 * Check that G (and D) fit together and settle the latent prior and D's output kind: from the
 * meta (checked against any declared value), or from the declared values, which are then
 * required (a wrong guess would give wrong samples without a sign).
 */
/** Check and assemble a pair from its parts (for `loadPair` and `pairFromBytes`). */
export function makePair(p: PairParts): ModelPair {
  const gName = p.files.generator || 'generator';
  const dName = p.files.discriminator || 'discriminator';
  const { generator, discriminator } = p;
  if (generator.inputs.length !== 1 || generator.outputs.length < 1) {
    fail(
      'invalid_model',
      gName,
      'a generator with one input z [batch, latent_dim] and an output x',
      `${generator.inputs.length} inputs, ${generator.outputs.length} outputs`,
    );
  }
  const zShape = generator.inputs[0].shape;
  const latentDim = zShape[1];
  if (zShape.length !== 2 || typeof latentDim !== 'number')
    fail('invalid_model', `${gName} input ${generator.inputs[0].name}`, 'shape [batch, latent_dim] with a fixed latent_dim', fmtShape(zShape));
  const xShape = generator.info(generator.outputs[0]).shape;
  const dataShape = xShape.slice(1);
  if (!dataShape.every((d) => typeof d === 'number'))
    fail('invalid_model', `${gName} output ${generator.outputs[0]}`, 'shape [batch, ...] with fixed data dims', fmtShape(xShape));

  const { meta } = p;
  const metaName = p.files.meta ?? 'meta';
  if (meta) {
    if (meta.latentDim !== latentDim) fail('invalid_model', `${metaName}: latent_dim`, `the generator's latent dim ${latentDim}`, String(meta.latentDim));
    if (p.latentPrior && p.latentPrior !== meta.latentPrior)
      fail('invalid_argument', 'latentPrior', `the prior recorded in ${metaName} (${meta.latentPrior})`, p.latentPrior);
    if (p.dOutput && p.dOutput !== meta.dOutput) fail('invalid_argument', 'dOutput', `the D output recorded in ${metaName} (${meta.dOutput})`, p.dOutput);
  } else {
    const missing: Issue[] = [];
    if (p.latentPrior === undefined)
      missing.push({
        path: 'latentPrior',
        expected: `the generator's latent prior (${LATENT_PRIORS.join(' or ')}), since no meta.json records it`,
        received: 'nothing',
      });
    if (discriminator && p.dOutput === undefined)
      missing.push({
        path: 'dOutput',
        expected: `what the discriminator outputs (${D_OUTPUTS.join(', ')}), since no meta.json records it`,
        received: 'nothing',
      });
    if (missing.length > 0) throw new RefineryError('invalid_argument', missing);
  }

  if (discriminator) {
    if (discriminator.inputs.length !== 1) fail('invalid_model', dName, 'a discriminator with one input x', `${discriminator.inputs.length} inputs`);
    const dIn = discriminator.inputs[0].shape;
    const same = dIn.length === xShape.length && dIn.every((d, i) => i === 0 || typeof d !== 'number' || d === xShape[i]);
    if (!same) {
      throw new RefineryError('shape_mismatch', [
        { path: `${dName} input ${discriminator.inputs[0].name}`, expected: `the generator's output shape ${fmtShape(xShape)}`, received: fmtShape(dIn) },
      ]);
    }
    const dOut = discriminator.info(discriminator.outputs[0]).shape;
    if (!(dOut.length === 2 && dOut[1] === 1) && dOut.length !== 1)
      fail('invalid_model', `${dName} output ${discriminator.outputs[0]}`, 'shape [batch, 1] or [batch]', fmtShape(dOut));
  }

  const resolved: ModelMeta = meta ?? {
    latentDim,
    latentPrior: p.latentPrior as LatentPrior,
    dataShape: dataShape as number[],
    dOutput: p.dOutput ?? 'logit',
  };
  return { generator, discriminator: discriminator as Graph, meta: resolved, files: p.files };
}

/** The generator graph of a pair. */
export function generatorGraph(pair: Pick<ModelPair, 'generator'>): Graph {
  return asGraph(pair.generator, 'generator');
}

/** The discriminator graph of a pair. */
export function discriminatorGraph(pair: Pick<ModelPair, 'discriminator'>): Graph {
  return asGraph(pair.discriminator, 'discriminator');
}

/** The in-memory inputs of `pairFromBytes`: ONNX bytes and what no meta.json says. */
export interface PairBytes {
  /** The generator's ONNX bytes: z [batch, latent_dim] -> x [batch, ...]. */
  generator: Uint8Array;
  /** The discriminator's ONNX bytes: x -> [batch, 1]. Optional for sampling only. */
  discriminator?: Uint8Array;
  /** The content of a meta.json (parsed JSON), when there is one. */
  meta?: unknown;
  /** Required without `meta`. */
  latentPrior?: LatentPrior;
  /** Required with a discriminator and without `meta`. */
  dOutput?: DOutput;
}

/** A pair from in-memory ONNX bytes (e.g. fetched in a browser, or exported a moment ago). */
export function pairFromBytes(b: PairBytes): ModelPair {
  if (typeof b !== 'object' || b === null) fail('invalid_argument', 'pair', 'an object { generator, discriminator, latentPrior, dOutput }', String(b));
  if (b.latentPrior !== undefined) parseLatentPrior(b.latentPrior, 'latentPrior');
  if (b.dOutput !== undefined) parseDOutput(b.dOutput, 'dOutput');
  return makePair({
    generator: parseGraph(b.generator, 'generator'),
    discriminator: b.discriminator === undefined ? undefined : parseGraph(b.discriminator, 'discriminator'),
    meta: b.meta === undefined ? undefined : parseMeta(b.meta, 'meta'),
    latentPrior: b.latentPrior,
    dOutput: b.dOutput,
    files: { generator: '', discriminator: '' },
  });
}
