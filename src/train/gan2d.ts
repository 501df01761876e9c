/**
 * The MLP GAN on a built-in 2-D dataset, without files: options, networks, and `trainMlpInMemory`,
 * which returns the ONNX bytes of G and D and their meta.json (the playground trains in the page
 * with it). `trainMlp` (mlpgan.ts) runs the same loop with a run folder: same seed and options,
 * the same bytes.
 */
import { getDataset } from '../data/dataset.js';
import { fail } from '../errors.js';
import type { ModelMeta } from '../models/meta.js';
import type { Graph } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import {
  type CheckpointStore,
  checkpointOptions,
  dOutputOf,
  exportNet,
  type GanHooks,
  type GanLoopOptions,
  type GanLoopResult,
  type GanNets,
  runGanLoop,
  validateLoopOptions,
} from './loop.js';
import { type Activation, appendMlp, initParams, type MlpSpec, mlpParams, type ParamSpec } from './mlp.js';

/** Options of the MLP GAN on a built-in 2-D dataset (`trainGan` with model 'mlp'). */
export interface MlpOptions extends GanLoopOptions {
  /** Built-in 2-D dataset to train on ('grid25', 'ring8' or 'swissroll'). */
  dataset: string;
  /** Units per hidden layer. */
  hidden: number;
  /** Hidden layers in G and in D. */
  layers: number;
  /** Activation of the hidden layers. */
  activation: Activation;
}

/** Defaults of the MLP GAN's options (all but `out`). */
export const MLP_DEFAULTS: Omit<MlpOptions, 'out'> = {
  dataset: 'grid25',
  seed: 0,
  steps: 3000,
  batchSize: 256,
  latentDim: 2,
  prior: 'normal',
  hidden: 128,
  layers: 3,
  loss: 'ns',
  spectralNorm: false,
  lrG: 5e-4,
  lrD: 5e-4,
  beta1: 0.5,
  beta2: 0.999,
  dSteps: 1,
  // D's estimate of the final density ratio keeps improving long after the GAN steps: on the
  // 25-Gaussian grid (seed 0), DRS reaches 92.5% high quality after 3000 fine-tuning steps, 96.4%
  // after 10000 and 98.1% after 30000 (98.3% after 50000).
  finetuneD: 30000,
  gpWeight: 0.1,
  activation: 'relu',
  checkpointEvery: 1000,
  resume: false,
};

export function mlpNets(o: MlpOptions): GanNets & { gSpec: MlpSpec; dSpec: MlpSpec } {
  const hidden = new Array<number>(o.layers).fill(o.hidden);
  const gSpec: MlpSpec = { sizes: [o.latentDim, ...hidden, 2], activation: o.activation, output: 'none' };
  const dSpec: MlpSpec = { sizes: [2, ...hidden, 1], activation: o.activation, output: 'none' };
  return {
    gSpec,
    dSpec,
    latentDim: o.latentDim,
    dataShape: [2],
    gParams: mlpParams(gSpec, 'g.'),
    dParams: mlpParams(dSpec, 'd.'),
    generator: (g, z, p) => appendMlp(g, gSpec, z, p),
    discriminator: (g, x, p) => appendMlp(g, dSpec, x, p),
    initParams,
  };
}

/** A standalone inference graph with the parameters baked in as initializers. */
export function exportMlp(spec: MlpSpec, params: ParamSpec[], values: Float32Array[], input: string, output: string): Graph {
  return exportNet(output === 'x' ? 'generator' : 'discriminator', params, values, input, [spec.sizes[0]], output, (g, x, p) => appendMlp(g, spec, x, p));
}

export function validateMlpOptions(o: MlpOptions): void {
  validateLoopOptions(o);
  if (!Number.isInteger(o.hidden) || o.hidden < 1) fail('invalid_argument', 'hidden', 'a positive integer', String(o.hidden));
  if (!Number.isInteger(o.layers) || o.layers < 1) fail('invalid_argument', 'layers', 'a positive integer', String(o.layers));
  getDataset(o.dataset);
  if (o.loss === 'wow') fail('invalid_argument', 'loss', "a loss for 2-D points (wow's penalty is defined on images: use --model dcgan or sagan)", 'wow');
}

/** What one run of the MLP GAN produces: G and D as ONNX bytes, meta.json's content, the loop's result. */
export interface MlpGanOutput extends GanLoopResult {
  generator: Uint8Array;
  discriminator: Uint8Array;
  meta: ModelMeta;
}

/** Run the MLP GAN (options checked) with checkpoints in `store`, if any. */
export async function runMlpGan(o: MlpOptions, store: CheckpointStore | undefined, hooks: GanHooks = {}): Promise<MlpGanOutput> {
  validateMlpOptions(o);
  const dataset = getDataset(o.dataset);
  const n = mlpNets(o);
  const r = await runGanLoop(
    { options: o, nets: n, fingerprint: checkpointOptions(o), sampleReal: (b, rng) => dataset.sample(b, rng), progressEvery: 50, store },
    hooks,
  );
  const d = dOutputOf(o.loss);
  const meta: ModelMeta = {
    latentDim: o.latentDim,
    latentPrior: o.prior ?? 'normal',
    dataShape: [2],
    dOutput: d.dOutput,
    dataset: o.dataset,
    extra: {
      producer: 'refinery train',
      d_output_semantics: d.semantics,
      training: { ...checkpointOptions(o), steps: o.steps, finetuneD: o.finetuneD },
      final_loss: { d: r.lossD, g: r.lossG },
    },
  };
  return {
    ...r,
    generator: encodeGraph(exportNet('generator', n.gParams, r.gValues, 'z', [n.latentDim], 'x', n.generator)),
    discriminator: encodeGraph(exportNet('discriminator', n.dParams, r.dValues, 'x', n.dataShape, 'logit', n.discriminator)),
    meta,
  };
}

/** Options of `trainMlpInMemory`: the MLP GAN's, without the run folder's. */
export type MlpMemoryOptions = Partial<Omit<MlpOptions, 'out' | 'resume' | 'checkpointEvery'>>;

/**
 * Train the MLP GAN in memory (no files, no checkpoints; runs in browsers) and return G and D as
 * ONNX bytes with their meta (a `pairFromBytes` input). Progress every 50 steps; a stop is an error.
 */
export async function trainMlpInMemory(options: MlpMemoryOptions = {}, hooks: GanHooks = {}): Promise<MlpGanOutput> {
  const o = { ...MLP_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as MlpOptions;
  return runMlpGan({ ...o, out: undefined as never, resume: false }, undefined, hooks);
}
