/**
 * DRE-F-SP: density-ratio estimation in a feature space with the softplus (logistic) loss, the
 * estimator Ansari, Ang & Soh (2021, "Refining Deep Generative Models via Discriminator Gradient
 * Flow") use when a model's own discriminator is not a density-ratio estimator (WGAN/MMD critics).
 * A small MLP r(f(x)) on features f(x) (identity/flatten for low-dimensional data; any ONNX
 * feature extractor [batch, ...] -> [batch, k] for images) is trained on held-out real samples
 * (label 1) and fresh generator samples (label 0) to minimise
 *
 *   L(r) = E_real softplus(-r(f(x))) + E_fake softplus(r(f(x))) + lambda (E_fake exp(r(f(x))) - 1)^2.
 *
 * The first two terms are the logistic loss with equal class weights, minimised over all
 * functions by r = log p_data(f) / p_g(f) (the log ratio of the feature laws, = log p_data/p_g when
 * f is injective). The penalty is the normalisation constraint of a density ratio,
 * E_{p_g}[p_data/p_g] = 1, which holds at that optimum, so it does not move the minimiser;
 * with finite samples it keeps exp(r) normalised on the generator law (what rejection and
 * importance weighting consume). Expectations are minibatch means.
 *
 * Features are standardised, (f - mean) / std per feature over the pooled real and fake
 * features (std floored at 1% of the largest feature's std), before the MLP; the standardisation
 * is baked into the critic.
 * The critic is returned as an ONNX graph x -> logit [batch, 1] (feature extractor inlined,
 * standardisation, MLP with its weights as initializers) with dOutput 'logit', so any method
 * uses it through a ModelPair whose discriminator is replaced.
 *
 * Training: Adam (beta1 0.9, beta2 0.999) on minibatches of `batchSize` reals and `batchSize`
 * fakes drawn with replacement from the pools; the loss and its gradients are one ONNX graph
 * differentiated by Refinery's autodiff. Random streams (all from `seed`): fake chunk c latents
 * Rng(seed, DRE_STREAM, 0, c); initial weights Rng(seed, DRE_STREAM, 1); minibatch of step t
 * Rng(seed, DRE_STREAM, 2, t). Same seed and options give a bit-identical critic.
 */
import { fail, RefineryError } from '../../errors.js';
import type { ModelPair } from '../../models/pair.js';
import { differentiate, onesLike } from '../../onnx/autodiff.js';
import { inline } from '../../onnx/compose.js';
import { Graph, int } from '../../onnx/graph.js';
import { fmtShape } from '../../onnx/ops/util.js';
import { Session } from '../../onnx/session.js';
import { Rng } from '../../rng.js';
import { adamInit, adamStep, linearDecay } from '../../train/adam.js';
import { type Activation, appendMlp, initParams, type MlpSpec, mlpParams, type ParamSpec } from '../../train/mlp.js';
import { drawFakes } from '../../calibration/calibrate.js';
import { checkRows } from '../../data/real.js';
import { softplus } from '../../calibration/logistic.js';
import { ksTwoSample } from '../../metrics/ks.js';

export const DRE_ACTIVATIONS = ['relu', 'leaky_relu', 'tanh'] as const;

/** Options of the DRE-F-SP network's training (the dre-* methods' `dre*` options without the prefix). */
export interface DreFspOptions {
  /** Adam steps (CLI --dre-steps). */
  steps: number;
  /** Weight of the normalisation penalty (E_fake exp(r) - 1)^2 (CLI --dre-lambda). */
  lambda: number;
  /** Width of each hidden layer (CLI --dre-hidden). */
  hidden: number;
  /** Number of hidden layers (CLI --dre-layers). */
  layers: number;
  /** Hidden activation (CLI --dre-activation). */
  activation: Activation;
  /** Adam learning rate (CLI --dre-lr). */
  lr: number;
  /** Reals and fakes per minibatch, each (CLI --dre-batch-size). */
  batchSize: number;
  /** Decay the learning rate linearly to 0 over the steps (CLI --dre-lr-decay). */
  lrDecay: boolean;
  /** Fresh generator samples in the fake pool; 0: as many as real samples (CLI --dre-fakes). */
  numFake: number;
  /**
   * Candidate penalty weights (CLI --dre-lambdas): with two or more and a validation split, one
   * critic is trained per value on the training split and the one with the least validation
   * logistic loss is kept (its lambda replaces `lambda`); with one, `lambda` is used.
   */
  lambdas: number[];
  /** Fraction of the real and fake pools held out for the selection and the KS check (CLI --dre-validation; 0: none). */
  validation: number;
  /**
   * Early stopping (CLI --dre-early-stop): every this many steps the validation logistic loss is
   * measured and the parameters of the least one are kept (0: the last step's). Needs a
   * validation split.
   */
  earlyStop: number;
}

/**
 * Defaults. 5,000 steps with the learning rate decayed linearly to 0, and 20% of both pools held
 * out for the KS overfitting check: on a 4-mode exact case (src/methods/estimators/drefsp.test.ts)
 * SIR through the critic then weighs the modes within 14% of the truth on three seeds, where
 * 2,000 steps at a constant rate (the former defaults) were off by up to 38%: the final iterate
 * of constant-rate Adam carries a batch's noise into r. Selecting lambda on the validation split
 * (`lambdas`) changed the weights by at most 2 points there, so it is an option. Early stopping
 * (`earlyStop`) is an option too, off by default (the 2-D tables use the defaults); the MNIST
 * benchmark turns it on, where 1,600 training digits leave the last step's critic
 * overfitted.
 */
export const DRE_FSP_DEFAULTS: DreFspOptions = {
  steps: 5000,
  lambda: 0.01,
  hidden: 64,
  layers: 2,
  activation: 'relu',
  lr: 1e-3,
  batchSize: 256,
  lrDecay: true,
  numFake: 0,
  lambdas: [0.01],
  validation: 0.2,
  earlyStop: 0,
};

/** Stream label of DRE-F-SP draws (Rng(seed, DRE_STREAM, ...)). */
export const DRE_STREAM = 0xd7e5;

export function validateDreFsp(o: DreFspOptions): void {
  const positiveInt = (v: number, path: string) => {
    if (!Number.isInteger(v) || v < 1) fail('invalid_argument', path, 'a positive integer', String(v));
  };
  positiveInt(o.steps, 'dreSteps');
  positiveInt(o.hidden, 'dreHidden');
  positiveInt(o.layers, 'dreLayers');
  positiveInt(o.batchSize, 'dreBatchSize');
  if (!Number.isInteger(o.numFake) || o.numFake < 0)
    fail('invalid_argument', 'dreFakes', 'a non-negative integer (0: as many as real samples)', String(o.numFake));
  if (!(o.lambda >= 0) || !Number.isFinite(o.lambda)) fail('invalid_argument', 'dreLambda', 'a non-negative number', String(o.lambda));
  if (!(o.lr > 0 && o.lr < 1)) fail('invalid_argument', 'dreLr', 'a learning rate in (0, 1)', String(o.lr));
  if (!Array.isArray(o.lambdas) || o.lambdas.length === 0 || !o.lambdas.every((v) => typeof v === 'number' && v >= 0 && Number.isFinite(v)))
    fail('invalid_argument', 'dreLambdas', 'a non-empty list of non-negative numbers', String(o.lambdas));
  if (typeof o.lrDecay !== 'boolean') fail('invalid_argument', 'dreLrDecay', 'true or false', String(o.lrDecay));
  if (!(o.validation >= 0 && o.validation < 0.5)) fail('invalid_argument', 'dreValidation', 'a fraction in [0, 0.5)', String(o.validation));
  if (!Number.isInteger(o.earlyStop) || o.earlyStop < 0)
    fail('invalid_argument', 'dreEarlyStop', 'a non-negative integer (steps between validation checks; 0: off)', String(o.earlyStop));
  if (o.earlyStop > 0 && o.validation === 0)
    fail('invalid_argument', 'dreEarlyStop', '0 when --dre-validation is 0 (early stopping needs a validation split)', String(o.earlyStop));
  if (!(DRE_ACTIVATIONS as readonly string[]).includes(o.activation))
    fail('invalid_argument', 'dreActivation', `one of ${DRE_ACTIVATIONS.join(', ')}`, String(o.activation));
}

export interface DreFspInput {
  pair: ModelPair;
  /** Held-out real samples [m, ...dataShape], m >= 2. */
  real: Float32Array | undefined;
  seed: number;
  /** Feature extractor [batch, ...dataShape] -> [batch, k] (CLI --dre-features); default identity (flattened). */
  features?: Graph;
  /** Rows per ONNX batch when generating fakes and extracting features (default 512). */
  chunkSize?: number;
}

/** What training the DRE-F-SP network reports (a dre-* method's summary under `dre`; `trainRatio`'s meta.json under `ratio`). */
export interface DreFspReport {
  /** Always 'dre-f-sp'. */
  method: 'dre-f-sp';
  /** The seed of the fake pool, the splits and the initialisation. */
  seed: number;
  /** Adam steps run (per candidate lambda). */
  steps: number;
  /** Real samples given (before the validation split). */
  nReal: number;
  /** Generated samples drawn into the fake pool. */
  nFake: number;
  /** Width of the features the network reads. */
  featureDim: number;
  /** 'identity': the flattened sample; 'graph': a feature extractor's output. */
  features: 'identity' | 'graph';
  /** The options it was trained with. */
  options: DreFspOptions;
  /** Final loss terms over the whole pools (float64): L = lossReal + lossFake + lambda penalty. */
  loss: number;
  /** The softplus term on the real pool. */
  lossReal: number;
  /** The softplus term on the fake pool. */
  lossFake: number;
  /** (E_fake exp(r) - 1)^2 on the fake pool. */
  penalty: number;
  /** E_fake exp(r) on the fake pool (1 for an exact ratio). */
  meanExpFake: number;
  /** Minibatch loss of the last step. */
  lastBatchLoss: number;
  /** Fraction of the pools classified correctly (r > 0 for reals, r < 0 for fakes). */
  accuracy: number;
  /** The critic's output is clipped to [least value on the real and fake pools, largest value on the real pool]. */
  range: [number, number];
  /** The lambda of the critic returned (selected, or `lambda`). */
  lambda: number;
  /** With early stopping: the step whose parameters were kept and its validation logistic loss. */
  earlyStop?: { step: number; validationLoss: number };
  /** With a validation split and two or more lambdas: the validation logistic loss of each. */
  selection?: { lambdas: number[]; validationLoss: number[] };
  /**
   * With a validation split: two-sample KS tests of the critic's values on training vs held-out
   * samples, per class. An overfitted critic scores its training samples differently from new
   * ones; `overfit` is true when either p-value is below 0.01.
   */
  ks?: { real: { statistic: number; pValue: number }; fake: { statistic: number; pValue: number }; overfit: boolean };
  /** Wall-clock time of the training. */
  seconds: number;
}

export interface DreFspResult {
  /** x -> logit [batch, 1] = r(f(x)), an estimate of log p_data(x) / p_g(x). */
  critic: Graph;
  /** The input pair with the discriminator replaced by the critic (dOutput 'logit'). */
  pair: ModelPair;
  report: DreFspReport;
  /** The trained MLP on standardised features: (f - mean) / std -> r. */
  mlp: { spec: MlpSpec; params: ParamSpec[]; values: Float32Array[]; mean: Float32Array; std: Float32Array };
}

export interface DreFspHooks {
  signal?: AbortSignal;
  onProgress?: (step: number, steps: number) => void;
}

/** Check a feature extractor against the data shape; returns k. */
export function checkFeatures(features: Graph, dataShape: number[]): number {
  if (features.inputs.length !== 1 || features.outputs.length < 1)
    fail(
      'invalid_model',
      'dreFeatures',
      'a graph with one input [batch, ...data shape] and an output [batch, k]',
      `${features.inputs.length} inputs, ${features.outputs.length} outputs`,
    );
  const inShape = features.inputs[0].shape;
  const ok = inShape.length === dataShape.length + 1 && dataShape.every((d, i) => typeof inShape[i + 1] !== 'number' || inShape[i + 1] === d);
  if (!ok) fail('shape_mismatch', `dreFeatures input ${features.inputs[0].name}`, `shape ${fmtShape(['batch', ...dataShape])}`, fmtShape(inShape));
  const outShape = features.info(features.outputs[0]).shape;
  const k = outShape[1];
  if (outShape.length !== 2 || typeof k !== 'number' || k < 1)
    fail('invalid_model', `dreFeatures output ${features.outputs[0]}`, 'shape [batch, k] with a fixed k', fmtShape(outShape));
  return k;
}

/** Append the feature map on x [batch, ...dataShape] to g: the inlined extractor, or a flatten. */
function appendFeatures(g: Graph, x: string, features: Graph | undefined, prefix: string): string {
  if (features) return inline(g, features, prefix, { [features.inputs[0].name]: x })[features.outputs[0]];
  return g.rank(x) === 2 ? x : g.op('Flatten', [x], { axis: int(1) });
}

/** Append (f - mean) / std then the MLP with its weights as initializers; returns r [batch, 1]. */
function appendCriticHead(g: Graph, f: string, spec: MlpSpec, params: ParamSpec[], values: Float32Array[], mean: Float32Array, std: Float32Array): string {
  const k = mean.length;
  const z = g.op('Div', [g.op('Sub', [f, g.float32(mean, [1, k])]), g.float32(std, [1, k])]);
  const names = params.map((p, i) => g.addInitializer(p.name, { dtype: 'float32', dims: p.shape, data: values[i] }));
  return appendMlp(g, spec, z, names);
}

/** Features of `rows` data rows, in chunks. Identity features are the data itself. */
async function extract(
  features: Graph | undefined,
  data: Float32Array,
  rows: number,
  dataShape: number[],
  k: number,
  chunk: number,
  signal?: AbortSignal,
): Promise<Float32Array> {
  if (!features) return data;
  const size = dataShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(rows * k);
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', ...dataShape]);
  g.outputs = [g.op('Identity', [appendFeatures(g, x, features, 'f/')])];
  const session = await Session.create(g);
  try {
    for (let start = 0; start < rows; start += chunk) {
      if (signal?.aborted) throw new RefineryError('cancelled', [{ path: 'dre-f-sp features', expected: 'to finish', received: 'a stop' }]);
      const r = Math.min(chunk, rows - start);
      const res = (await session.runRows({ x: { data: data.subarray(start * size, (start + r) * size), shape: [r, ...dataShape] } }))[g.outputs[0]];
      if (res.data.length !== r * k) fail('shape_mismatch', 'dreFeatures output', `${r * k} values`, String(res.data.length));
      out.set(res.data, start * k);
    }
  } finally {
    await session.release();
  }
  for (let i = 0; i < out.length; i++) {
    if (!Number.isFinite(out[i])) fail('invalid_model', 'dreFeatures', 'finite features', `${out[i]} at row ${Math.floor(i / k)}`);
  }
  return out;
}

/** The logistic loss of critic values on real and fake samples, equal class weights (float64). */
function validationLoss(rr: Float32Array, rf: Float32Array): number {
  let l = 0;
  for (const x of rr) l += softplus(-x) / rr.length;
  for (const x of rf) l += softplus(x) / rf.length;
  return l;
}

const mean = (g: Graph, x: string) => g.op('ReduceMean', [x], { keepdims: int(0) });

/** Loss graph: inputs MLP params, real [B, k], fake [B, k]; outputs loss, lossReal, lossFake, E exp(r_fake), grads. */
function lossGraph(spec: MlpSpec, params: ParamSpec[], k: number, lambda: number): Graph {
  const g = new Graph();
  g.name = 'dre_f_sp_loss';
  const p = params.map((q) => g.addInput(q.name, 'float32', q.shape));
  const real = g.addInput('real', 'float32', ['batch', k]);
  const fake = g.addInput('fake', 'float32', ['batch', k]);
  const rReal = appendMlp(g, spec, real, p);
  const rFake = appendMlp(g, spec, fake, p);
  const lossReal = mean(g, g.op('Softplus', [g.op('Neg', [rReal])]));
  const lossFake = mean(g, g.op('Softplus', [rFake]));
  const expFake = mean(g, g.op('Exp', [rFake]));
  let loss = g.op('Add', [lossReal, lossFake]);
  if (lambda > 0) {
    const dev = g.op('Sub', [expFake, g.scalar(1)]);
    loss = g.op('Add', [loss, g.op('Mul', [g.op('Mul', [dev, dev]), g.scalar(lambda)])]);
  }
  const grads = differentiate(g, { [loss]: onesLike(g, loss) }, p);
  g.outputs = [loss, g.op('Identity', [lossReal]), g.op('Identity', [lossFake]), g.op('Identity', [expFake]), ...p.map((q) => grads.get(q)!)];
  return g;
}

/**
 * Train the DRE-F-SP critic of `input.pair`'s generator against `input.real` (see the module doc)
 * and return it as a discriminator graph with a training report.
 */
export async function trainDreFsp(input: DreFspInput, options: Partial<DreFspOptions> = {}, hooks: DreFspHooks = {}): Promise<DreFspResult> {
  const o: DreFspOptions = { ...DRE_FSP_DEFAULTS, ...options };
  validateDreFsp(o);
  const { pair, seed } = input;
  if (!Number.isInteger(seed)) fail('invalid_argument', 'seed', 'an integer', String(seed));
  const chunk = input.chunkSize ?? 512;
  if (!Number.isInteger(chunk) || chunk < 1) fail('invalid_argument', 'batchSize', 'a positive integer', String(chunk));
  const dataShape = pair.meta.dataShape;
  const m = checkRows(input.real, dataShape, 2);
  const k = input.features ? checkFeatures(input.features, dataShape) : dataShape.reduce((a, b) => a * b, 1);
  const nFake = o.numFake === 0 ? m : o.numFake;
  const t0 = performance.now();

  const fakes = await drawFakes(pair, nFake, chunk, [seed, DRE_STREAM, 0], hooks.signal);
  const fReal = await extract(input.features, input.real!, m, dataShape, k, chunk, hooks.signal);
  const fFake = await extract(input.features, fakes, nFake, dataShape, k, chunk, hooks.signal);

  // Standardisation over the pooled features, in float64.
  const mu = new Float64Array(k);
  const sd = new Float64Array(k);
  const total = m + nFake;
  for (const [f, rows] of [
    [fReal, m],
    [fFake, nFake],
  ] as const)
    for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) mu[j] += f[i * k + j] / total;
  for (const [f, rows] of [
    [fReal, m],
    [fFake, nFake],
  ] as const)
    for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) sd[j] += (f[i * k + j] - mu[j]) ** 2 / total;
  const meanF = Float32Array.from(mu);
  // Near-constant features (dead ReLUs of a classifier) would turn a rare activation into a value
  // of tens of standard deviations: their std is floored at 1% of the largest feature's.
  const floor = Math.max(1e-6, 0.01 * Math.sqrt(Math.max(...sd)));
  const stdF = Float32Array.from(sd, (v) => Math.max(Math.sqrt(v), floor));
  const standardize = (f: Float32Array, rows: number) => {
    const out = new Float32Array(rows * k);
    for (let i = 0; i < rows; i++) for (let j = 0; j < k; j++) out[i * k + j] = (f[i * k + j] - meanF[j]) / stdF[j];
    return out;
  };
  const zReal = standardize(fReal, m);
  const zFake = standardize(fFake, nFake);

  const spec: MlpSpec = { sizes: [k, ...new Array<number>(o.layers).fill(o.hidden), 1], activation: o.activation, output: 'none' };
  const params = mlpParams(spec, 'dre.');
  const fitOne = (lambda: number, mr: number, nf: number, onProgress?: (t: number) => void) =>
    fit(spec, params, k, o, lambda, zReal.subarray(0, mr * k), mr, zFake.subarray(0, nf * k), nf, seed, hooks.signal, onProgress, {
      zReal: zReal.subarray(mr * k),
      m: m - mr,
      zFake: zFake.subarray(nf * k),
      n: nFake - nf,
      chunk,
    });
  const scoreOf = (values: Float32Array[], z: Float32Array, rows: number) => scoreMlp(spec, params, values, k, z, rows, chunk);

  // Validation split: the last rows of each pool (the pools are i.i.d. draws).
  const v = o.validation;
  const mTrain = v > 0 ? Math.floor(m * (1 - v)) : m;
  const fTrain = v > 0 ? Math.floor(nFake * (1 - v)) : nFake;
  if (v > 0 && (m - mTrain < 2 || nFake - fTrain < 2 || mTrain < 2 || fTrain < 2))
    fail('invalid_argument', 'dreValidation', 'a split leaving at least 2 real and 2 fake samples on each side', `${v} of ${m} real and ${nFake} fake samples`);
  let lambda = o.lambda;
  let selection: DreFspReport['selection'];
  type Fitted = Awaited<ReturnType<typeof fitOne>>;
  let fitted: Fitted;
  if (v > 0 && o.lambdas.length > 1) {
    const losses: number[] = [];
    let best: Fitted | undefined;
    let bestLoss = Infinity;
    for (const [i, lam] of o.lambdas.entries()) {
      const f = await fitOne(lam, mTrain, fTrain, (t) => hooks.onProgress?.(i * o.steps + t, o.lambdas.length * o.steps));
      // With early stopping, fit has already measured the kept parameters on this split.
      const loss =
        f.stopped?.validationLoss ??
        validationLoss(await scoreOf(f.values, zReal.subarray(mTrain * k), m - mTrain), await scoreOf(f.values, zFake.subarray(fTrain * k), nFake - fTrain));
      losses.push(loss);
      if (loss < bestLoss) {
        bestLoss = loss;
        best = f;
        lambda = lam;
      }
    }
    selection = { lambdas: [...o.lambdas], validationLoss: losses };
    fitted = best!;
  } else {
    fitted = await fitOne(o.lambda, mTrain, fTrain, (t) => hooks.onProgress?.(t, o.steps));
  }
  const { values, lastBatchLoss, stopped } = fitted;
  const rReal = await scoreOf(values, zReal, m);
  const rFake = await scoreOf(values, zFake, nFake);
  let ks: DreFspReport['ks'];
  if (v > 0) {
    const real = ksTwoSample(rReal.subarray(0, mTrain), rReal.subarray(mTrain));
    const fake = ksTwoSample(rFake.subarray(0, fTrain), rFake.subarray(fTrain));
    ks = { real, fake, overfit: Math.min(real.pValue, fake.pValue) < 0.01 };
  }
  let lossReal = 0;
  let lossFake = 0;
  let meanExpFake = 0;
  let correct = 0;
  for (let i = 0; i < m; i++) {
    lossReal += softplus(-rReal[i]) / m;
    if (rReal[i] > 0) correct++;
  }
  for (let i = 0; i < nFake; i++) {
    lossFake += softplus(rFake[i]) / nFake;
    meanExpFake += Math.exp(rFake[i]) / nFake;
    if (rFake[i] < 0) correct++;
  }
  const penalty = (meanExpFake - 1) ** 2;

  const critic = new Graph();
  critic.name = 'dre_f_sp_critic';
  const inp = pair.discriminator?.inputs[0]?.name ?? 'x';
  const x = critic.addInput(inp, 'float32', ['batch', ...dataShape]);
  // The estimate is only supported where it was trained: no lower than its least value on the
  // training pools, and no higher than its largest value on a real sample (the ratio is largest
  // where the data are). Beyond the data a ReLU critic extrapolates linearly, and importance
  // weights exp(r) then pick a few far-away generator outliers (SIR collapsed onto them).
  let lo = Infinity;
  let hi = -Infinity;
  for (const r of [rReal, rFake]) for (const v of r) if (Number.isFinite(v)) lo = Math.min(lo, v);
  for (const v of rReal) if (Number.isFinite(v)) hi = Math.max(hi, v);
  if (!(lo <= hi)) fail('internal', 'dre-f-sp training', 'finite critic values on the training pools', 'none');
  const r = appendCriticHead(critic, appendFeatures(critic, x, input.features, 'f/'), spec, params, values, meanF, stdF);
  critic.add('Clip', [r, critic.scalar(lo), critic.scalar(hi)], {}, ['logit']);
  critic.outputs = ['logit'];

  const report: DreFspReport = {
    method: 'dre-f-sp',
    seed,
    steps: o.steps,
    nReal: m,
    nFake,
    featureDim: k,
    features: input.features ? 'graph' : 'identity',
    options: o,
    loss: lossReal + lossFake + lambda * penalty,
    lossReal,
    lossFake,
    penalty,
    meanExpFake,
    lastBatchLoss,
    accuracy: correct / (m + nFake),
    range: [lo, hi],
    lambda,
    ...(selection ? { selection } : {}),
    ...(stopped ? { earlyStop: stopped } : {}),
    ...(ks ? { ks } : {}),
    seconds: (performance.now() - t0) / 1000,
  };
  return {
    critic,
    pair: { ...pair, discriminator: critic, meta: { ...pair.meta, dOutput: 'logit' }, files: { ...pair.files, discriminator: '<dre-f-sp critic>' } },
    report,
    mlp: { spec, params, values, mean: meanF, std: stdF },
  };
}

/** Train the MLP on standardised features with penalty weight `lambda` (the loop of the module doc). */
async function fit(
  spec: MlpSpec,
  params: ParamSpec[],
  k: number,
  o: DreFspOptions,
  lambda: number,
  zReal: Float32Array,
  m: number,
  zFake: Float32Array,
  nFake: number,
  seed: number,
  signal: AbortSignal | undefined,
  onProgress: ((t: number) => void) | undefined,
  held: { zReal: Float32Array; m: number; zFake: Float32Array; n: number; chunk: number },
): Promise<{ values: Float32Array[]; lastBatchLoss: number; stopped?: { step: number; validationLoss: number } }> {
  const values = initParams(params, new Rng(seed, DRE_STREAM, 1));
  const adam = adamInit(values);
  const graph = lossGraph(spec, params, k, lambda);
  const session = await Session.create(graph);
  const B = o.batchSize;
  const bReal = new Float32Array(B * k);
  const bFake = new Float32Array(B * k);
  let lastBatchLoss = NaN;
  let stopped: { step: number; validationLoss: number } | undefined;
  let best: Float32Array[] | undefined;
  try {
    for (let t = 0; t < o.steps; t++) {
      if (signal?.aborted) throw new RefineryError('cancelled', [{ path: 'dre-f-sp', expected: `${o.steps} steps`, received: `a stop after ${t}` }]);
      const rng = new Rng(seed, DRE_STREAM, 2, t);
      for (let i = 0; i < B; i++) {
        const r = rng.int(m);
        bReal.set(zReal.subarray(r * k, (r + 1) * k), i * k);
      }
      for (let i = 0; i < B; i++) {
        const r = rng.int(nFake);
        bFake.set(zFake.subarray(r * k, (r + 1) * k), i * k);
      }
      const feeds = Object.fromEntries(params.map((p, i) => [p.name, { data: values[i], shape: p.shape }]));
      const out = await session.run({ ...feeds, real: { data: bReal, shape: [B, k] }, fake: { data: bFake, shape: [B, k] } });
      lastBatchLoss = out[graph.outputs[0]].data[0];
      if (!Number.isFinite(lastBatchLoss))
        fail('internal', 'dre-f-sp training', 'a finite loss', `${lastBatchLoss} at step ${t} (lower --dre-lr or --dre-lambda)`);
      adamStep(
        values,
        graph.outputs.slice(4).map((name) => out[name].data),
        adam,
        { lr: linearDecay(o.lr, o.lrDecay, t, o.steps), beta1: 0.9, beta2: 0.999, eps: 1e-8 },
      );
      if (o.earlyStop > 0 && held.m > 0 && ((t + 1) % o.earlyStop === 0 || t + 1 === o.steps)) {
        const loss = validationLoss(
          await scoreMlp(spec, params, values, k, held.zReal, held.m, held.chunk),
          await scoreMlp(spec, params, values, k, held.zFake, held.n, held.chunk),
        );
        if (!stopped || loss < stopped.validationLoss) {
          stopped = { step: t + 1, validationLoss: loss };
          best = values.map((a) => a.slice());
        }
      }
      if ((t + 1) % 50 === 0 || t + 1 === o.steps) onProgress?.(t + 1);
    }
  } finally {
    await session.release();
  }
  return best && stopped ? { values: best, lastBatchLoss, stopped } : { values, lastBatchLoss };
}

/** The trained MLP's values r on `rows` standardised feature rows. */
async function scoreMlp(
  spec: MlpSpec,
  params: ParamSpec[],
  values: Float32Array[],
  k: number,
  z: Float32Array,
  rows: number,
  chunk: number,
): Promise<Float32Array> {
  const head = new Graph();
  const hin = head.addInput('z', 'float32', ['batch', k]);
  head.outputs = [
    head.op('Identity', [
      appendMlp(
        head,
        spec,
        hin,
        params.map((p, i) => head.addInitializer(p.name, { dtype: 'float32', dims: p.shape, data: values[i] })),
      ),
    ]),
  ];
  const hs = await Session.create(head);
  const out = new Float32Array(rows);
  try {
    for (let s = 0; s < rows; s += chunk) {
      const r = Math.min(chunk, rows - s);
      out.set((await hs.runRows({ z: { data: z.subarray(s * k, (s + r) * k), shape: [r, k] } }))[head.outputs[0]].data, s);
    }
  } finally {
    await hs.release();
  }
  return out;
}
