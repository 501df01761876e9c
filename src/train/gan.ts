/**
 * A small, seeded GAN trainer for the built-in 2-D datasets: MLP generator and discriminator,
 * non-saturating / hinge / WGAN-GP losses, optional spectral normalisation of D, Adam. Losses and
 * gradients are ONNX graphs differentiated by Refinery itself (the WGAN-GP penalty needs the
 * gradient of a gradient). Writes generator.onnx, discriminator.onnx and meta.json; checkpoints
 * let an interrupted run resume to the bit-identical result.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RefineryError, fail } from '../errors.js';
import { getDataset } from '../data/dataset.js';
import { writeFileAtomic } from '../io/atomic.js';
import { parseNpy, encodeNpy } from '../io/npy.js';
import { writeMeta, type ModelMeta } from '../models/meta.js';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph, int } from '../onnx/graph.js';
import { encodeGraph } from '../onnx/model.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { adamInit, adamStep, type AdamState } from './adam.js';
import { type Activation, appendMlp, initParams, type MlpSpec, mlpParams, type ParamSpec } from './mlp.js';
import { spectralBackward, spectralInit, spectralNormalize, type SpectralState } from './spectral.js';

export const GAN_LOSSES = ['ns', 'hinge', 'wgan-gp'] as const;
export type GanLoss = (typeof GAN_LOSSES)[number];

export interface TrainOptions {
  dataset: string;
  out: string;
  seed: number;
  steps: number;
  batchSize: number;
  latentDim: number;
  hidden: number;
  /** Hidden layers in G and in D. */
  layers: number;
  loss: GanLoss;
  spectralNorm: boolean;
  lrG: number;
  lrD: number;
  beta1: number;
  beta2: number;
  /** D updates per G update. */
  dSteps: number;
  /**
   * Extra D-only steps after training, with G frozen: a refinement method reads D as a density
   * ratio for the final G, which needs D trained to (near) optimality against that G (as in DRS).
   */
  finetuneD: number;
  gpWeight: number;
  activation: Activation;
  checkpointEvery: number;
  /** Continue from out/checkpoint.* when present. */
  resume: boolean;
}

export const TRAIN_DEFAULTS: Omit<TrainOptions, 'out'> = {
  dataset: 'grid25',
  seed: 0,
  steps: 3000,
  batchSize: 256,
  latentDim: 2,
  hidden: 128,
  layers: 3,
  loss: 'ns',
  spectralNorm: false,
  lrG: 5e-4,
  lrD: 5e-4,
  beta1: 0.5,
  beta2: 0.999,
  dSteps: 1,
  finetuneD: 3000,
  gpWeight: 0.1,
  activation: 'relu',
  checkpointEvery: 1000,
  resume: false,
};

export interface TrainProgress {
  step: number;
  steps: number;
  lossD: number;
  lossG: number;
}

export interface TrainResult {
  dir: string;
  steps: number;
  seconds: number;
  lossD: number;
  lossG: number;
  resumedFrom: number;
  meta: ModelMeta;
}

interface Nets {
  gSpec: MlpSpec;
  dSpec: MlpSpec;
  gParams: ParamSpec[];
  dParams: ParamSpec[];
}

function nets(o: TrainOptions): Nets {
  const hidden = new Array<number>(o.layers).fill(o.hidden);
  const gSpec: MlpSpec = { sizes: [o.latentDim, ...hidden, 2], activation: o.activation, output: 'none' };
  const dSpec: MlpSpec = { sizes: [2, ...hidden, 1], activation: o.activation, output: 'none' };
  return { gSpec, dSpec, gParams: mlpParams(gSpec, 'g.'), dParams: mlpParams(dSpec, 'd.') };
}

function addParamInputs(g: Graph, params: ParamSpec[]): string[] {
  return params.map((p) => g.addInput(p.name, 'float32', p.shape));
}

const mean = (g: Graph, x: string) => g.op('ReduceMean', [x], { keepdims: int(0) });

/** D loss graph: inputs D params, G params, real [B,2], z [B,d], eps [B,1]; outputs loss and D grads. */
function discriminatorGraph(n: Nets, o: TrainOptions): Graph {
  const g = new Graph();
  const dp = addParamInputs(g, n.dParams);
  const gp = addParamInputs(g, n.gParams);
  const real = g.addInput('real', 'float32', ['batch', 2]);
  const z = g.addInput('z', 'float32', ['batch', o.latentDim]);
  const fake = appendMlp(g, n.gSpec, z, gp);
  const dReal = appendMlp(g, n.dSpec, real, dp);
  const dFake = appendMlp(g, n.dSpec, fake, dp);
  let loss: string;
  if (o.loss === 'ns') {
    loss = g.op('Add', [mean(g, g.op('Softplus', [g.op('Neg', [dReal])])), mean(g, g.op('Softplus', [dFake]))]);
  } else if (o.loss === 'hinge') {
    const one = g.scalar(1);
    loss = g.op('Add', [mean(g, g.op('Relu', [g.op('Sub', [one, dReal])])), mean(g, g.op('Relu', [g.op('Add', [one, dFake])]))]);
  } else {
    const eps = g.addInput('eps', 'float32', ['batch', 1]);
    const xhat = g.op('Add', [g.op('Mul', [eps, real]), g.op('Mul', [g.op('Sub', [g.scalar(1), eps]), fake])]);
    const dHat = appendMlp(g, n.dSpec, xhat, dp);
    const gx = differentiate(g, { [dHat]: onesLike(g, dHat) }, [xhat]).get(xhat)!;
    const norm = g.op('Sqrt', [g.op('Add', [g.op('ReduceSum', [g.op('Mul', [gx, gx]), g.int64s([1])], { keepdims: int(0) }), g.scalar(1e-12)])]);
    const dev = g.op('Sub', [norm, g.scalar(1)]);
    const penalty = g.op('Mul', [mean(g, g.op('Mul', [dev, dev])), g.scalar(o.gpWeight)]);
    loss = g.op('Add', [g.op('Sub', [mean(g, dFake), mean(g, dReal)]), penalty]);
  }
  const grads = differentiate(g, { [loss]: onesLike(g, loss) }, dp);
  g.outputs = [loss, ...dp.map((p) => grads.get(p)!)];
  return g;
}

/** G loss graph: inputs G params, D params, z; outputs loss and G grads. */
function generatorGraph(n: Nets, o: TrainOptions): Graph {
  const g = new Graph();
  const gp = addParamInputs(g, n.gParams);
  const dp = addParamInputs(g, n.dParams);
  const z = g.addInput('z', 'float32', ['batch', o.latentDim]);
  const dFake = appendMlp(g, n.dSpec, appendMlp(g, n.gSpec, z, gp), dp);
  const loss = o.loss === 'ns' ? mean(g, g.op('Softplus', [g.op('Neg', [dFake])])) : g.op('Neg', [mean(g, dFake)]);
  const grads = differentiate(g, { [loss]: onesLike(g, loss) }, gp);
  g.outputs = [loss, ...gp.map((p) => grads.get(p)!)];
  return g;
}

/** A standalone inference graph with the parameters baked in as initializers. */
export function exportMlp(spec: MlpSpec, params: ParamSpec[], values: Float32Array[], input: string, output: string): Graph {
  const g = new Graph();
  g.name = output === 'x' ? 'generator' : 'discriminator';
  const x = g.addInput(input, 'float32', ['batch', spec.sizes[0]]);
  const names = params.map((p, i) => g.addInitializer(p.name, { dtype: 'float32', dims: p.shape, data: values[i] }));
  g.add('Identity', [appendMlp(g, spec, x, names)], {}, [output]);
  g.outputs = [output];
  return g;
}

interface TrainState {
  step: number;
  gValues: Float32Array[];
  dValues: Float32Array[];
  gAdam: AdamState;
  dAdam: AdamState;
  spectral: SpectralState[];
}

const CHECKPOINT_VERSION = 1;

function saveCheckpoint(dir: string, s: TrainState, o: TrainOptions): void {
  const parts: Float32Array[] = [...s.gValues, ...s.dValues, ...s.gAdam.m, ...s.gAdam.v, ...s.dAdam.m, ...s.dAdam.v];
  for (const sp of s.spectral) parts.push(Float32Array.from(sp.u));
  const total = parts.reduce((a, p) => a + p.length, 0);
  const flat = new Float32Array(total);
  let off = 0;
  for (const p of parts) {
    flat.set(p, off);
    off += p.length;
  }
  // Spectral u vectors are float64 in memory; store them exactly as float64 beside the float32 state.
  const u64 = new Float64Array(s.spectral.reduce((a, sp) => a + sp.u.length, 0));
  let k = 0;
  for (const sp of s.spectral) {
    u64.set(sp.u, k);
    k += sp.u.length;
  }
  writeFileAtomic(join(dir, 'checkpoint.npy'), encodeNpy(flat, [total]));
  writeFileAtomic(join(dir, 'checkpoint-spectral.npy'), encodeNpy(u64, [u64.length]));
  writeFileAtomic(join(dir, 'checkpoint.json'), JSON.stringify({ version: CHECKPOINT_VERSION, step: s.step, adamStep: [s.gAdam.step, s.dAdam.step], options: checkpointOptions(o) }, null, 2) + '\n');
}

function checkpointOptions(o: TrainOptions): Record<string, unknown> {
  const { out: _out, resume: _resume, steps: _steps, finetuneD: _f, checkpointEvery: _ce, ...rest } = o;
  return rest;
}

function loadCheckpoint(dir: string, s: TrainState, o: TrainOptions): boolean {
  const jsonPath = join(dir, 'checkpoint.json');
  if (!existsSync(jsonPath)) return false;
  const info = JSON.parse(readFileSync(jsonPath, 'utf8')) as { version: number; step: number; adamStep: [number, number]; options: Record<string, unknown> };
  const want = checkpointOptions(o);
  for (const [k, v] of Object.entries(want)) {
    if (JSON.stringify(info.options[k]) !== JSON.stringify(v)) {
      throw new RefineryError('invalid_argument', [{ path: `--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, expected: `the value of the checkpoint being resumed (${JSON.stringify(info.options[k])})`, received: JSON.stringify(v) }]);
    }
  }
  const flat = parseNpy(readFileSync(join(dir, 'checkpoint.npy')), join(dir, 'checkpoint.npy')).data as Float32Array;
  const u64 = parseNpy(readFileSync(join(dir, 'checkpoint-spectral.npy')), join(dir, 'checkpoint-spectral.npy')).data as Float64Array;
  let off = 0;
  for (const arr of [...s.gValues, ...s.dValues, ...s.gAdam.m, ...s.gAdam.v, ...s.dAdam.m, ...s.dAdam.v]) {
    arr.set(flat.subarray(off, off + arr.length));
    off += arr.length;
  }
  let k = 0;
  for (const sp of s.spectral) {
    sp.u.set(u64.subarray(k, k + sp.u.length));
    k += sp.u.length;
  }
  s.step = info.step;
  [s.gAdam.step, s.dAdam.step] = info.adamStep;
  return true;
}

export function validateTrainOptions(o: TrainOptions): void {
  const positiveInt = (v: number, path: string) => {
    if (!Number.isInteger(v) || v < 1) fail('invalid_argument', path, 'a positive integer', String(v));
  };
  positiveInt(o.steps, '--steps');
  positiveInt(o.batchSize, '--batch-size');
  positiveInt(o.latentDim, '--latent-dim');
  positiveInt(o.hidden, '--hidden');
  positiveInt(o.layers, '--layers');
  positiveInt(o.dSteps, '--d-steps');
  positiveInt(o.checkpointEvery, '--checkpoint-every');
  if (!Number.isInteger(o.finetuneD) || o.finetuneD < 0) fail('invalid_argument', '--finetune-d', 'a non-negative integer', String(o.finetuneD));
  if (!Number.isInteger(o.seed)) fail('invalid_argument', '--seed', 'an integer', String(o.seed));
  for (const [v, p] of [[o.lrG, '--lr-g'], [o.lrD, '--lr-d']] as const) if (!(v > 0 && v < 1)) fail('invalid_argument', p, 'a learning rate in (0, 1)', String(v));
  for (const [v, p] of [[o.beta1, '--beta1'], [o.beta2, '--beta2']] as const) if (!(v >= 0 && v < 1)) fail('invalid_argument', p, 'a number in [0, 1)', String(v));
  if (!(o.gpWeight >= 0)) fail('invalid_argument', '--gp-weight', 'a non-negative number', String(o.gpWeight));
  if (!(GAN_LOSSES as readonly string[]).includes(o.loss)) fail('invalid_argument', '--loss', `one of ${GAN_LOSSES.join(', ')}`, String(o.loss));
  getDataset(o.dataset);
}

/** Train and write the run folder. `onProgress` is called every few steps; `signal` stops after a checkpoint. */
export async function trainGan(
  options: TrainOptions,
  hooks: { onProgress?: (p: TrainProgress) => void; signal?: AbortSignal } = {},
): Promise<TrainResult> {
  const o = options;
  validateTrainOptions(o);
  const dataset = getDataset(o.dataset);
  const n = nets(o);
  mkdirSync(o.out, { recursive: true });
  const init = new Rng(o.seed, 0);
  const state: TrainState = {
    step: 0,
    gValues: initParams(n.gParams, init.fork(1)),
    dValues: initParams(n.dParams, init.fork(2)),
    gAdam: { step: 0, m: [], v: [] },
    dAdam: { step: 0, m: [], v: [] },
    spectral: [],
  };
  state.gAdam = adamInit(state.gValues);
  state.dAdam = adamInit(state.dValues);
  const weightIdx = n.dParams.map((p, i) => (p.shape.length === 2 ? i : -1)).filter((i) => i >= 0);
  if (o.spectralNorm) state.spectral = weightIdx.map((i, k) => spectralInit(n.dParams[i].shape[0], n.dParams[i].shape[1], init.fork(3, k)));
  const resumedFrom = o.resume && loadCheckpoint(o.out, state, o) ? state.step : 0;

  const dGraph = discriminatorGraph(n, o);
  const gGraph = generatorGraph(n, o);
  const dSession = await Session.create(dGraph);
  const gSession = await Session.create(gGraph);
  const t0 = performance.now();
  const B = o.batchSize;
  const dFeedValues = state.dValues.map((v) => new Float32Array(v.length));
  const feedParams = (specs: ParamSpec[], values: Float32Array[]) => Object.fromEntries(specs.map((p, i) => [p.name, { data: values[i], shape: p.shape }]));
  /** D parameters as fed to the graphs: spectrally normalised weights when enabled. */
  const dEffective = (): Float32Array[] => {
    if (!o.spectralNorm) return state.dValues;
    state.dValues.forEach((v, i) => {
      const k = weightIdx.indexOf(i);
      if (k < 0) dFeedValues[i].set(v);
      else spectralNormalize(v, state.spectral[k], dFeedValues[i]);
    });
    return dFeedValues;
  };
  let lossD = NaN;
  let lossG = NaN;
  try {
    const total = o.steps + o.finetuneD;
    while (state.step < total) {
      const finetune = state.step >= o.steps;
      const rng = new Rng(o.seed, 1, state.step);
      for (let k = 0; k < (finetune ? 1 : o.dSteps); k++) {
        const dEff = dEffective();
        const feeds: Record<string, { data: Float32Array; shape: number[] }> = {
          ...feedParams(n.dParams, dEff),
          ...feedParams(n.gParams, state.gValues),
          real: { data: dataset.sample(B, rng), shape: [B, 2] },
          z: { data: rng.fillNormal(new Float32Array(B * o.latentDim)), shape: [B, o.latentDim] },
        };
        if (o.loss === 'wgan-gp') feeds.eps = { data: rng.fillUniform(new Float32Array(B)), shape: [B, 1] };
        const out = await dSession.run(feeds);
        lossD = out[dGraph.outputs[0]].data[0];
        const grads = dGraph.outputs.slice(1).map((name) => out[name].data);
        if (o.spectralNorm) weightIdx.forEach((i, k2) => spectralBackward(grads[i], dEff[i], state.spectral[k2]));
        adamStep(state.dValues, grads, state.dAdam, { lr: o.lrD, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 });
      }
      if (!finetune) {
        const out = await gSession.run({
          ...feedParams(n.gParams, state.gValues),
          ...feedParams(n.dParams, dEffective()),
          z: { data: rng.fillNormal(new Float32Array(B * o.latentDim)), shape: [B, o.latentDim] },
        });
        lossG = out[gGraph.outputs[0]].data[0];
        adamStep(state.gValues, gGraph.outputs.slice(1).map((name) => out[name].data), state.gAdam, { lr: o.lrG, beta1: o.beta1, beta2: o.beta2, eps: 1e-8 });
      }
      if (!Number.isFinite(lossD) || (!finetune && !Number.isFinite(lossG))) {
        fail('internal', 'training', 'finite losses', `loss_d ${lossD}, loss_g ${lossG} at step ${state.step} (lower the learning rates)`);
      }
      state.step++;
      if (state.step % 50 === 0 || state.step === total) hooks.onProgress?.({ step: state.step, steps: total, lossD, lossG });
      if (state.step % o.checkpointEvery === 0 || state.step === total) saveCheckpoint(o.out, state, o);
      if (hooks.signal?.aborted) {
        saveCheckpoint(o.out, state, o);
        throw new RefineryError('cancelled', [{ path: 'training', expected: 'to run to the end', received: `a stop at step ${state.step} (resume with --resume)` }]);
      }
    }
  } finally {
    await dSession.release();
    await gSession.release();
  }
  const seconds = (performance.now() - t0) / 1000;
  const dFinal = dEffective().map((v) => Float32Array.from(v));
  writeFileAtomic(join(o.out, 'generator.onnx'), encodeGraph(exportMlp(n.gSpec, n.gParams, state.gValues, 'z', 'x')));
  writeFileAtomic(join(o.out, 'discriminator.onnx'), encodeGraph(exportMlp(n.dSpec, n.dParams, dFinal, 'x', 'logit')));
  const meta: ModelMeta = {
    latentDim: o.latentDim,
    latentPrior: 'normal',
    dataShape: [2],
    dOutput: o.loss === 'ns' ? 'logit' : 'critic',
    dataset: o.dataset,
    extra: {
      producer: 'refinery train',
      d_output_semantics: o.loss === 'ns' ? 'logit of P(real): an estimate of log p_data/p_g' : `${o.loss} critic score (higher = more real)`,
      training: { ...checkpointOptions(o), steps: o.steps, finetuneD: o.finetuneD },
      final_loss: { d: lossD, g: lossG },
    },
  };
  writeMeta(join(o.out, 'meta.json'), meta);
  return { dir: o.out, steps: o.steps + o.finetuneD, seconds, lossD, lossG, resumedFrom, meta };
}
