/**
 * Critic fine-tuning by contrastive divergence: the training half of DCD (Song et al. 2020,
 * "Discriminator Contrastive Divergence"). The discriminator of a trained pair is read as the
 * energy-based model
 *
 *   p_D(x) = p_g(x) exp(D(x)) / Z,
 *
 * whose sampler is the refinement itself. Each step draws real data (positives) and negatives
 * from Langevin chains started at the generator's samples, and descends a loss on D's parameters:
 *
 *   cd    (maximum likelihood of p_D; the official toy code's loss):
 *           L = mean D(x_neg) - mean D(x_real) + reg * (mean D(x_neg)^2 + mean D(x_real)^2)
 *   ns    (the official image code: the GAN's own loss, negatives in place of G's samples):
 *           L = mean softplus(-D(x_real)) + mean softplus(D(x_neg))
 *   hinge:  L = mean relu(1 - D(x_real)) + mean relu(1 + D(x_neg))
 *
 * D is the pair's logRatio (a probability output is read as its logit). The chains:
 *   latent (the official image code's choice): DDLS's Langevin kernel on
 *           E(z) = -log p0(z) - D(G(z)), z_0 ~ p0, negatives G(z_k); with the prior term
 *           and noise 1 the chain targets p_D, so the cd loss's fixed point is D = log p_data/p_g + c.
 *   data (default): the DCD sampler's kernel on x (gradient ascent on D plus noise, clipped, boxed),
 *           x_0 = G(z); the fixed point makes the k-step DCD sampler's output match the data.
 *
 * Every float initializer of D with a gradient path from its output is trained (running
 * statistics of BatchNormalization are not). Randomness: step t draws its real batch from
 * Rng(seed, 1, t), latent row r from Rng(seed, 2, t, r), chain noise from Rng(seed, 3, t, r, s).
 * Checkpoints (D values and Adam state) resume to the bit-identical result.
 */
import { join } from 'node:path';
import { describe, fail, type Issue, RefineryError } from '../errors.js';
import { writeFileAtomic } from '../io/atomic.js';
import { lockRunFolder } from '../io/lock.js';
import type { ModelMeta } from '../models/meta.js';
import { writeMeta } from '../models/metafile.js';
import { discriminatorGraph, generatorGraph, type ModelPair } from '../models/pair.js';
import { differentiateReached, onesLike } from '../onnx/autodiff.js';
import { inline } from '../onnx/compose.js';
import { type ConstTensor, Graph, int } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Session } from '../onnx/session.js';
import { type DcdOptions, dcdInit, dcdKernel, type RatioField } from '../methods/dynamics/dcd.js';
import { type DdlsOptions, ddlsInit, ddlsKernel, type LatentEnergy } from '../methods/dynamics/ddls.js';
import { Rng, RowStreams } from '../rng.js';
import { DCD_RUN_DEFAULTS } from '../run/dcd.js';
import { runChain } from '../run/driver.js';
import { keyedLatents } from '../run/latent.js';
import { appendLogRatio, priorEnergy } from '../targets/logratio.js';
import type { Tensor } from '../tensor.js';
import { adamInit, adamStep, linearDecay } from './adam.js';
import { checkpointAfterStep, folderStore, generatorBytes, type TrainState } from './common.js';

/** Critic fine-tuning methods (one today: DCD's contrastive divergence). */
export const CRITIC_METHODS = ['dcd'] as const;
/** A critic fine-tuning method. */
export type CriticMethod = (typeof CRITIC_METHODS)[number];
/** Losses of the fine-tuning (see the module comment). */
export const CRITIC_LOSSES = ['cd', 'ns', 'hinge'] as const;
/** A fine-tuning loss. */
export type CriticLoss = (typeof CRITIC_LOSSES)[number];
/** Where the negative chains run. */
export const CHAIN_SPACES = ['latent', 'data'] as const;
/** Where the negative chains run. */
export type ChainSpace = (typeof CHAIN_SPACES)[number];

/** Options of `finetuneCritic` (the CLI's flags in camelCase). */
export interface FinetuneCriticOptions {
  /** Run folder to write: generator.onnx (a copy), the fine-tuned discriminator.onnx, meta.json, checkpoints. */
  out: string;
  /** The fine-tuning method. */
  method: CriticMethod;
  /** D updates. */
  steps: number;
  /** Real samples and negatives per update. */
  batchSize: number;
  /** Adam learning rate. */
  lr: number;
  /** Decay the learning rate linearly to 0 over `steps` (the final D then averages many batches). */
  lrDecay: boolean;
  /** Adam beta1. */
  beta1: number;
  /** Adam beta2. */
  beta2: number;
  /** The loss: 'cd' (maximum likelihood of p_g exp(D)), 'ns' or 'hinge' (the GAN losses with negatives as fakes). */
  loss: CriticLoss;
  /** Weight of the squared-output penalty of the cd loss (0 = none). */
  reg: number;
  /** Where the negative chains run: 'latent' (DDLS's kernel) or 'data' (the DCD sampler's kernel). */
  space: ChainSpace;
  /** Langevin steps per negative chain. */
  numSteps: number;
  /** Langevin step size of the chains. */
  stepSize: number;
  /** Noise multiplier of the chains (1 = Langevin). */
  noise: number;
  /** Data chains: per-row clip of |grad D| (Infinity = none). */
  clip: number;
  /** Seed of every draw. */
  seed: number;
  /** Steps between checkpoints (one is also written at the end and on cancellation). */
  checkpointEvery: number;
  /** Continue from out/checkpoint.* when present. */
  resume: boolean;
  /** Train afresh into an `out` that holds an earlier run (or its checkpoint), replacing it; otherwise refused unless `resume`. Default false. */
  overwrite?: boolean;
}

/**
 * Defaults: the cd loss without penalty (its fixed point with mixing chains is exact: the log
 * density ratio for latent chains, the log data density for data chains), and data-space chains
 * with the DCD sampler's own defaults, so that a critic trained with the defaults is the one the
 * default `dcd` refinement samples with. The official code's image default is latent chains
 * (20 steps of 1.0, noise 0.005, no prior term: gradient ascent) sampled with latent chains too;
 * Refinery's DCD sampler runs in data space, so its critic is trained there. Measured on the
 * Table 1 base GANs (seed 0): data chains lift the DCD sampler from 72% to 91-92% high quality;
 * latent chains of 100 steps lowered DDLS from 94.5% to 86-92% (and diverged without `reg`).
 */
export const FINETUNE_CRITIC_DEFAULTS: Omit<FinetuneCriticOptions, 'out'> = {
  method: 'dcd',
  steps: 1000,
  batchSize: 256,
  lr: 1e-3,
  lrDecay: false,
  beta1: 0.5,
  beta2: 0.999,
  loss: 'cd',
  reg: 0,
  space: 'data',
  numSteps: DCD_RUN_DEFAULTS.numSteps,
  stepSize: DCD_RUN_DEFAULTS.stepSize,
  noise: DCD_RUN_DEFAULTS.noise,
  clip: DCD_RUN_DEFAULTS.clip,
  seed: 0,
  checkpointEvery: 100,
  resume: false,
};

/** Where the positives come from: a tensor of real samples (rows drawn with replacement) or a sampler. */
export type RealSource = Tensor | ((n: number, rng: Rng) => Float32Array | Promise<Float32Array>);

/** Progress: step, total steps, the loss and the mean D on real data and on negatives. */
export interface CriticProgress {
  step: number;
  steps: number;
  loss: number;
  dReal: number;
  dNegative: number;
}

/** What `finetuneCritic` returns. */
export interface FinetuneCriticResult {
  /** The run folder written. */
  dir: string;
  steps: number;
  seconds: number;
  /** Last loss, mean D on the real batch and on the negatives. */
  loss: number;
  dReal: number;
  dNegative: number;
  resumedFrom: number;
  /** Names of the trained initializers of D. */
  trained: string[];
  meta: ModelMeta;
}

/** Hooks of `finetuneCritic`. */
export interface CriticHooks {
  /** Stops after the current step; a checkpoint is written (resume with `resume: true`). */
  signal?: AbortSignal;
  /** Called every 10 steps and at the last. */
  onProgress?: (p: CriticProgress) => void;
}

/** The argument of `finetuneCritic`: the run folder `out`, the real samples, options (defaults FINETUNE_CRITIC_DEFAULTS) and hooks. */
export type FinetuneCriticCall = Partial<FinetuneCriticOptions> & { out: string; real: RealSource } & CriticHooks;

function validate(o: FinetuneCriticOptions): void {
  const issues: Issue[] = [];
  const need = (ok: boolean, path: string, expected: string, v: unknown) => {
    if (!ok) issues.push({ path, expected, received: describe(v) });
  };
  const posInt = (v: number) => Number.isInteger(v) && v >= 1;
  need(typeof o.out === 'string' && o.out !== '', 'out', 'a folder path', o.out);
  need((CRITIC_METHODS as readonly string[]).includes(o.method), 'method', `one of ${CRITIC_METHODS.join(', ')}`, o.method);
  need(posInt(o.steps), 'steps', 'a positive integer', o.steps);
  need(posInt(o.batchSize), 'batchSize', 'a positive integer', o.batchSize);
  need(o.lr > 0 && o.lr < 1, 'lr', 'a learning rate in (0, 1)', o.lr);
  need(typeof o.lrDecay === 'boolean', 'lrDecay', 'true or false', o.lrDecay);
  need(o.beta1 >= 0 && o.beta1 < 1, 'beta1', 'a number in [0, 1)', o.beta1);
  need(o.beta2 >= 0 && o.beta2 < 1, 'beta2', 'a number in [0, 1)', o.beta2);
  need((CRITIC_LOSSES as readonly string[]).includes(o.loss), 'loss', `one of ${CRITIC_LOSSES.join(', ')}`, o.loss);
  need(o.reg >= 0 && Number.isFinite(o.reg), 'reg', 'a non-negative number', o.reg);
  need((CHAIN_SPACES as readonly string[]).includes(o.space), 'space', `one of ${CHAIN_SPACES.join(', ')}`, o.space);
  need(Number.isInteger(o.numSteps) && o.numSteps >= 0, 'numSteps', 'a non-negative integer', o.numSteps);
  need(o.stepSize > 0 && Number.isFinite(o.stepSize), 'stepSize', 'a positive number', o.stepSize);
  need(o.noise >= 0 && Number.isFinite(o.noise), 'noise', 'a non-negative number', o.noise);
  need(o.clip > 0, 'clip', 'a positive number (or Infinity for no clipping)', o.clip);
  need(Number.isSafeInteger(o.seed), 'seed', 'an integer', o.seed);
  need(posInt(o.checkpointEvery), 'checkpointEvery', 'a positive integer', o.checkpointEvery);
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
}

/**
 * The float initializers of `d` that training can change: every float32 initializer of rank >= 1
 * that the output depends on differentiably, except BatchNormalization's running statistics.
 */
export function trainableInitializers(d: Graph): string[] {
  const stats = new Set<string>();
  for (const n of d.nodes) if (n.op === 'BatchNormalization') for (const i of n.inputs.slice(3)) stats.add(i);
  const candidates = [...d.initializers].filter(([name, t]) => t.dtype === 'float32' && t.dims.length >= 1 && !stats.has(name)).map(([name]) => name);
  const probe = new Graph();
  const x = probe.addInput('x', 'float32', d.inputs[0].shape);
  const params = candidates.map((c, i) => probe.addInput(`p${i}`, 'float32', [...d.initializers.get(c)!.dims]));
  const out = inline(probe, parametrized(d, candidates), 'd/', { [d.inputs[0].name]: x, ...Object.fromEntries(candidates.map((c, i) => [c, params[i]])) })[
    d.outputs[0]
  ];
  const { reached } = differentiateReached(probe, { [out]: onesLike(probe, out) }, params);
  return candidates.filter((_, i) => reached.has(params[i]));
}

/** A view of `d` in which the initializers `names` are inputs (after the data input), for inlining with fed values. */
function parametrized(d: Graph, names: string[]): Graph {
  const p = new Graph();
  p.name = d.name;
  p.opset = d.opset;
  p.inputs = [...d.inputs, ...names.map((n) => ({ name: n, dtype: 'float32' as const, shape: [...d.initializers.get(n)!.dims] }))];
  p.initializers = new Map([...d.initializers].filter(([n]) => !names.includes(n)));
  p.values = d.values;
  p.nodes = d.nodes;
  p.outputs = d.outputs;
  return p;
}

/** The loss graph: inputs the D parameters, real, negatives; outputs loss, mean D(real), mean D(neg), then dL/d(each parameter). */
function lossGraph(d: Graph, names: string[], pair: ModelPair, o: FinetuneCriticOptions): Graph {
  const g = new Graph();
  const params = names.map((n, i) => g.addInput(`param${i}`, 'float32', [...d.initializers.get(n)!.dims]));
  const real = g.addInput('real', 'float32', ['batch', ...pair.meta.dataShape]);
  // Latent chains feed their final z; G runs inside the graph.
  let negative: string;
  if (o.space === 'latent') {
    const gg = generatorGraph(pair);
    const z = g.addInput('negative', 'float32', ['neg', pair.meta.latentDim]);
    negative = inline(g, gg, 'g/', { [gg.inputs[0].name]: z })[gg.outputs[0]];
  } else negative = g.addInput('negative', 'float32', ['neg', ...pair.meta.dataShape]);
  const pd = parametrized(d, names);
  const feed = Object.fromEntries(names.map((n, i) => [n, params[i]]));
  const dReal = appendLogRatio(g, pd, real, pair.meta.dOutput, 'r/', feed);
  const dNeg = appendLogRatio(g, pd, negative, pair.meta.dOutput, 'n/', feed);
  const mean = (v: string) => g.op('ReduceMean', [v], { keepdims: int(0) });
  const mReal = mean(dReal);
  const mNeg = mean(dNeg);
  let loss: string;
  if (o.loss === 'cd') {
    loss = g.op('Sub', [mNeg, mReal]);
    if (o.reg > 0)
      loss = g.op('Add', [loss, g.op('Mul', [g.scalar(o.reg), g.op('Add', [mean(g.op('Mul', [dNeg, dNeg])), mean(g.op('Mul', [dReal, dReal]))])])]);
  } else if (o.loss === 'ns') {
    loss = g.op('Add', [mean(g.op('Softplus', [g.op('Neg', [dReal])])), mean(g.op('Softplus', [dNeg]))]);
  } else {
    const one = g.scalar(1);
    loss = g.op('Add', [mean(g.op('Relu', [g.op('Sub', [one, dReal])])), mean(g.op('Relu', [g.op('Add', [one, dNeg])]))]);
  }
  const grads = differentiateReached(g, { [loss]: onesLike(g, loss) }, params).grads;
  g.outputs = [loss, mReal, mNeg, ...params.map((p) => grads.get(p)!)].map((v) => g.op('Identity', [v]));
  return g;
}

/** The chain's field with D's parameters fed: latent energy (E, grad E, D) or data-space (D, grad D). */
function chainGraph(d: Graph, names: string[], pair: ModelPair, space: ChainSpace): Graph {
  const g = new Graph();
  const params = names.map((n, i) => g.addInput(`param${i}`, 'float32', [...d.initializers.get(n)!.dims]));
  const feed = Object.fromEntries(names.map((n, i) => [n, params[i]]));
  const pd = parametrized(d, names);
  if (space === 'latent') {
    const gg = generatorGraph(pair);
    const z = g.addInput('z', 'float32', ['batch', pair.meta.latentDim]);
    const x = inline(g, gg, 'g/', { [gg.inputs[0].name]: z })[gg.outputs[0]];
    const lr = appendLogRatio(g, pd, x, pair.meta.dOutput, 'd/', feed);
    const prior = priorEnergy(g, z, pair.meta.latentPrior);
    const energy = prior ? g.op('Sub', [prior, lr]) : g.op('Neg', [lr]);
    const grad = differentiateReached(g, { [energy]: onesLike(g, energy) }, [z]).grads.get(z)!;
    g.outputs = [energy, grad, lr].map((v) => g.op('Identity', [v]));
  } else {
    const x = g.addInput('x', 'float32', ['batch', ...pair.meta.dataShape]);
    const lr = appendLogRatio(g, pd, x, pair.meta.dOutput, 'd/', feed);
    const grad = differentiateReached(g, { [lr]: onesLike(g, lr) }, [x]).grads.get(x)!;
    g.outputs = [lr, grad].map((v) => g.op('Identity', [v]));
  }
  return g;
}

/** The parameters as feeds named param0, param1, ... */
function paramFeeds(d: Graph, names: string[], values: Float32Array[]): Record<string, Tensor> {
  return Object.fromEntries(names.map((n, i) => [`param${i}`, { data: values[i], shape: [...d.initializers.get(n)!.dims] }]));
}

/** Real rows for one step: `n` draws of the source with `rng`. */
async function drawReal(source: RealSource, n: number, rng: Rng, size: number): Promise<Float32Array> {
  if (typeof source === 'function') return await source(n, rng);
  const m = source.shape[0];
  const out = new Float32Array(n * size);
  for (let i = 0; i < n; i++) {
    const j = Math.min(m - 1, Math.floor(rng.uniform() * m));
    out.set(source.data.subarray(j * size, (j + 1) * size), i * size);
  }
  return out;
}

/**
 * Fine-tune the discriminator of `pair` by contrastive divergence against `options.real` and write a new
 * run folder: generator.onnx (copied), discriminator.onnx (the trained D, same graph), meta.json
 * (the pair's, with `critic_training` saying what was done).
 */
export async function finetuneCritic(pair: ModelPair, options: FinetuneCriticCall): Promise<FinetuneCriticResult> {
  return runFinetune(pair, options, (trained, record) => {
    writeFileAtomic(join(options.out, 'generator.onnx'), generatorBytes(pair));
    writeFileAtomic(join(options.out, 'discriminator.onnx'), encodeGraph(trained));
    const { extra: _e, ...rest } = pair.meta;
    const meta: ModelMeta = { ...rest, extra: { ...(pair.meta.extra ?? {}), producer: 'refinery finetune-critic', critic_training: record } };
    writeMeta(join(options.out, 'meta.json'), meta);
    return meta;
  });
}

/** What a fine-tuning hands its writer: the trained D graph and a record of the training for meta.json. */
export type CriticWriter = (trained: Graph, record: Record<string, unknown>) => ModelMeta;

/** Fine-tune D of `pair` (checked options, locked output folder, checkpoints), then let `write` write the run's files. */
export async function runFinetune(pair: ModelPair, options: FinetuneCriticCall, write: CriticWriter): Promise<FinetuneCriticResult> {
  if (typeof options !== 'object' || options === null) fail('invalid_argument', 'options', 'an object { out, real, ... }', describe(options));
  const { real, signal, onProgress, ...rest } = options;
  const hooks: CriticHooks = { signal, onProgress };
  const o: FinetuneCriticOptions = {
    ...FINETUNE_CRITIC_DEFAULTS,
    ...Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined)),
  } as FinetuneCriticOptions;
  const known = new Set([...Object.keys(FINETUNE_CRITIC_DEFAULTS), 'out', 'overwrite']);
  const unknown = Object.keys(rest).filter((k) => !known.has(k));
  if (unknown.length > 0)
    throw new RefineryError(
      'invalid_argument',
      unknown.map((k) => ({ path: k, expected: 'an option of finetuneCritic', received: describe((rest as Record<string, unknown>)[k]) })),
    );
  validate(o);
  const size = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  if (typeof real !== 'function') {
    if (!real || !(real.data instanceof Float32Array) || real.shape.slice(1).join('x') !== pair.meta.dataShape.join('x') || real.shape[0] < 1) {
      fail(
        'shape_mismatch',
        'real',
        `float32 samples of shape [m, ${pair.meta.dataShape.join(', ')}] with m >= 1`,
        real ? `[${real.shape?.join(', ')}]` : describe(real),
      );
    }
  }
  const d = discriminatorGraph(pair);
  const names = trainableInitializers(d);
  if (names.length === 0) fail('invalid_model', 'discriminator', 'float initializers (weights) to train', 'none: its output depends on no initializer');
  const lock = lockRunFolder(o.out, pair.files, { resume: o.resume, overwrite: o.overwrite }, true);
  try {
    return await train(pair, d, names, real, o, size, hooks, write);
  } finally {
    lock.release();
  }
}

async function train(
  pair: ModelPair,
  d: Graph,
  names: string[],
  real: RealSource,
  o: FinetuneCriticOptions,
  size: number,
  hooks: CriticHooks,
  write: CriticWriter,
): Promise<FinetuneCriticResult> {
  const values = names.map((n) => Float32Array.from(d.initializers.get(n)!.data as Float32Array));
  const state: TrainState = { step: 0, gValues: [], dValues: values, gAdam: adamInit([]), dAdam: adamInit(values), spectral: [], lossD: NaN, lossG: NaN };
  const { out: _out, resume: _r, overwrite: _ow, steps: _s, checkpointEvery: _c, ...fingerprint } = o;
  const fp = { ...fingerprint, clip: Number.isFinite(o.clip) ? o.clip : 'Infinity', trained: names.length };
  const store = folderStore(o.out);
  const resumedFrom = o.resume && store.load(state, fp) ? state.step : 0;
  const lg = lossGraph(d, names, pair, o);
  const cg = chainGraph(d, names, pair, o.space);
  const lossSession = await Session.create(lg, { device: pair.device });
  let chainSession: Session | undefined;
  let genSession: Session | undefined;
  const B = o.batchSize;
  const k = pair.meta.latentDim;
  let dReal = NaN;
  let dNegative = NaN;
  const t0 = performance.now();
  try {
    chainSession = await Session.create(cg, { device: pair.device });
    const cs = chainSession;
    const gg = generatorGraph(pair);
    if (o.space === 'data') genSession = await Session.create(gg, { device: pair.device });
    const latent: LatentEnergy = {
      async evaluate(z) {
        const r = await cs.run({ ...paramFeeds(d, names, state.dValues), z });
        const [e, gr, lr] = cg.outputs;
        return { energy: r[e].data, grad: r[gr].data, logRatio: r[lr].data };
      },
    };
    const field: RatioField = {
      async logRatioAndGrad(x) {
        const r = await cs.run({ ...paramFeeds(d, names, state.dValues), x });
        return { logRatio: r[cg.outputs[0]].data, grad: r[cg.outputs[1]].data };
      },
    };
    const ddls: DdlsOptions = { stepSize: o.stepSize, noise: o.noise, decay: 1, metropolis: false };
    const dcd: DcdOptions = { stepSize: o.stepSize, noise: o.noise, clip: o.clip, box: pair.meta.outputRange };
    while (state.step < o.steps) {
      const t = state.step;
      const realBatch = await drawReal(real, B, new Rng(o.seed, 1, t), size);
      if (realBatch.length !== B * size) fail('shape_mismatch', 'real', `${B * size} values per batch of ${B}`, `${realBatch.length}`);
      const z = keyedLatents(pair.meta.latentPrior, [o.seed, 2, t], 0, B, k);
      const rows = RowStreams.range([o.seed, 3, t], 0);
      let negative: Tensor;
      if (o.space === 'latent') {
        const init = await ddlsInit(latent, { data: z, shape: [B, k] });
        const { state: s } = await runChain(ddlsKernel(latent, pair.meta.latentPrior, ddls), init, o.numSteps, rows, { signal: hooks.signal });
        negative = { data: s.position, shape: [B, k] };
      } else {
        const x0 = (await genSession!.run({ [gg.inputs[0].name]: { data: z, shape: [B, k] } }))[gg.outputs[0]];
        const init = await dcdInit(field, { data: x0.data, shape: [B, ...pair.meta.dataShape] });
        const { state: s } = await runChain(dcdKernel(field, dcd), init, o.numSteps, rows, { signal: hooks.signal });
        negative = { data: s.position, shape: [B, ...pair.meta.dataShape] };
      }
      const r = await lossSession.run({
        ...paramFeeds(d, names, state.dValues),
        real: { data: realBatch, shape: [B, ...pair.meta.dataShape] },
        negative,
      });
      const [lossName, realName, negName, ...gradNames] = lg.outputs;
      state.lossD = r[lossName].data[0];
      dReal = r[realName].data[0];
      dNegative = r[negName].data[0];
      if (!Number.isFinite(state.lossD)) {
        fail('internal', 'training', 'a finite loss', `${state.lossD} at step ${t} (lower --lr, --step-size, or add --reg)`);
      }
      adamStep(
        state.dValues,
        gradNames.map((g) => r[g].data),
        state.dAdam,
        { lr: linearDecay(o.lr, o.lrDecay, t, o.steps), beta1: o.beta1, beta2: o.beta2, eps: 1e-8 },
      );
      state.lossG = dNegative;
      state.step++;
      if (state.step % 10 === 0 || state.step === o.steps) hooks.onProgress?.({ step: state.step, steps: o.steps, loss: state.lossD, dReal, dNegative });
      checkpointAfterStep(state, o.steps, o.checkpointEvery, store, fp, hooks.signal);
    }
  } finally {
    await lossSession.release();
    await chainSession?.release();
    await genSession?.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  // The trained D: the same graph with the new initializer values.
  const trainedD = parametrized(d, []);
  trainedD.initializers = new Map(d.initializers);
  names.forEach((n, i) => {
    const t = d.initializers.get(n)!;
    trainedD.initializers.set(n, { ...t, data: Float32Array.from(state.dValues[i]) } as ConstTensor);
  });
  const meta = write(trainedD, {
    from: pair.files.discriminator || '(in memory)',
    ...fp,
    steps: state.step,
    final: { loss: state.lossD, d_real: dReal, d_negative: dNegative },
    meaning:
      o.loss === 'cd'
        ? 'D fine-tuned as the energy of p_g exp(D): with mixed chains its fixed point is log p_data/p_g + const'
        : `D fine-tuned with the ${o.loss} loss against chain samples`,
  });
  return { dir: o.out, steps: state.step, seconds, loss: state.lossD, dReal, dNegative, resumedFrom, trained: names, meta };
}
