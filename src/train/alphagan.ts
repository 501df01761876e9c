/**
 * alpha-GAN (Rosca et al. 2017, "Variational Approaches for Auto-Encoding Generative Adversarial
 * Networks"): an auto-encoding GAN with four networks,
 *
 *   encoder E: x -> z (deterministic),  generator G: z -> x,
 *   discriminator D: x -> logit (real data against reconstructions G(E(x)) and samples G(z)),
 *   code discriminator C: z -> logit (prior draws z ~ p0 against codes E(x)),
 *
 * trained with the paper's "synthetic likelihood": where a likelihood term would be, the log
 * density ratio a classifier estimates, log(D / (1 - D)) = D's logit. Per batch (x real, z ~ p0,
 * ẑ = E(x), x̂ = G(ẑ), x_g = G(z), rec = mean |x - x̂| over every value):
 *
 *   L_D = softplus(-D(x)) + softplus(D(x̂)) + softplus(D(x_g))      (batch means)
 *   L_C = softplus(-C(z)) + softplus(C(ẑ))
 *   L_E = λ rec - C(ẑ)
 *   L_G = λ rec - D(x̂) - D(x_g)
 *
 * Each step updates D and C first, then E and G on a fresh batch (Adam; D and C with lrD, E and G
 * with lrG). Then, as the other trainers, `finetuneD` D-only steps with E and G frozen on the
 * non-saturating loss against G's samples alone, so that the exported D's logit estimates
 * log p_data / p_g, the ratio refinement methods need (the training D also saw reconstructions).
 *
 * Networks: on 2-D points MLPs; on images (shapes28, MNIST) G and D are the DCGAN trainer's, E is
 * D's convolutions ending in latentDim outputs, C an MLP on codes (leaky ReLU). The run folder
 * holds generator.onnx, discriminator.onnx, encoder.onnx (x -> z, [batch, latentDim]) and
 * meta.json; `refine` with `latents` (CLI `refine --reconstruct REAL`) refines reconstructions.
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
import { samplePrior } from '../run/latent.js';
import { adamInit, type AdamState, adamStep } from './adam.js';
import {
  addParamInputs,
  checkpointAfterStep,
  checkpointOptions,
  discriminatorLossGraph,
  exportNet,
  feedParams,
  folderStore,
  type GanNets,
  type GanResult,
  type TrainProgress,
  type TrainRunOptions,
  type TrainState,
  withRunFolder,
} from './common.js';
import { dcganNets, encoderParams, initConvParams } from './dcgan.js';
import { appendMlp, initParams, type MlpSpec, mlpParams, type ParamSpec } from './mlp.js';
import { spectralBackward, spectralInit, spectralNormalize } from './spectral.js';

/**
 * Options of the alpha-GAN trainer (`trainAlphaGan`; the CLI's `train --model alphagan`). Each of its
 * `steps` is one D and C update, then one E and G update.
 */
export interface AlphaGanOptions extends TrainRunOptions {
  /** A built-in dataset: 2-D points (grid25, ring8, swissroll: MLPs) or images (shapes28, mnist: convolutions). */
  dataset: string;
  /** Points: units per hidden layer of G, D and E. */
  hidden: number;
  /** Points: hidden layers of G, D and E; images: stride-2 layers of G, D and E. */
  layers: number;
  /** Images: channels of D's and E's first layer (doubled per layer). */
  width: number;
  /** Units of each of the code discriminator's two hidden layers. */
  codeHidden: number;
  /** λ, the weight of the reconstruction term (mean absolute error per value) in L_E and L_G. */
  recWeight: number;
  /** Spectral normalisation of D's weights (one power iteration per step). */
  spectralNorm: boolean;
  /** Adam learning rate of E and G. */
  lrG: number;
  /** Adam learning rate of D and C. */
  lrD: number;
  /** D-only steps after training (non-saturating loss against G(z), E and G frozen). */
  finetuneD: number;
}

/** Defaults for points; images use ALPHAGAN_IMAGE_DEFAULTS where they differ. */
export const ALPHAGAN_DEFAULTS: Omit<AlphaGanOptions, 'out'> = {
  dataset: 'ring8',
  seed: 0,
  steps: 3000,
  batchSize: 256,
  latentDim: 2,
  hidden: 128,
  layers: 3,
  width: 32,
  codeHidden: 128,
  recWeight: 10,
  spectralNorm: false,
  lrG: 5e-4,
  lrD: 5e-4,
  beta1: 0.5,
  beta2: 0.999,
  finetuneD: 3000,
  checkpointEvery: 1000,
  resume: false,
};

/** What differs for image datasets (the DCGAN trainer's settings where they apply). */
export const ALPHAGAN_IMAGE_DEFAULTS: Partial<Omit<AlphaGanOptions, 'out'>> = {
  dataset: 'mnist',
  steps: 6000,
  batchSize: 64,
  latentDim: 32,
  layers: 2,
  codeHidden: 256,
  spectralNorm: true,
  lrG: 2e-4,
  lrD: 2e-4,
  finetuneD: 2000,
  checkpointEvery: 250,
};

/**
 * The trainer's result: the run folder, steps (training plus D fine-tuning), time, the last D loss
 * (L_D in training, the non-saturating loss in fine-tuning), the last L_G and the meta.json written.
 */
export type AlphaGanResult = GanResult;

export interface AlphaNets {
  dataShape: number[];
  latentDim: number;
  gParams: ParamSpec[];
  dParams: ParamSpec[];
  eParams: ParamSpec[];
  cParams: ParamSpec[];
  generator(g: Graph, z: string, p: string[]): string;
  discriminator(g: Graph, x: string, p: string[]): string;
  /** x -> [batch, latentDim]. */
  encoder(g: Graph, x: string, p: string[]): string;
  /** z -> [batch, 1]. */
  code(g: Graph, z: string, p: string[]): string;
  /** Initial values of G's, D's or E's parameters (C's: initParams). */
  init(params: ParamSpec[], rng: Rng): Float32Array[];
  range?: [number, number];
}

function isImage(dataset: string): boolean {
  return (IMAGE_DATASET_NAMES as readonly string[]).includes(dataset);
}

/** The four networks of an alpha-GAN with these options (points: MLPs; images: convolutions). */
export function alphaGanNets(o: AlphaGanOptions): AlphaNets {
  const k = o.latentDim;
  const cSpec: MlpSpec = { sizes: [k, o.codeHidden, o.codeHidden, 1], activation: 'leaky_relu', output: 'none' };
  const code = { cParams: mlpParams(cSpec, 'c.'), code: (g: Graph, z: string, p: string[]) => appendMlp(g, cSpec, z, p) };
  if (!isImage(o.dataset)) {
    const hidden = new Array<number>(o.layers).fill(o.hidden);
    const gs: MlpSpec = { sizes: [k, ...hidden, 2], activation: 'relu', output: 'none' };
    const ds: MlpSpec = { sizes: [2, ...hidden, 1], activation: 'relu', output: 'none' };
    const es: MlpSpec = { sizes: [2, ...hidden, k], activation: 'relu', output: 'none' };
    return {
      dataShape: [2],
      latentDim: k,
      gParams: mlpParams(gs, 'g.'),
      dParams: mlpParams(ds, 'd.'),
      eParams: mlpParams(es, 'e.'),
      ...code,
      generator: (g, z, p) => appendMlp(g, gs, z, p),
      discriminator: (g, x, p) => appendMlp(g, ds, x, p),
      encoder: (g, x, p) => appendMlp(g, es, x, p),
      init: initParams,
    };
  }
  const shape = getImageDataset(o.dataset).shape;
  const n = dcganNets({ latentDim: k, imageShape: shape, width: o.width, layers: o.layers, pixelNorm: true });
  const eParams = encoderParams(n.dParams, k);
  return {
    dataShape: [...shape],
    latentDim: k,
    gParams: n.gParams,
    dParams: n.dParams,
    eParams,
    ...code,
    generator: n.generator,
    discriminator: n.discriminator,
    encoder: n.discriminator,
    init: initConvParams,
    range: [-1, 1],
  };
}

const mean = (g: Graph, v: string) => g.op('ReduceMean', [v], { keepdims: int(0) });
const softplus = (g: Graph, v: string) => g.op('Softplus', [v]);

/** The forward pass both loss graphs share: ẑ = E(x), x̂ = G(ẑ), x_g = G(z), and rec = mean |x - x̂|. */
function forward(g: Graph, n: AlphaNets, p: { g: string[]; e: string[] }) {
  const x = g.addInput('x', 'float32', ['batch', ...n.dataShape]);
  const z = g.addInput('z', 'float32', ['batch', n.latentDim]);
  const zHat = n.encoder(g, x, p.e);
  const xHat = n.generator(g, zHat, p.g);
  const xGen = n.generator(g, z, p.g);
  const rec = mean(g, g.op('Abs', [g.op('Sub', [x, xHat])]));
  return { x, z, zHat, xHat, xGen, rec };
}

/**
 * The D and C loss graph: inputs D, C, G and E parameters, x, z; outputs L_D, L_C, then the
 * gradients of L_D + L_C with respect to D's and C's parameters (in that order).
 */
export function alphaCriticGraph(n: AlphaNets): Graph {
  const g = new Graph();
  const dp = addParamInputs(g, n.dParams);
  const cp = addParamInputs(g, n.cParams);
  const gp = addParamInputs(g, n.gParams);
  const ep = addParamInputs(g, n.eParams);
  const f = forward(g, n, { g: gp, e: ep });
  const D = (v: string) => n.discriminator(g, v, dp);
  const C = (v: string) => n.code(g, v, cp);
  const lossD = g.op('Add', [g.op('Add', [mean(g, softplus(g, g.op('Neg', [D(f.x)]))), mean(g, softplus(g, D(f.xHat)))]), mean(g, softplus(g, D(f.xGen)))]);
  const lossC = g.op('Add', [mean(g, softplus(g, g.op('Neg', [C(f.z)]))), mean(g, softplus(g, C(f.zHat)))]);
  const total = g.op('Add', [lossD, lossC]);
  const grads = differentiate(g, { [total]: onesLike(g, total) }, [...dp, ...cp]);
  g.outputs = [lossD, lossC, ...[...dp, ...cp].map((q) => grads.get(q)!)].map((v) => g.op('Identity', [v]));
  return g;
}

/**
 * The E and G loss graph: inputs G, E, D and C parameters, x, z; outputs L_E, L_G, rec, then
 * dL_E / d(E's parameters) and dL_G / d(G's parameters).
 */
export function alphaAutoencoderGraph(n: AlphaNets, recWeight: number): Graph {
  const g = new Graph();
  const gp = addParamInputs(g, n.gParams);
  const ep = addParamInputs(g, n.eParams);
  const dp = addParamInputs(g, n.dParams);
  const cp = addParamInputs(g, n.cParams);
  const f = forward(g, n, { g: gp, e: ep });
  const weighted = g.op('Mul', [f.rec, g.scalar(recWeight)]);
  const lossE = g.op('Sub', [weighted, mean(g, n.code(g, f.zHat, cp))]);
  const adversarial = g.op('Add', [mean(g, n.discriminator(g, f.xHat, dp)), mean(g, n.discriminator(g, f.xGen, dp))]);
  const lossG = g.op('Sub', [weighted, adversarial]);
  const eGrads = differentiate(g, { [lossE]: onesLike(g, lossE) }, ep);
  const gGrads = differentiate(g, { [lossG]: onesLike(g, lossG) }, gp);
  g.outputs = [lossE, lossG, f.rec, ...ep.map((q) => eGrads.get(q)!), ...gp.map((q) => gGrads.get(q)!)].map((v) => g.op('Identity', [v]));
  return g;
}

function validate(o: AlphaGanOptions): void {
  const issues: Issue[] = [];
  const need = (ok: boolean, path: string, expected: string, v: unknown) => {
    if (!ok) issues.push({ path, expected, received: describe(v) });
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  need(typeof o.out === 'string' && o.out !== '', 'out', 'a folder path', o.out);
  const names = [...DATASET_NAMES, ...IMAGE_DATASET_NAMES];
  need(names.includes(o.dataset as never), 'dataset', `one of ${names.join(', ')}`, o.dataset);
  for (const key of ['steps', 'batchSize', 'latentDim', 'hidden', 'layers', 'width', 'codeHidden', 'checkpointEvery'] as const)
    need(posInt(o[key]), key, 'a positive integer', o[key]);
  need(Number.isInteger(o.finetuneD) && o.finetuneD >= 0, 'finetuneD', 'a non-negative integer', o.finetuneD);
  need(Number.isSafeInteger(o.seed), 'seed', 'an integer', o.seed);
  need(o.recWeight >= 0 && Number.isFinite(o.recWeight), 'recWeight', 'a non-negative number', o.recWeight);
  need(typeof o.spectralNorm === 'boolean', 'spectralNorm', 'true or false', o.spectralNorm);
  for (const key of ['lrG', 'lrD'] as const) need(o[key] > 0 && o[key] < 1, key, 'a learning rate in (0, 1)', o[key]);
  for (const key of ['beta1', 'beta2'] as const) need(o[key] >= 0 && o[key] < 1, key, 'a number in [0, 1)', o[key]);
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  if (isImage(o.dataset)) {
    const [, h, w] = getImageDataset(o.dataset).shape;
    const f = 2 ** o.layers;
    if (h % f !== 0 || w % f !== 0) fail('invalid_argument', 'layers', `at most as many stride-2 layers as divide the ${w}x${h} images`, String(o.layers));
  }
}

/** A view of the first `count` arrays of an Adam state (same arrays), for updating part of the parameters. */
function headOf(s: AdamState, count: number): AdamState {
  return { step: s.step, m: s.m.slice(0, count), v: s.v.slice(0, count) };
}

/**
 * Train an alpha-GAN on a built-in dataset and write the run folder. Parameters from Rng(seed, 0)
 * forks 1 (G), 2 (D), 5 (E), 6 (C) and 3 (D's spectral vectors); step t draws its batches from
 * Rng(seed, 1, t). The checkpoint keeps [G, E] as the generator side and [D, C] as the
 * discriminator side; resume is bit-identical.
 */
export async function trainAlphaGan(
  options: AlphaGanOptions,
  hooks: { signal?: AbortSignal; onProgress?: (p: TrainProgress & { reconstruction: number }) => void } = {},
): Promise<AlphaGanResult> {
  const o = options;
  validate(o);
  return withRunFolder(o.out, { resume: o.resume, overwrite: o.overwrite }, true, async () => {
    const n = alphaGanNets(o);
    const k = o.latentDim;
    const ds = isImage(o.dataset) ? getImageDataset(o.dataset) : getDataset(o.dataset);
    const sampleReal = (b: number, rng: Rng) => ds.sample(b, rng);
    const init = new Rng(o.seed, 0);
    const [nG, nD] = [n.gParams.length, n.dParams.length];
    const gSide = [...n.init(n.gParams, init.fork(1)), ...n.init(n.eParams, init.fork(5))];
    const dSide = [...n.init(n.dParams, init.fork(2)), ...initParams(n.cParams, init.fork(6))];
    const state: TrainState = { step: 0, gValues: gSide, dValues: dSide, gAdam: adamInit(gSide), dAdam: adamInit(dSide), spectral: [], lossD: NaN, lossG: NaN };
    const weightIdx = n.dParams.map((p, i) => (p.shape.length >= 2 ? i : -1)).filter((i) => i >= 0);
    const matrix = (p: ParamSpec): [number, number] => [p.shape[0], p.shape.slice(1).reduce((a, b) => a * b, 1)];
    if (o.spectralNorm) state.spectral = weightIdx.map((i, j) => spectralInit(...matrix(n.dParams[i]), init.fork(3, j)));
    const fp = checkpointOptions({ ...o, model: 'alphagan' });
    const store = folderStore(o.out);
    const resumedFrom = o.resume && store.load(state, fp) ? state.step : 0;

    const dFeed = state.dValues.slice(0, nD).map((v) => new Float32Array(v.length));
    /** D's parameters as the graphs see them: spectrally normalised weights when enabled. */
    const dEffective = (iterations: number): Float32Array[] => {
      const d = state.dValues.slice(0, nD);
      if (!o.spectralNorm) return d;
      d.forEach((v, i) => {
        const j = weightIdx.indexOf(i);
        if (j < 0) dFeed[i].set(v);
        else spectralNormalize(v, state.spectral[j], dFeed[i], iterations);
      });
      return dFeed;
    };
    const spectralGrads = (grads: Float32Array[], dEff: Float32Array[]) => {
      if (!o.spectralNorm) return;
      weightIdx.forEach((i, j) => {
        spectralBackward(grads[i], dEff[i], state.spectral[j]);
      });
    };
    const feedG = () => feedParams(n.gParams, state.gValues.slice(0, nG));
    const feedE = () => feedParams(n.eParams, state.gValues.slice(nG));
    const feedC = () => feedParams(n.cParams, state.dValues.slice(nD));
    const ganNets: GanNets = { ...n, initParams: n.init };

    const critic = alphaCriticGraph(n);
    const auto = alphaAutoencoderGraph(n, o.recWeight);
    const finetune = discriminatorLossGraph(ganNets, 'ns', 0);
    const sessions = [await Session.create(critic)];
    const t0 = performance.now();
    const adamG = { lr: o.lrG, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 };
    const adamD = { ...adamG, lr: o.lrD };
    const B = o.batchSize;
    const batch = (rng: Rng) => ({
      x: { data: sampleReal(B, rng), shape: [B, ...n.dataShape] },
      z: { data: samplePrior('normal', B, k, rng), shape: [B, k] },
    });
    const total = o.steps + o.finetuneD;
    let reconstruction = NaN;
    try {
      sessions.push(await Session.create(auto), await Session.create(finetune));
      const [criticSession, autoSession, finetuneSession] = sessions;
      while (state.step < total) {
        const rng = new Rng(o.seed, 1, state.step);
        if (state.step < o.steps) {
          const dEff = dEffective(1);
          const outD = await criticSession.run({ ...feedParams(n.dParams, dEff), ...feedC(), ...feedG(), ...feedE(), ...batch(rng) });
          const [lossDName, lossCName, ...dNames] = critic.outputs;
          state.lossD = outD[lossDName].data[0];
          const lossC = outD[lossCName].data[0];
          const dGrads = dNames.map((name) => outD[name].data as Float32Array);
          spectralGrads(dGrads, dEff);
          adamStep(state.dValues, dGrads, state.dAdam, adamD);
          const outG = await autoSession.run({ ...feedG(), ...feedE(), ...feedParams(n.dParams, dEffective(0)), ...feedC(), ...batch(rng) });
          const [lossEName, lossGName, recName, ...gNames] = auto.outputs;
          state.lossG = outG[lossGName].data[0];
          reconstruction = outG[recName].data[0];
          const grads = gNames.map((name) => outG[name].data);
          // Outputs are E's gradients, then G's; the generator side is [G, E].
          adamStep(state.gValues, [...grads.slice(n.eParams.length), ...grads.slice(0, n.eParams.length)], state.gAdam, adamG);
          if (![state.lossD, lossC, outG[lossEName].data[0], state.lossG].every(Number.isFinite))
            fail(
              'internal',
              'training',
              'finite losses',
              `loss_d ${state.lossD}, loss_c ${lossC}, loss_g ${state.lossG} at step ${state.step} (lower the learning rates)`,
            );
        } else {
          const dEff = dEffective(1);
          const out = await finetuneSession.run({
            ...feedParams(n.dParams, dEff),
            ...feedG(),
            real: { data: sampleReal(B, rng), shape: [B, ...n.dataShape] },
            z: { data: samplePrior('normal', B, k, rng), shape: [B, k] },
          });
          state.lossD = out[finetune.outputs[0]].data[0];
          if (!Number.isFinite(state.lossD)) fail('internal', 'training', 'a finite D loss', `${state.lossD} at step ${state.step} (lower --lr-d)`);
          const grads = finetune.outputs.slice(1).map((name) => out[name].data as Float32Array);
          spectralGrads(grads, dEff);
          // D alone: C's parameters and moments stay as training left them.
          const head = headOf(state.dAdam, nD);
          adamStep(state.dValues.slice(0, nD), grads, head, adamD);
          state.dAdam.step = head.step;
        }
        state.step++;
        if (state.step % 50 === 0 || state.step === total)
          hooks.onProgress?.({ step: state.step, steps: total, lossD: state.lossD, lossG: state.lossG, reconstruction });
        checkpointAfterStep(state, total, o.checkpointEvery, store, fp, hooks.signal);
      }
    } finally {
      for (const s of sessions) await s.release();
    }
    const seconds = (performance.now() - t0) / 1000;
    const gValues = state.gValues.slice(0, nG);
    const eValues = state.gValues.slice(nG);
    writeFileAtomic(join(o.out, 'generator.onnx'), encodeGraph(exportNet('generator', n.gParams, gValues, 'z', [k], 'x', n.generator)));
    writeFileAtomic(
      join(o.out, 'discriminator.onnx'),
      encodeGraph(exportNet('discriminator', n.dParams, dEffective(0), 'x', n.dataShape, 'logit', n.discriminator)),
    );
    writeFileAtomic(join(o.out, 'encoder.onnx'), encodeGraph(exportNet('encoder', n.eParams, eValues, 'x', n.dataShape, 'z', n.encoder)));
    const meta: ModelMeta = {
      latentDim: k,
      latentPrior: 'normal',
      dataShape: n.dataShape,
      dOutput: 'logit',
      outputRange: n.range,
      dataset: o.dataset,
      extra: {
        producer: 'refinery train --model alphagan',
        model: 'alphagan',
        d_output_semantics: 'logit of P(real) against G(z), fine-tuned with E and G frozen: an estimate of log p_data/p_g',
        encoder: 'encoder.onnx: x -> z ([batch, latent_dim]); refine reconstructions with refine --reconstruct',
        training: { ...fp, steps: o.steps, finetuneD: o.finetuneD },
        final_loss: { d: state.lossD, g: state.lossG, ...(Number.isFinite(reconstruction) ? { reconstruction } : {}) },
      },
    };
    writeMeta(join(o.out, 'meta.json'), meta);
    return { dir: o.out, steps: state.step, seconds, lossD: state.lossD, lossG: state.lossG, resumedFrom, meta };
  });
}
