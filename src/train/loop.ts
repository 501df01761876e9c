/**
 * The GAN training loop without files: loss graphs (ns, hinge, WGAN-GP) differentiated by
 * Refinery's autodiff, the alternating Adam loop with its D fine-tuning phase, spectral
 * normalisation of D, and the export of G and D as standalone ONNX graphs. It runs in Node.js and
 * in browsers; checkpoints go through a `CheckpointStore` (common.ts keeps them in a run folder).
 *
 * Losses, with D(x) the discriminator's output (a logit for ns, a critic score otherwise):
 *   ns (Goodfellow et al. 2014, non-saturating G):
 *     L_D = E softplus(-D(x)) + E softplus(D(G(z))),   L_G = E softplus(-D(G(z)))
 *   hinge (Lim & Ye 2017; Miyato et al. 2018):
 *     L_D = E relu(1 - D(x)) + E relu(1 + D(G(z))),    L_G = -E D(G(z))
 *   wgan-gp (Gulrajani et al. 2017), x^ = e x + (1 - e) G(z), e ~ U(0, 1) per sample:
 *     L_D = E D(G(z)) - E D(x) + lambda E (||grad_x D(x^)||_2 - 1)^2,   L_G = -E D(G(z))
 *   lgan (Zhou et al. 2019, Lipschitz GAN with the exp objective and the max-gradient penalty,
 *   on the same interpolates x^ of the batch):
 *     L_D = E exp(D(G(z))) + E exp(-D(x)) + lambda (max_i ||grad_x D(x^_i)||_2)^2,   L_G = -E D(G(z))
 *   (the penalty is the squared Lipschitz constant k(D)^2 estimated on the batch; without it the
 *   optimum would be D = log(p_data / p_g) / 2, with it D is Lipschitz and its gradients point
 *   from generated samples towards the data, as DOT and DCD assume).
 *   wow (Dukler et al. 2019, Wasserstein of Wasserstein; images only): WGAN-GP with the Euclidean
 *   norm of grad_x D(x^) replaced by its norm in the Wasserstein-2 metric of image space, pixels
 *   being mass on the 4-neighbour grid graph of each channel:
 *     ||g||_W(x)^2 = sum over edges (i, j) of theta_ij(x) (g_i - g_j)^2,   theta_ij = (p_i + p_j) / 2,
 *   p = (x + 1) / 2 the pixel values in [0, 1]; differences and edge weights are depthwise
 *   convolutions with 2-tap kernels, as the paper computes them.
 */
import { RefineryError, fail } from '../errors.js';
import { type DOutput, type LatentPrior, type ModelMeta, parseLatentPrior } from '../models/meta.js';
import { samplePrior } from '../run/latent.js';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph, int } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { adamInit, adamStep, type AdamState } from './adam.js';
import type { ParamSpec } from './mlp.js';
import { spectralBackward, spectralInit, spectralNormalize, type SpectralState } from './spectral.js';

/** GAN losses: 'ns' (non-saturating; D outputs a logit), 'hinge', 'wgan-gp', 'lgan' and 'wow' (D outputs a critic score). */
export const GAN_LOSSES = ['ns', 'hinge', 'wgan-gp', 'lgan', 'wow'] as const;

/** Losses whose D loss has a gradient penalty on interpolates (and so an `eps` input and `gpWeight`). */
export const PENALISED_LOSSES: readonly GanLoss[] = ['wgan-gp', 'lgan', 'wow'];
/** A GAN loss. */
export type GanLoss = (typeof GAN_LOSSES)[number];

/**
 * Options every trainer shares (GANs, the VAE, alpha-GAN; field names are the camelCase of the CLI
 * flags): the run folder, the seed, the updates and their batches, the latent size, Adam's betas
 * and checkpoints.
 */
export interface TrainRunOptions {
  /** Run folder to write: the networks as ONNX (generator.onnx, and discriminator.onnx where the trainer has one), meta.json and checkpoints. */
  out: string;
  /** Seed of the initial parameters and of every training draw. */
  seed: number;
  /** Training steps (what one step updates is the trainer's: G updates for GANs). */
  steps: number;
  /** Real samples and latents per update. */
  batchSize: number;
  /** Size of the latent z. */
  latentDim: number;
  /** Adam beta1 of every network, in [0, 1). */
  beta1: number;
  /** Adam beta2 of every network, in [0, 1). */
  beta2: number;
  /** Steps between checkpoints (one is also written at the end and on cancellation). */
  checkpointEvery: number;
  /** Continue from out/checkpoint.* when present. */
  resume: boolean;
  /** Train afresh into an `out` that holds an earlier run (or its checkpoint), replacing it; otherwise refused unless `resume`. Default false. */
  overwrite?: boolean;
}

/** Options every GAN trainer shares. */
export interface GanLoopOptions extends TrainRunOptions {
  /**
   * The prior z is drawn from (written to meta.json): 'normal' (the default), 'uniform[-1,1]' or
   * 'nonparametric' (Singh et al.'s interpolation prior, `NONPARAMETRIC_PRIOR`).
   */
  prior?: LatentPrior;
  /** The GAN loss. */
  loss: GanLoss;
  /** Spectrally normalise D's weights (one power iteration per use). */
  spectralNorm: boolean;
  /**
   * Spectrally normalise G's weights too (SAGAN; one power iteration per training step, the same
   * normalised G serving that step's D and G updates). Absent: off.
   */
  spectralNormG?: boolean;
  /** Adam learning rate of G, in (0, 1). */
  lrG: number;
  /** Adam learning rate of D, in (0, 1). */
  lrD: number;
  /** D updates per G update. */
  dSteps: number;
  /** Extra D-only steps after training, with G frozen, so D estimates the density ratio of the final G. */
  finetuneD: number;
  /** Weight lambda of the gradient penalty (losses 'wgan-gp' and 'lgan'). */
  gpWeight: number;
}

/** What a trainer returns: the run folder, steps done, time, final losses and the meta.json written. */
export interface GanResult {
  /** The run folder written (`out`). */
  dir: string;
  /** Total steps: GAN steps plus D fine-tuning steps. */
  steps: number;
  /** Wall-clock time of this call's training loop, in seconds. */
  seconds: number;
  /** Last D loss. */
  lossD: number;
  /** Last G loss (fine-tuning steps do not update it). */
  lossG: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
  /** The meta.json written to the run folder. */
  meta: ModelMeta;
}

/** The networks of a GAN, as subgraphs reading their parameters from named values. */
export interface GanNets {
  latentDim: number;
  /** Shape of one sample, without the batch axis ([2] for points, [c, h, w] for images). */
  dataShape: number[];
  gParams: ParamSpec[];
  dParams: ParamSpec[];
  /** Append G to `g`: z [batch, latentDim] -> x [batch, ...dataShape]. */
  generator(g: Graph, z: string, params: string[]): string;
  /** Append D to `g`: x [batch, ...dataShape] -> [batch, 1]. */
  discriminator(g: Graph, x: string, params: string[]): string;
  /** Seeded initial values of `params` (G's or D's). */
  initParams(params: ParamSpec[], rng: Rng): Float32Array[];
}

/** Progress of a training run, reported every few steps and at the last. */
export interface TrainProgress {
  /** Steps done (GAN steps, then D fine-tuning steps). */
  step: number;
  /** Total steps: `steps` + `finetuneD`. */
  steps: number;
  /** D loss of the latest D update. */
  lossD: number;
  /** G loss of the latest G update. */
  lossG: number;
}

export interface GanHooks {
  onProgress?: (p: TrainProgress) => void;
  signal?: AbortSignal;
}

/** Validate the shared options, naming the CLI flag of a bad value. */
export function validateLoopOptions(o: GanLoopOptions): void {
  const positiveInt = (v: number, path: string) => {
    if (!Number.isInteger(v) || v < 1) fail('invalid_argument', path, 'a positive integer', String(v));
  };
  positiveInt(o.steps, 'steps');
  positiveInt(o.batchSize, 'batchSize');
  positiveInt(o.latentDim, 'latentDim');
  positiveInt(o.dSteps, 'dSteps');
  positiveInt(o.checkpointEvery, 'checkpointEvery');
  if (o.prior !== undefined) parseLatentPrior(o.prior, 'prior');
  if (!Number.isInteger(o.finetuneD) || o.finetuneD < 0) fail('invalid_argument', 'finetuneD', 'a non-negative integer', String(o.finetuneD));
  if (!Number.isInteger(o.seed)) fail('invalid_argument', 'seed', 'an integer', String(o.seed));
  for (const [v, p] of [
    [o.lrG, 'lrG'],
    [o.lrD, 'lrD'],
  ] as const)
    if (!(v > 0 && v < 1)) fail('invalid_argument', p, 'a learning rate in (0, 1)', String(v));
  for (const [v, p] of [
    [o.beta1, 'beta1'],
    [o.beta2, 'beta2'],
  ] as const)
    if (!(v >= 0 && v < 1)) fail('invalid_argument', p, 'a number in [0, 1)', String(v));
  if (o.spectralNormG !== undefined && typeof o.spectralNormG !== 'boolean')
    fail('invalid_argument', 'spectralNormG', 'true or false', String(o.spectralNormG));
  if (!(o.gpWeight >= 0)) fail('invalid_argument', 'gpWeight', 'a non-negative number', String(o.gpWeight));
  if (!(GAN_LOSSES as readonly string[]).includes(o.loss)) fail('invalid_argument', 'loss', `one of ${GAN_LOSSES.join(', ')}`, String(o.loss));
  // In memory there is no run folder.
  if (o.out !== undefined && (typeof o.out !== 'string' || o.out === '')) fail('invalid_argument', 'out', 'a folder path', String(o.out));
}

export function addParamInputs(g: Graph, params: ParamSpec[]): string[] {
  return params.map((p) => g.addInput(p.name, 'float32', p.shape));
}

export function feedParams(specs: ParamSpec[], values: Float32Array[]): Record<string, { data: Float32Array; shape: number[] }> {
  return Object.fromEntries(specs.map((p, i) => [p.name, { data: values[i], shape: p.shape }]));
}

const mean = (g: Graph, x: string) => g.op('ReduceMean', [x], { keepdims: int(0) });

/**
 * D loss graph: inputs D params, G params, real [batch, ...dataShape], z [batch, latentDim] and,
 * for wgan-gp and lgan, eps [batch, 1, ...] (the interpolation weights); outputs the loss, then dL/d(each D param).
 */
export function discriminatorLossGraph(n: GanNets, loss: GanLoss, gpWeight: number): Graph {
  const g = new Graph();
  const dp = addParamInputs(g, n.dParams);
  const gp = addParamInputs(g, n.gParams);
  const real = g.addInput('real', 'float32', ['batch', ...n.dataShape]);
  const z = g.addInput('z', 'float32', ['batch', n.latentDim]);
  const fake = n.generator(g, z, gp);
  const dReal = n.discriminator(g, real, dp);
  const dFake = n.discriminator(g, fake, dp);
  let out: string;
  if (loss === 'ns') {
    out = g.op('Add', [mean(g, g.op('Softplus', [g.op('Neg', [dReal])])), mean(g, g.op('Softplus', [dFake]))]);
  } else if (loss === 'hinge') {
    const one = g.scalar(1);
    out = g.op('Add', [mean(g, g.op('Relu', [g.op('Sub', [one, dReal])])), mean(g, g.op('Relu', [g.op('Add', [one, dFake])]))]);
  } else {
    // ||grad_x D(x^)|| per sample, x^ = eps real + (1 - eps) fake.
    const eps = g.addInput('eps', 'float32', ['batch', ...n.dataShape.map(() => 1)]);
    const xhat = g.op('Add', [g.op('Mul', [eps, real]), g.op('Mul', [g.op('Sub', [g.scalar(1), eps]), fake])]);
    const dHat = n.discriminator(g, xhat, dp);
    const gx = differentiate(g, { [dHat]: onesLike(g, dHat) }, [xhat]).get(xhat)!;
    const axes = n.dataShape.map((_, i) => i + 1);
    const sumSq =
      loss === 'wow'
        ? g.op('ReduceSum', [wassersteinSquaredNorm(g, gx, xhat, n.dataShape), g.int64s([1])], { keepdims: int(0) })
        : g.op('ReduceSum', [g.op('Mul', [gx, gx]), g.int64s(axes)], { keepdims: int(0) });
    const norm = g.op('Sqrt', [g.op('Add', [sumSq, g.scalar(1e-12)])]);
    if (loss === 'wgan-gp' || loss === 'wow') {
      const dev = g.op('Sub', [norm, g.scalar(1)]);
      const penalty = g.op('Mul', [mean(g, g.op('Mul', [dev, dev])), g.scalar(gpWeight)]);
      out = g.op('Add', [g.op('Sub', [mean(g, dFake), mean(g, dReal)]), penalty]);
    } else {
      const k = g.op('ReduceMax', [norm], { keepdims: int(0) });
      const penalty = g.op('Mul', [g.op('Mul', [k, k]), g.scalar(gpWeight)]);
      out = g.op('Add', [g.op('Add', [mean(g, g.op('Exp', [dFake])), mean(g, g.op('Exp', [g.op('Neg', [dReal])]))]), penalty]);
    }
  }
  const grads = differentiate(g, { [out]: onesLike(g, out) }, dp);
  g.outputs = [out, ...dp.map((p) => grads.get(p)!)];
  return g;
}

/**
 * The terms of WoW's squared norm ||g||_W(x)^2 (see the module doc), per edge: for g and x of
 * shape [batch, c, h, w], horizontal edges [batch, c, h, w - 1] and vertical ones
 * [batch, c, h - 1, w], flattened and concatenated ([batch, edges]); ReduceSum over axis 1 sums
 * them. Depthwise convolutions (group c) take the differences g_j - g_i and the weights
 * (p_i + p_j) / 2 = (x_i + x_j) / 4 + 1/2 of neighbouring pixels.
 */
function wassersteinSquaredNorm(g: Graph, grad: string, x: string, dataShape: number[]): string {
  if (dataShape.length !== 3) {
    fail('invalid_argument', 'loss', "'wow' for images (samples [c, h, w]; use wgan-gp on other data)", `samples of shape [${dataShape.join(', ')}]`);
  }
  const c = dataShape[0];
  const terms: string[] = [];
  for (const kernel of [
    [1, 2],
    [2, 1],
  ]) {
    const weights = (a: number, b: number) =>
      g.float32(
        Float32Array.from({ length: c * 2 }, (_, i) => (i % 2 === 0 ? a : b)),
        [c, 1, ...kernel],
      );
    const conv = (v: string, w: string) => g.op('Conv', [v, w], { group: int(c) });
    const diff = conv(grad, weights(-1, 1));
    const theta = g.op('Add', [conv(x, weights(0.25, 0.25)), g.scalar(0.5)]);
    terms.push(g.op('Flatten', [g.op('Mul', [theta, g.op('Mul', [diff, diff])])], { axis: int(1) }));
  }
  return g.op('Concat', terms, { axis: int(1) });
}

/** G loss graph: inputs G params, D params, z; outputs the loss, then dL/d(each G param). */
export function generatorLossGraph(n: GanNets, loss: GanLoss): Graph {
  const g = new Graph();
  const gp = addParamInputs(g, n.gParams);
  const dp = addParamInputs(g, n.dParams);
  const z = g.addInput('z', 'float32', ['batch', n.latentDim]);
  const dFake = n.discriminator(g, n.generator(g, z, gp), dp);
  const out = loss === 'ns' ? mean(g, g.op('Softplus', [g.op('Neg', [dFake])])) : g.op('Neg', [mean(g, dFake)]);
  const grads = differentiate(g, { [out]: onesLike(g, out) }, gp);
  g.outputs = [out, ...gp.map((p) => grads.get(p)!)];
  return g;
}

/**
 * A standalone inference graph named `name`: one input `input` [batch, ...inputShape], the
 * parameters baked in as initializers, one output `output` (made by `build`).
 */
export function exportNet(
  name: string,
  params: ParamSpec[],
  values: Float32Array[],
  input: string,
  inputShape: number[],
  output: string,
  build: (g: Graph, x: string, params: string[]) => string,
): Graph {
  const g = new Graph();
  g.name = name;
  const x = g.addInput(input, 'float32', ['batch', ...inputShape]);
  const names = params.map((p, i) => g.addInitializer(p.name, { dtype: 'float32', dims: p.shape, data: values[i] }));
  g.add('Identity', [build(g, x, names)], {}, [output]);
  g.outputs = [output];
  return g;
}

/** What D's output means for a loss, as recorded in meta.json. */
export function dOutputOf(loss: GanLoss): { dOutput: DOutput; semantics: string } {
  return loss === 'ns'
    ? { dOutput: 'logit', semantics: 'logit of P(real): an estimate of log p_data/p_g' }
    : { dOutput: 'critic', semantics: `${loss} critic score (higher = more real)` };
}

// ---------------------------------------------------------------------------------------------
// Training state and checkpoints

export interface TrainState {
  step: number;
  gValues: Float32Array[];
  dValues: Float32Array[];
  gAdam: AdamState;
  dAdam: AdamState;
  spectral: SpectralState[];
  /** Last D and G losses (NaN before the first step), kept so a resumed run reports the same. */
  lossD: number;
  lossG: number;
}

/**
 * The options that must agree for --resume: all but out, resume, overwrite, steps, finetuneD and
 * checkpointEvery (so a finished run can be extended), plus anything in `extra` (e.g. a data fingerprint).
 */
export function checkpointOptions(o: object, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const { out: _out, resume: _resume, overwrite: _ow, steps: _steps, finetuneD: _f, checkpointEvery: _ce, ...rest } = o as Record<string, unknown>;
  // The normal prior is the one runs had before priors were an option: their checkpoints still match.
  if (rest.prior === 'normal') delete rest.prior;
  return { ...rest, ...extra };
}

// ---------------------------------------------------------------------------------------------
// The training loop

export interface GanLoopSpec {
  options: GanLoopOptions;
  nets: GanNets;
  /** What must match for --resume (usually checkpointOptions(options, {data fingerprint})). */
  fingerprint: Record<string, unknown>;
  /** A batch of real data [n, ...dataShape], drawn with `rng`. */
  sampleReal(n: number, rng: Rng): Float32Array;
  /** Steps between progress reports (and the last step). */
  progressEvery: number;
  /** Session options for the loss graphs. */
  threads?: number;
  /** Where checkpoints go (a run folder; none in memory). */
  store?: CheckpointStore;
}

/**
 * What every training loop does after step `state.step` of `steps`: a checkpoint every `every`
 * steps and at the last; on a stop before the last, a checkpoint, then a 'cancelled' error.
 */
export function checkpointAfterStep(
  state: TrainState,
  steps: number,
  every: number,
  store: CheckpointStore | undefined,
  fingerprint: Record<string, unknown>,
  signal: AbortSignal | undefined,
): void {
  if (state.step % every === 0 || state.step === steps) store?.save(state, fingerprint);
  if (signal?.aborted && state.step < steps) {
    store?.save(state, fingerprint);
    throw new RefineryError('cancelled', [
      { path: 'training', expected: 'to run to the end', received: `a stop at step ${state.step} (resume with --resume)` },
    ]);
  }
}

/** Where a training loop keeps its checkpoints. */
export interface CheckpointStore {
  /** Restore `s` from the latest checkpoint; false when there is none. Options that differ are refused. */
  load(s: TrainState, options: Record<string, unknown>): boolean;
  /** Save `s` as one atomic unit. */
  save(s: TrainState, options: Record<string, unknown>): void;
}

export interface GanLoopResult {
  gValues: Float32Array[];
  /** D parameters as exported: spectrally normalised weights when spectral norm is on. */
  dValues: Float32Array[];
  lossD: number;
  lossG: number;
  /** Total steps (GAN steps + D fine-tuning steps). */
  steps: number;
  seconds: number;
  /** Step the run resumed from (0 for a fresh run). */
  resumedFrom: number;
}

/**
 * Train: parameters from Rng(seed, 0) forks (1: G, 2: D, (3, k): spectral u of D weight k, (4, k):
 * of G weight k with spectralNormG); step t
 * draws its data, latents and interpolation weights from Rng(seed, 1, t): for each of the dSteps D
 * updates real, z (and eps for wgan-gp), then z for the G update. Steps t >= `steps` update D only
 * (one update each) against the frozen G. Checkpoints every `checkpointEvery` steps, at the end
 * and on cancellation; with `resume`, continues from a checkpoint to the bit-identical result.
 */
export async function runGanLoop(spec: GanLoopSpec, hooks: GanHooks = {}): Promise<GanLoopResult> {
  const { options: o, nets: n } = spec;
  const init = new Rng(o.seed, 0);
  const gValues = n.initParams(n.gParams, init.fork(1));
  const dValues = n.initParams(n.dParams, init.fork(2));
  const state: TrainState = { step: 0, gValues, dValues, gAdam: adamInit(gValues), dAdam: adamInit(dValues), spectral: [], lossD: NaN, lossG: NaN };
  const weights = (params: ParamSpec[]) => params.map((p, i) => (p.shape.length >= 2 ? i : -1)).filter((i) => i >= 0);
  const weightIdx = weights(n.dParams);
  const gWeightIdx = weights(n.gParams);
  // A weight [out, in, ...] is normalised as the matrix [out, in x ...] (PyTorch takes dim 1 of a
  // ConvTranspose weight [in, out, k, k] as its rows; Refinery always the first axis).
  const matrix = (p: ParamSpec): [number, number] => [p.shape[0], p.shape.slice(1).reduce((a, b) => a * b, 1)];
  // The spectral states: D's weights', then (with spectralNormG) G's; checkpoints keep them in this order.
  if (o.spectralNorm) state.spectral = weightIdx.map((i, k) => spectralInit(...matrix(n.dParams[i]), init.fork(3, k)));
  const gSpectralFrom = state.spectral.length;
  if (o.spectralNormG) state.spectral.push(...gWeightIdx.map((i, k) => spectralInit(...matrix(n.gParams[i]), init.fork(4, k))));
  const resumedFrom = o.resume && spec.store?.load(state, spec.fingerprint) ? state.step : 0;

  const dGraph = discriminatorLossGraph(n, o.loss, o.gpWeight);
  const gGraph = generatorLossGraph(n, o.loss);
  const dSession = await Session.create(dGraph, { threads: spec.threads });
  let gSession: Session | undefined;
  const t0 = performance.now();
  const B = o.batchSize;
  const adam = (lr: number) => ({ lr, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 });
  const dFeedValues = state.dValues.map((v) => new Float32Array(v.length));
  /** D parameters as fed to the graphs: spectrally normalised weights when enabled (one power iteration each call). */
  const dEffective = (): Float32Array[] => {
    if (!o.spectralNorm) return state.dValues;
    state.dValues.forEach((v, i) => {
      const k = weightIdx.indexOf(i);
      if (k < 0) dFeedValues[i].set(v);
      else spectralNormalize(v, state.spectral[k], dFeedValues[i]);
    });
    return dFeedValues;
  };
  const gFeedValues = state.gValues.map((v) => new Float32Array(v.length));
  /**
   * G parameters as fed to the graphs: with spectralNormG, weights normalised after `iterations`
   * power iterations (1 per GAN step; 0 for the frozen G of the D fine-tuning phase and the export,
   * so that D is fine-tuned against the G that is exported).
   */
  const gEffective = (iterations: number): Float32Array[] => {
    if (!o.spectralNormG) return state.gValues;
    state.gValues.forEach((v, i) => {
      const k = gWeightIdx.indexOf(i);
      if (k < 0) gFeedValues[i].set(v);
      else spectralNormalize(v, state.spectral[gSpectralFrom + k], gFeedValues[i], iterations);
    });
    return gFeedValues;
  };
  const dataShape = [B, ...n.dataShape];
  const total = o.steps + o.finetuneD;
  try {
    gSession = await Session.create(gGraph, { threads: spec.threads });
    while (state.step < total) {
      const finetune = state.step >= o.steps;
      const rng = new Rng(o.seed, 1, state.step);
      const gEff = gEffective(finetune ? 0 : 1);
      for (let k = 0; k < (finetune ? 1 : o.dSteps); k++) {
        const dEff = dEffective();
        const feeds: Record<string, { data: Float32Array; shape: number[] }> = {
          ...feedParams(n.dParams, dEff),
          ...feedParams(n.gParams, gEff),
          real: { data: spec.sampleReal(B, rng), shape: dataShape },
          z: { data: samplePrior(o.prior ?? 'normal', B, o.latentDim, rng), shape: [B, o.latentDim] },
        };
        if (PENALISED_LOSSES.includes(o.loss)) feeds.eps = { data: rng.fillUniform(new Float32Array(B)), shape: [B, ...n.dataShape.map(() => 1)] };
        const out = await dSession.run(feeds);
        state.lossD = out[dGraph.outputs[0]].data[0];
        const grads = dGraph.outputs.slice(1).map((name) => out[name].data);
        if (o.spectralNorm) {
          weightIdx.forEach((i, k2) => {
            spectralBackward(grads[i], dEff[i], state.spectral[k2]);
          });
        }
        adamStep(state.dValues, grads, state.dAdam, adam(o.lrD));
      }
      if (!finetune) {
        const out = await gSession.run({
          ...feedParams(n.gParams, gEff),
          ...feedParams(n.dParams, dEffective()),
          z: { data: samplePrior(o.prior ?? 'normal', B, o.latentDim, rng), shape: [B, o.latentDim] },
        });
        state.lossG = out[gGraph.outputs[0]].data[0];
        const grads = gGraph.outputs.slice(1).map((name) => out[name].data);
        if (o.spectralNormG) {
          gWeightIdx.forEach((i, k) => {
            spectralBackward(grads[i], gEff[i], state.spectral[gSpectralFrom + k]);
          });
        }
        adamStep(state.gValues, grads, state.gAdam, adam(o.lrG));
      }
      const { lossD, lossG } = state;
      if (!Number.isFinite(lossD) || (!finetune && !Number.isFinite(lossG))) {
        fail('internal', 'training', 'finite losses', `loss_d ${lossD}, loss_g ${lossG} at step ${state.step} (lower the learning rates)`);
      }
      state.step++;
      if (state.step % spec.progressEvery === 0 || state.step === total) hooks.onProgress?.({ step: state.step, steps: total, lossD, lossG });
      checkpointAfterStep(state, total, o.checkpointEvery, spec.store, spec.fingerprint, hooks.signal);
    }
  } finally {
    await dSession.release();
    await gSession?.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  return {
    gValues: gEffective(0).map((v) => Float32Array.from(v)),
    dValues: dEffective().map((v) => Float32Array.from(v)),
    lossD: state.lossD,
    lossG: state.lossG,
    steps: total,
    seconds,
    resumedFrom,
  };
}
