/**
 * The dynamics methods: DDLS and DGflow run Langevin-type dynamics (in latent or sample space),
 * DCD runs sample-space Langevin on the critic, DOT transports samples (or latents) by optimal
 * transport against the discriminator. Kernels in methods/dynamics, runners in run/.
 */
import { fail } from '../../errors.js';
import { DOT_COSTS, DOT_DEFAULTS, type DotCost } from '../../methods/dynamics/dot.js';
import { asGraph, type OnnxModel } from '../../onnx/graph.js';
import { DCD_RUN_DEFAULTS, runDcd } from '../../run/dcd.js';
import { DGFLOW_DEFAULTS, runDgflow } from '../../run/dgflow.js';
import { DOT_RUN_DEFAULTS, K_EFF_ESTIMATORS, type KEffEstimator, runDot } from '../../run/dot.js';
import { runDdls } from '../../run/latent.js';
import { DIVERGENCES, type Divergence, FLOW_SPACES, type FlowSpace } from '../../targets/flow.js';
import { defineMethod } from '../method.js';
import type { OptionSpec } from '../options.js';

/** Options of `ddls` (Che et al. 2020). */
export interface DdlsOptions {
  /** Langevin steps per chain. Default 1000 (Langevin time 5 at the default step: enough to reach unit-scale targets from the prior). */
  numSteps: number;
  /** Step size epsilon. Default 0.01. */
  stepSize: number;
  /** Noise multiplier: 1 is Langevin, 0 gradient descent on the energy. Default 1. */
  noise: number;
  /** Step-size decay per step, in (0, 1]. Default 1. */
  decay: number;
  /** Metropolis-adjusted Langevin (MALA). Default false. */
  metropolis: boolean;
}

/** Options of `dcd` (Song et al. 2020, the sampler). */
export interface DcdOptions {
  /** Langevin steps. Default 100. */
  numSteps: number;
  /** Step size epsilon. Default 0.01. */
  stepSize: number;
  /** Noise multiplier (0 = gradient ascent on logRatio). Default 1. */
  noise: number;
  /** Clip each row's gradient to this norm (Infinity: no clipping). Default 10. */
  clip: number;
  /** Clamp samples into [lo, hi] after each step, or 'none'. Default: the generator's output range. */
  box?: [number, number] | 'none';
}

/** Options of `dot` (Tanaka 2019, in sample space). */
export interface DotOptions {
  /** Adam steps. Default 100. */
  numSteps: number;
  /** Adam learning rate. Default 0.01. */
  stepSize: number;
  /** Lipschitz constant K_eff of D. Default: estimated (see kEffEstimator). */
  kEff?: number;
  /**
   * How K_eff is estimated: 'paper' (the authors' code: the mean over kEffTrials sets of the max
   * slope over kEffPairs random pairs), 'quantile' (the kEffQuantile quantile of those slopes:
   * robust on a sharp logit D) or 'pool' (the max slope over all pairs of kEffPool samples).
   * Default 'paper'.
   */
  kEffEstimator: KEffEstimator;
  /** 'paper' and 'quantile' estimators: sets of random pairs. Default 10. */
  kEffTrials: number;
  /** 'paper' and 'quantile' estimators: random pairs per set. Default 100. */
  kEffPairs: number;
  /** 'quantile' estimator: the quantile of the slopes, in (0, 1]. Default 0.9. */
  kEffQuantile: number;
  /** 'pool' estimator: samples drawn (all pairs are used). Default 256. */
  kEffPool: number;
  /** Transport cost: 'paper' |v + delta| (the authors' code) or 'smooth' sqrt(|v|^2 + delta). Default 'paper'. */
  dotCost: DotCost;
  /** delta of the transport cost. Default 1e-3. */
  dotDelta: number;
  /** Clamp samples into [lo, hi] after each step, or 'none'. Default: the generator's output range. */
  box?: [number, number] | 'none';
}

/** Options of `dot-latent` (Tanaka 2019, in latent space). */
export type DotLatentOptions = Omit<DotOptions, 'box'>;

/** Options of `dgflow` (Ansari et al. 2021). */
export interface DgflowOptions {
  /** Euler-Maruyama steps. Default 25. */
  numSteps: number;
  /** Step size eta. Default 0.1. */
  stepSize: number;
  /** Entropy regulariser gamma: the noise per step is sqrt(2 gamma eta). Default 0.01. */
  noise: number;
  /** f-divergence: 'kl', 'js' or 'logd'. Default 'kl'. */
  divergence: Divergence;
  /** Where the flow runs: 'latent' or 'data'. Default 'latent'. */
  space: FlowSpace;
  /** Latent space: add grad log p0(z) to the drift. Default false. */
  priorDrift: boolean;
  /** Density-ratio corrector x -> [batch, 1], a logit added to logRatio (for VAEs and flows). */
  corrector?: OnnxModel;
}

const numSteps = (d: string): OptionSpec => ({ flag: '--num-steps', type: { kind: 'integer', min: 1 }, description: d });
const stepSize = (d: string): OptionSpec => ({ flag: '--step-size', type: { kind: 'number', min: 0, minExclusive: true }, description: d });
const box: OptionSpec = {
  flag: '--box',
  type: { kind: 'range' },
  description: 'clamp samples into [lo, hi] after each step, or "none" (default: the generator\'s output range)',
};
const kEff: OptionSpec = {
  flag: '--k-eff',
  type: { kind: 'number', min: 0, minExclusive: true },
  description: 'Lipschitz constant K_eff of D (default: estimated over sample pairs)',
};
const kEffPool: OptionSpec = { flag: '--k-eff-pool', type: { kind: 'integer', min: 2 }, description: "'pool' estimator: samples drawn to estimate K_eff" };
const kEffEstimator: OptionSpec = {
  flag: '--k-eff-estimator',
  type: { kind: 'choice', choices: K_EFF_ESTIMATORS },
  description: 'paper (mean over sets of the max slope over random pairs), quantile (a quantile of those slopes) or pool (max slope over all pairs of a pool)',
};
const kEffQuantile: OptionSpec = {
  flag: '--k-eff-quantile',
  type: { kind: 'number', min: 0, max: 1, minExclusive: true },
  description: "'quantile' estimator: the quantile of the slopes",
};
const kEffTrials: OptionSpec = {
  flag: '--k-eff-trials',
  type: { kind: 'integer', min: 1 },
  description: "'paper' and 'quantile' estimators: sets of random pairs",
};
const kEffPairs: OptionSpec = {
  flag: '--k-eff-pairs',
  type: { kind: 'integer', min: 1 },
  description: "'paper' and 'quantile' estimators: random pairs per set",
};
const dotCost: OptionSpec = {
  flag: '--dot-cost',
  type: { kind: 'choice', choices: DOT_COSTS },
  description: 'transport cost: paper |x - y + delta| or smooth sqrt(|x - y|^2 + delta)',
};
const dotDelta: OptionSpec = {
  flag: '--dot-delta',
  type: { kind: 'number', min: 0, minExclusive: true },
  description: 'delta of the transport cost',
};
const dotDefaults = {
  numSteps: DOT_RUN_DEFAULTS.numSteps,
  stepSize: DOT_DEFAULTS.stepSize,
  kEffEstimator: DOT_RUN_DEFAULTS.kEffEstimator,
  kEffTrials: DOT_RUN_DEFAULTS.kEffTrials,
  kEffPairs: DOT_RUN_DEFAULTS.kEffPairs,
  kEffQuantile: DOT_RUN_DEFAULTS.kEffQuantile,
  kEffPool: DOT_RUN_DEFAULTS.kEffPool,
  dotCost: DOT_DEFAULTS.cost,
  dotDelta: DOT_DEFAULTS.delta,
};
const dotOptionSpecs = {
  numSteps: numSteps('Adam steps'),
  stepSize: stepSize('Adam learning rate'),
  kEff,
  kEffEstimator,
  kEffTrials,
  kEffPairs,
  kEffQuantile,
  kEffPool,
  dotCost,
  dotDelta,
};
const dotRun = (o: DotLatentOptions) => ({
  numSteps: o.numSteps,
  stepSize: o.stepSize,
  kEff: o.kEff,
  kEffEstimator: o.kEffEstimator,
  kEffTrials: o.kEffTrials,
  kEffPairs: o.kEffPairs,
  kEffQuantile: o.kEffQuantile,
  kEffPool: o.kEffPool,
  cost: o.dotCost,
  delta: o.dotDelta,
});

export const ddls = defineMethod<'ddls', DdlsOptions>({
  id: 'ddls',
  summary: 'Langevin dynamics in latent space on the energy E(z) = -log p0(z) - logRatio(G(z))',
  reference: 'Che et al. 2020, Your GAN is Secretly an Energy-based Model (DDLS)',
  family: 'dynamics',
  defaults: { numSteps: 1000, stepSize: 0.01, noise: 1, decay: 1, metropolis: false },
  options: {
    numSteps: numSteps('Langevin steps per chain'),
    stepSize: stepSize('step size epsilon'),
    noise: { flag: '--noise', type: { kind: 'number', min: 0 }, description: 'noise multiplier (1 = Langevin, 0 = gradient descent)' },
    decay: { flag: '--decay', type: { kind: 'number', min: 0, max: 1, minExclusive: true }, description: 'step-size decay per step, in (0, 1]' },
    metropolis: { flag: '--metropolis', type: { kind: 'boolean' }, description: 'Metropolis-adjusted Langevin (MALA) correction' },
  },
  needsReal: false,
  check(o) {
    if (o.metropolis && o.noise !== 1) fail('invalid_argument', 'noise', '1 when metropolis is set (MALA needs the exact Langevin noise)', String(o.noise));
  },
  run: (ctx, o) => runDdls(ctx, o),
});

export const dcd = defineMethod<'dcd', DcdOptions>({
  id: 'dcd',
  summary: 'sample-space Langevin on the critic: x += eps/2 clip(grad logRatio(x)) + noise sqrt(eps) xi (drops grad log p_g)',
  reference: 'Song et al. 2020, Discriminator Contrastive Divergence',
  family: 'dynamics',
  defaults: { numSteps: DCD_RUN_DEFAULTS.numSteps, stepSize: DCD_RUN_DEFAULTS.stepSize, noise: DCD_RUN_DEFAULTS.noise, clip: DCD_RUN_DEFAULTS.clip },
  options: {
    numSteps: numSteps('Langevin steps'),
    stepSize: stepSize('step size epsilon'),
    noise: { flag: '--noise', type: { kind: 'number', min: 0 }, description: 'noise multiplier (1 = Langevin, 0 = gradient ascent)' },
    clip: {
      flag: '--clip',
      type: { kind: 'number', min: 0, minExclusive: true, none: true },
      description: 'clip each row\'s gradient to this norm, or "none"',
    },
    box,
  },
  needsReal: false,
  run: (ctx, o) => runDcd(ctx, o),
});

export const dot = defineMethod<'dot', DotOptions>({
  id: 'dot',
  summary: 'discriminator optimal transport in sample space: x* = argmin_x |x - y| - logRatio(x)/K_eff',
  reference: 'Tanaka 2019, Discriminator optimal transport',
  family: 'dynamics',
  defaults: dotDefaults,
  options: { ...dotOptionSpecs, box },
  needsReal: false,
  run: (ctx, o) => runDot(ctx, { space: 'data', ...dotRun(o), box: o.box }),
});

export const dotLatent = defineMethod<'dot-latent', DotLatentOptions>({
  id: 'dot-latent',
  summary: 'discriminator optimal transport in latent space: z* = argmin_z |z - z_y| - logRatio(G(z))/K_eff',
  reference: 'Tanaka 2019, Discriminator optimal transport',
  family: 'dynamics',
  defaults: dotDefaults,
  options: dotOptionSpecs,
  needsReal: false,
  run: (ctx, o) => runDot(ctx, { space: 'latent', ...dotRun(o) }),
});

export const dgflow = defineMethod<'dgflow', DgflowOptions>({
  id: 'dgflow',
  summary: 'discriminator gradient flow: x += eta s(logRatio) grad logRatio + sqrt(2 gamma eta) xi, for the KL, JS or log-D divergence',
  reference: 'Ansari et al. 2021, Refining Deep Generative Models via Discriminator Gradient Flow',
  family: 'dynamics',
  defaults: {
    numSteps: DGFLOW_DEFAULTS.numSteps,
    stepSize: DGFLOW_DEFAULTS.stepSize,
    noise: DGFLOW_DEFAULTS.noise,
    divergence: DGFLOW_DEFAULTS.divergence,
    space: DGFLOW_DEFAULTS.space,
    priorDrift: DGFLOW_DEFAULTS.priorDrift,
  },
  options: {
    numSteps: numSteps('Euler-Maruyama steps'),
    stepSize: stepSize('step size eta'),
    noise: { flag: '--noise', type: { kind: 'number', min: 0 }, description: 'entropy regulariser gamma (noise per step sqrt(2 gamma eta))' },
    divergence: { flag: '--divergence', type: { kind: 'choice', choices: DIVERGENCES }, description: 'f-divergence: kl, js or logd' },
    space: { flag: '--space', type: { kind: 'choice', choices: FLOW_SPACES }, description: 'latent or data' },
    priorDrift: {
      flag: '--prior-drift',
      type: { kind: 'boolean' },
      description: 'latent space: add grad log p0(z) to the drift (KL with noise 1 is then Langevin on p0 r(G))',
    },
    corrector: { flag: '--corrector', type: { kind: 'model' }, description: 'ONNX density-ratio corrector x -> logit, added to D (for VAEs and flows)' },
  },
  needsReal: false,
  check(o) {
    if (o.priorDrift && o.space !== 'latent') fail('invalid_argument', 'priorDrift', 'only with space latent', `space ${o.space}`);
  },
  run: (ctx, o) => runDgflow(ctx, { ...o, corrector: o.corrector === undefined ? undefined : asGraph(o.corrector, 'corrector') }),
});
