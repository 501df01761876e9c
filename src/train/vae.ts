/**
 * A variational autoencoder (Kingma & Welling 2014) in the trainer: the "model without a
 * discriminator" that DGflow's density-ratio corrector refines (Ansari et al. 2021, section 5).
 *
 *   encoder q(z | x) = N(mu(x), diag(exp(logvar(x)))),  decoder p(x | z) = N(dec(z), s^2 I),
 *   prior p0(z) = N(0, I),
 *   loss = E_x [ |x - dec(mu + exp(logvar / 2) eps)|^2 / (2 s^2) + KL(q(z | x) || p0) ]  (the
 *          negative ELBO up to a constant; eps ~ N(0, I), one draw per sample),
 *
 * with s = `likelihoodStd`. On points (a built-in 2-D dataset) both networks are MLPs; on images
 * (shapes28, MNIST) the decoder is the DCGAN generator (pixel norm, tanh) and the encoder the
 * DCGAN discriminator's convolutions ending in 2 * latentDim outputs. The run folder holds
 * generator.onnx (z -> dec(z): the decoder's mean, the VAE's sample as usually drawn),
 * encoder.onnx (x -> [mu, logvar], [batch, 2 * latentDim]) and meta.json; no discriminator:
 * refine it with a GAN's D and a corrector (`trainCorrector`). Seeded and resumable like `trainGan`.
 */
import { join } from 'node:path';
import { getDataset, DATASET_NAMES } from '../data/dataset.js';
import { getImageDataset, IMAGE_DATASET_NAMES } from '../data/images.js';
import { describe, fail, RefineryError, type Issue } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import type { ModelMeta } from '../models/meta.js';
import { writeMeta } from '../models/metafile.js';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph, int } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { adamInit, adamStep } from './adam.js';
import {
  addParamInputs,
  checkpointAfterStep,
  checkpointOptions,
  exportNet,
  feedParams,
  folderStore,
  type TrainRunOptions,
  type TrainState,
  withRunFolder,
} from './common.js';
import { dcganNets, encoderParams, initConvParams } from './dcgan.js';
import { appendMlp, initParams, type MlpSpec, mlpParams, type ParamSpec } from './mlp.js';

/** Options of the VAE trainer (`trainVae`; the CLI's `train --model vae`). Each of its `steps` is one Adam update of both networks. */
export interface VaeOptions extends TrainRunOptions {
  /** A built-in dataset: 2-D points (grid25, ring8, swissroll: MLPs) or images (shapes28, mnist: convolutions). */
  dataset: string;
  /** Points: units per hidden layer of both MLPs. */
  hidden: number;
  /** Points: hidden layers per MLP; images: stride-2 layers per network. */
  layers: number;
  /** Images: channels of the encoder's first layer (doubled per layer). */
  width: number;
  /** The decoder's likelihood std s, in data units. */
  likelihoodStd: number;
  /** Adam learning rate of the encoder and the decoder. */
  lr: number;
}

/** Defaults for points; images use VAE_IMAGE_DEFAULTS where they differ. */
export const VAE_DEFAULTS: Omit<VaeOptions, 'out'> = {
  dataset: 'grid25',
  seed: 0,
  steps: 5000,
  batchSize: 256,
  latentDim: 2,
  hidden: 128,
  layers: 3,
  width: 32,
  likelihoodStd: 0.1,
  lr: 1e-3,
  beta1: 0.9,
  beta2: 0.999,
  checkpointEvery: 1000,
  resume: false,
};

/** What differs for image datasets. */
export const VAE_IMAGE_DEFAULTS: Partial<Omit<VaeOptions, 'out'>> = {
  dataset: 'mnist',
  steps: 3000,
  batchSize: 64,
  latentDim: 16,
  layers: 2,
  lr: 5e-4,
  checkpointEvery: 250,
};

/** The trainer's result. */
export interface VaeResult {
  dir: string;
  steps: number;
  seconds: number;
  /** Last negative ELBO (per sample, up to a constant) and its KL part. */
  loss: number;
  kl: number;
  resumedFrom: number;
  meta: ModelMeta;
}

/** Progress every few steps. */
export interface VaeProgress {
  step: number;
  steps: number;
  loss: number;
  kl: number;
}

interface VaeNets {
  dataShape: number[];
  encParams: ParamSpec[];
  decParams: ParamSpec[];
  /** x -> [batch, 2 * latentDim]. */
  encoder(g: Graph, x: string, p: string[]): string;
  decoder(g: Graph, z: string, p: string[]): string;
  init(params: ParamSpec[], rng: Rng): Float32Array[];
  range?: [number, number];
}

function isImage(dataset: string): boolean {
  return (IMAGE_DATASET_NAMES as readonly string[]).includes(dataset);
}

function nets(o: VaeOptions): VaeNets {
  const k = o.latentDim;
  if (!isImage(o.dataset)) {
    const hidden = new Array<number>(o.layers).fill(o.hidden);
    const enc: MlpSpec = { sizes: [2, ...hidden, 2 * k], activation: 'relu', output: 'none' };
    const dec: MlpSpec = { sizes: [k, ...hidden, 2], activation: 'relu', output: 'none' };
    return {
      dataShape: [2],
      encParams: mlpParams(enc, 'e.'),
      decParams: mlpParams(dec, 'g.'),
      encoder: (g, x, p) => appendMlp(g, enc, x, p),
      decoder: (g, z, p) => appendMlp(g, dec, z, p),
      init: initParams,
    };
  }
  const shape = getImageDataset(o.dataset).shape;
  const n = dcganNets({ latentDim: k, imageShape: shape, width: o.width, layers: o.layers, pixelNorm: true });
  const encParams = encoderParams(n.dParams, 2 * k);
  return { dataShape: [...shape], encParams, decParams: n.gParams, encoder: n.discriminator, decoder: n.generator, init: initConvParams, range: [-1, 1] };
}

/** The loss graph: encoder and decoder parameters, x, eps -> loss, KL, then gradients (encoder's, decoder's). */
function lossGraph(n: VaeNets, k: number, s: number): Graph {
  const g = new Graph();
  const ep = addParamInputs(g, n.encParams);
  const dp = addParamInputs(g, n.decParams);
  const x = g.addInput('x', 'float32', ['batch', ...n.dataShape]);
  const eps = g.addInput('eps', 'float32', ['batch', k]);
  const h = n.encoder(g, x, ep);
  const mu = g.op('Slice', [h, g.int64s([0]), g.int64s([k]), g.int64s([1])]);
  const logvar = g.op('Slice', [h, g.int64s([k]), g.int64s([2 * k]), g.int64s([1])]);
  const z = g.op('Add', [mu, g.op('Mul', [g.op('Exp', [g.op('Mul', [logvar, g.scalar(0.5)])]), eps])]);
  const xr = n.decoder(g, z, dp);
  const d = g.op('Sub', [x, xr]);
  const axes = n.dataShape.map((_, i) => i + 1);
  const sumRows = (v: string, ax: number[]) => g.op('ReduceSum', [v, g.int64s(ax)], { keepdims: int(0) });
  const recon = g.op('Mul', [sumRows(g.op('Mul', [d, d]), axes), g.scalar(1 / (2 * s * s))]);
  // KL = -1/2 sum (1 + logvar - mu^2 - exp(logvar))
  const klTerms = g.op('Sub', [g.op('Add', [g.scalar(1), logvar]), g.op('Add', [g.op('Mul', [mu, mu]), g.op('Exp', [logvar])])]);
  const kl = g.op('Mul', [sumRows(klTerms, [1]), g.scalar(-0.5)]);
  const mean = (v: string) => g.op('ReduceMean', [v], { keepdims: int(0) });
  const loss = mean(g.op('Add', [recon, kl]));
  const grads = differentiate(g, { [loss]: onesLike(g, loss) }, [...ep, ...dp]);
  g.outputs = [loss, mean(kl), ...[...ep, ...dp].map((p) => grads.get(p)!)].map((v) => g.op('Identity', [v]));
  return g;
}

function validate(o: VaeOptions): void {
  const issues: Issue[] = [];
  const need = (ok: boolean, path: string, expected: string, v: unknown) => {
    if (!ok) issues.push({ path, expected, received: describe(v) });
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  need(typeof o.out === 'string' && o.out !== '', 'out', 'a folder path', o.out);
  need(
    [...DATASET_NAMES, ...IMAGE_DATASET_NAMES].includes(o.dataset as never),
    'dataset',
    `one of ${[...DATASET_NAMES, ...IMAGE_DATASET_NAMES].join(', ')}`,
    o.dataset,
  );
  for (const key of ['steps', 'batchSize', 'latentDim', 'hidden', 'layers', 'width', 'checkpointEvery'] as const)
    need(posInt(o[key]), key, 'a positive integer', o[key]);
  need(Number.isSafeInteger(o.seed), 'seed', 'an integer', o.seed);
  need(o.likelihoodStd > 0 && Number.isFinite(o.likelihoodStd), 'likelihoodStd', 'a positive number', o.likelihoodStd);
  need(o.lr > 0 && o.lr < 1, 'lr', 'a learning rate in (0, 1)', o.lr);
  need(o.beta1 >= 0 && o.beta1 < 1, 'beta1', 'a number in [0, 1)', o.beta1);
  need(o.beta2 >= 0 && o.beta2 < 1, 'beta2', 'a number in [0, 1)', o.beta2);
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  if (isImage(o.dataset)) {
    const [, h, w] = getImageDataset(o.dataset).shape;
    const f = 2 ** o.layers;
    if (h % f !== 0 || w % f !== 0) fail('invalid_argument', 'layers', `at most as many stride-2 layers as divide the ${w}x${h} images`, String(o.layers));
  }
}

/**
 * Train a VAE on a built-in dataset and write the run folder: step t draws its batch and its eps
 * from Rng(seed, 1, t); parameters from Rng(seed, 0) forks 1 (decoder) and 2 (encoder).
 */
export async function trainVae(options: VaeOptions, hooks: { signal?: AbortSignal; onProgress?: (p: VaeProgress) => void } = {}): Promise<VaeResult> {
  const o = options;
  validate(o);
  return withRunFolder(o.out, { resume: o.resume, overwrite: o.overwrite }, true, async () => {
    const n = nets(o);
    const k = o.latentDim;
    const sampleReal = isImage(o.dataset)
      ? (() => {
          const ds = getImageDataset(o.dataset);
          return (b: number, rng: Rng) => ds.sample(b, rng);
        })()
      : (() => {
          const ds = getDataset(o.dataset);
          return (b: number, rng: Rng) => ds.sample(b, rng);
        })();
    const init = new Rng(o.seed, 0);
    const dec = n.init(n.decParams, init.fork(1));
    const enc = n.init(n.encParams, init.fork(2));
    const state: TrainState = { step: 0, gValues: dec, dValues: enc, gAdam: adamInit(dec), dAdam: adamInit(enc), spectral: [], lossD: NaN, lossG: NaN };
    const fp = checkpointOptions({ ...o, model: 'vae' });
    const store = folderStore(o.out);
    const resumedFrom = o.resume && store.load(state, fp) ? state.step : 0;
    const graph = lossGraph(n, k, o.likelihoodStd);
    const session = await Session.create(graph);
    const t0 = performance.now();
    const adam = { lr: o.lr, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 };
    const ne = n.encParams.length;
    try {
      while (state.step < o.steps) {
        const rng = new Rng(o.seed, 1, state.step);
        const B = o.batchSize;
        const out = await session.run({
          ...feedParams(n.encParams, state.dValues),
          ...feedParams(n.decParams, state.gValues),
          x: { data: sampleReal(B, rng), shape: [B, ...n.dataShape] },
          eps: { data: rng.fillNormal(new Float32Array(B * k)), shape: [B, k] },
        });
        const [lossName, klName, ...gradNames] = graph.outputs;
        state.lossD = out[lossName].data[0];
        state.lossG = out[klName].data[0];
        if (!Number.isFinite(state.lossD)) fail('internal', 'training', 'a finite loss', `${state.lossD} at step ${state.step} (lower --lr)`);
        const grads = gradNames.map((g) => out[g].data);
        adamStep(state.dValues, grads.slice(0, ne), state.dAdam, adam);
        adamStep(state.gValues, grads.slice(ne), state.gAdam, adam);
        state.step++;
        if (state.step % 50 === 0 || state.step === o.steps) hooks.onProgress?.({ step: state.step, steps: o.steps, loss: state.lossD, kl: state.lossG });
        checkpointAfterStep(state, o.steps, o.checkpointEvery, store, fp, hooks.signal);
      }
    } finally {
      await session.release();
    }
    const seconds = (performance.now() - t0) / 1000;
    writeFileAtomic(join(o.out, 'generator.onnx'), encodeGraph(exportNet('generator', n.decParams, state.gValues, 'z', [k], 'x', n.decoder)));
    writeFileAtomic(join(o.out, 'encoder.onnx'), encodeGraph(exportNet('encoder', n.encParams, state.dValues, 'x', n.dataShape, 'mu_logvar', n.encoder)));
    const meta: ModelMeta = {
      latentDim: k,
      latentPrior: 'normal',
      dataShape: n.dataShape,
      // A VAE has no discriminator: refine it with a GAN's D and a corrector (train-corrector),
      // whose run folder records what its D outputs.
      dOutput: 'logit',
      outputRange: n.range,
      dataset: o.dataset,
      extra: {
        producer: 'refinery train --model vae',
        model: 'vae',
        discriminator: 'none (a VAE): use refinery train-corrector with a GAN run to refine it',
        sample: 'the decoder mean dec(z), z ~ N(0, I)',
        encoder: 'encoder.onnx: x -> [mu, logvar] ([batch, 2 * latent_dim])',
        training: { ...fp, steps: o.steps },
        final_loss: { negative_elbo: state.lossD, kl: state.lossG },
      },
    };
    writeMeta(join(o.out, 'meta.json'), meta);
    return { dir: o.out, steps: state.step, seconds, loss: state.lossD, kl: state.lossG, resumedFrom, meta };
  });
}
