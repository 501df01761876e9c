/**
 * The selection methods: DRS, MH-GAN and SIR choose among generator proposals by their
 * logRatio (run/selection.ts), and their DRE-F-SP variants do the same with a density-ratio
 * network trained first on held-out real samples (methods/estimators/drefsp.ts).
 */
import { fail } from '../../errors.js';
import { checkMemory } from '../../platform/memory.js';
import { DRE_FSP_DEFAULTS, trainDreFsp } from '../../methods/estimators/drefsp.js';
import { DRS_DEFAULTS, type DrsOptions } from '../../methods/selection/drs.js';
import { MH_DEFAULTS } from '../../methods/selection/mh.js';
import { SIR_DEFAULTS } from '../../methods/selection/sir.js';
import { asGraph, type OnnxModel } from '../../onnx/graph.js';
import { runDrs, runMh, runSir } from '../../run/selection.js';
import { defineMethod, type MethodDefinition, type PrepareInput, type Prepared } from '../method.js';
import type { OptionSpecs } from '../options.js';

/** Options of `drs` (Azadi et al. 2019): the kernel's options. */
export type { DrsOptions };

/** Options of `mh` (Turner et al. 2019). */
export interface MhOptions {
  /** Independence-sampler steps per output sample. Default 100. */
  chainLength: number;
  /** Chain starts: 'real' (held-out real samples), 'generator', or 'auto' (real when given). Default 'auto'. */
  mhInit: 'auto' | 'real' | 'generator';
  /** Rounds of restarting chains that never left a real start. Default 3. */
  maxRestarts: number;
}

/** Options of `sir`. */
export interface SirOptions {
  /** Proposals per returned sample. Default 10. */
  pool: number;
  /** Returned samples that share one pool (rows [jG, (j+1)G) of the run). Default 1000. */
  sirGroup: number;
  /** Resample with replacement (default), or each pool member at most once (false). */
  sirReplace: boolean;
}

/** Options of the DRE-F-SP density-ratio network (Choi et al. 2021), shared by dre-rs, dre-mh, dre-sir and dre-dgflow. */
export interface DreOptions {
  /** Adam steps. Default 5000. */
  dreSteps: number;
  /** Weight of the normalisation penalty (E_fake exp(r) - 1)^2. Default 0.01. */
  dreLambda: number;
  /** Hidden units per layer. Default 64. */
  dreHidden: number;
  /** Hidden layers. Default 2. */
  dreLayers: number;
  /** Adam learning rate. Default 1e-3. */
  dreLr: number;
  /** Decay the learning rate linearly to 0 over the steps. Default true. */
  dreLrDecay: boolean;
  /** Generator samples in the training pool; 0: as many as real samples. Default 0. */
  dreFakes: number;
  /** Candidate penalty weights, selected by validation loss when there are two or more and `dreValidation` > 0. */
  dreLambdas: number[];
  /** Fraction of the pools held out for the lambda selection and the KS overfitting check (0: none). */
  dreValidation: number;
  /** Steps between validation checks; the parameters of the least validation loss are kept (0: the last step's). */
  dreEarlyStop: number;
  /** Feature extractor x -> [batch, k] (default: the flattened sample). */
  dreFeatures?: OnnxModel;
}

const DRS_SPECS: OptionSpecs<DrsOptions> = {
  burnIn: {
    flag: '--burn-in',
    type: { kind: 'integer', min: 1 },
    description: 'proposals scored to estimate the max logRatio M (default: 10 per sample of the run, between 1,000 and 10,000)',
  },
  exact: { flag: '--exact', type: { kind: 'boolean' }, description: 'accept with exp(logRatio - M): the exact rejection sampler (no shift, no gamma)' },
  gamma: { flag: '--gamma', type: { kind: 'number' }, description: 'fixed shift gamma of the acceptance logit F (overrides --gamma-percentile)' },
  gammaPercentile: {
    flag: '--gamma-percentile',
    type: { kind: 'number', min: 0, max: 100 },
    description: 'gamma as this percentile (0-100) of F on the burn-in',
  },
  epsilon: {
    flag: '--epsilon',
    type: { kind: 'number', min: 0, minExclusive: true },
    description: 'epsilon in F(x) = s - M - log(1 - exp(s - M - epsilon)) - gamma',
  },
  maxProposals: {
    flag: '--max-proposals',
    type: { kind: 'integer', min: 1 },
    description: 'give up after this many proposals in a chunk (default 100 per sample); never changes which samples a finished run returns',
  },
};

const MH_SPECS: OptionSpecs<MhOptions> = {
  chainLength: { flag: '--chain-length', type: { kind: 'integer', min: 1 }, description: 'independence-sampler steps per output sample' },
  mhInit: {
    flag: '--mh-init',
    type: { kind: 'choice', choices: ['auto', 'real', 'generator'] },
    description: 'chain starts: auto (real when given), real or generator',
  },
  maxRestarts: { flag: '--max-restarts', type: { kind: 'integer', min: 0 }, description: 'restarts of chains that never moved from a real start' },
};

const SIR_SPECS: OptionSpecs<SirOptions> = {
  pool: { flag: '--pool', type: { kind: 'integer', min: 1 }, description: 'proposals per returned sample' },
  sirGroup: {
    flag: '--sir-group',
    type: { kind: 'integer', min: 1 },
    description: 'returned samples sharing one pool of sir-group x pool proposals (rows [jG, (j+1)G) of the run)',
  },
  sirReplace: {
    flag: '--sir-replace',
    type: { kind: 'boolean' },
    description: 'resample with replacement (--no-sir-replace: each proposal at most once, weighted draws without replacement)',
  },
};

const DRE_SPECS: OptionSpecs<DreOptions> = {
  dreSteps: { flag: '--dre-steps', type: { kind: 'integer', min: 1 }, description: 'Adam steps of the density-ratio network' },
  dreLambda: { flag: '--dre-lambda', type: { kind: 'number', min: 0 }, description: 'weight of the normalisation penalty (E_fake exp(r) - 1)^2' },
  dreHidden: { flag: '--dre-hidden', type: { kind: 'integer', min: 1 }, description: 'hidden units per layer' },
  dreLayers: { flag: '--dre-layers', type: { kind: 'integer', min: 1 }, description: 'hidden layers' },
  dreLr: { flag: '--dre-lr', type: { kind: 'number', min: 0, max: 1, minExclusive: true, maxExclusive: true }, description: 'learning rate' },
  dreLrDecay: {
    flag: '--dre-lr-decay',
    type: { kind: 'boolean' },
    description: 'decay the learning rate linearly to 0 over the steps (--no-dre-lr-decay: constant)',
  },
  dreFakes: {
    flag: '--dre-fakes',
    type: { kind: 'integer', min: 0 },
    description: 'generator samples in the training pool (0: as many as real samples; more fakes curb overfitting)',
  },
  dreLambdas: {
    flag: '--dre-lambdas',
    type: { kind: 'numbers', min: 0 },
    description: 'candidate penalty weights: with two or more and --dre-validation > 0, the one of least validation loss is used',
  },
  dreValidation: {
    flag: '--dre-validation',
    type: { kind: 'number', min: 0, max: 0.5, maxExclusive: true },
    description: 'fraction of the real and fake pools held out to select lambda and check overfitting (KS)',
  },
  dreEarlyStop: {
    flag: '--dre-early-stop',
    type: { kind: 'integer', min: 0 },
    description: 'every this many steps measure the validation loss and keep the best parameters (0: keep the last)',
  },
  dreFeatures: { flag: '--dre-features', type: { kind: 'model' }, description: 'ONNX feature extractor x -> [batch, k] (default: identity)' },
};

const DRE_DEFAULTS: Omit<DreOptions, 'dreFeatures'> = {
  dreSteps: DRE_FSP_DEFAULTS.steps,
  dreLambda: DRE_FSP_DEFAULTS.lambda,
  dreHidden: DRE_FSP_DEFAULTS.hidden,
  dreLayers: DRE_FSP_DEFAULTS.layers,
  dreLr: DRE_FSP_DEFAULTS.lr,
  dreLrDecay: DRE_FSP_DEFAULTS.lrDecay,
  dreFakes: DRE_FSP_DEFAULTS.numFake,
  dreLambdas: DRE_FSP_DEFAULTS.lambdas,
  dreValidation: DRE_FSP_DEFAULTS.validation,
  dreEarlyStop: DRE_FSP_DEFAULTS.earlyStop,
};

const drsRun = (o: DrsOptions) => ({
  burnIn: o.burnIn,
  exact: o.exact,
  gamma: o.gamma,
  gammaPercentile: o.gammaPercentile,
  epsilon: o.epsilon,
  maxProposals: o.maxProposals,
});

export const drs = defineMethod<'drs', DrsOptions>({
  id: 'drs',
  summary: 'discriminator rejection sampling: accept G(z) with probability sigmoid(F), F the shifted logit of exp(logRatio - M)',
  reference: 'Azadi et al. 2019, Discriminator Rejection Sampling',
  family: 'selection',
  defaults: DRS_DEFAULTS,
  options: DRS_SPECS,
  needsReal: false,
  check(o) {
    if (o.exact && o.gamma !== undefined) fail('invalid_argument', 'gamma', 'no gamma with exact (exact DRS accepts with exp(s - M))', String(o.gamma));
  },
  run: (ctx, o) => runDrs(ctx, drsRun(o)),
});

export const mh = defineMethod<'mh', MhOptions>({
  id: 'mh',
  summary: "Metropolis-Hastings GAN: an independence sampler with acceptance ratio exp(logRatio(x') - logRatio(x)), chains started at real data",
  reference: 'Turner et al. 2019, Metropolis-Hastings Generative Adversarial Networks',
  family: 'selection',
  defaults: { chainLength: MH_DEFAULTS.chainLength, mhInit: MH_DEFAULTS.init, maxRestarts: MH_DEFAULTS.maxRestarts },
  options: MH_SPECS,
  needsReal: false,
  check(o, run) {
    if (o.mhInit === 'real' && !run.hasReal) fail('invalid_argument', 'real', 'held-out real samples to start the chains from (mhInit real)', 'none');
  },
  run: (ctx, o) => runMh(ctx, { chainLength: o.chainLength, init: o.mhInit, maxRestarts: o.maxRestarts }),
});

export const sir = defineMethod<'sir', SirOptions>({
  id: 'sir',
  summary: 'sampling-importance-resampling: draw a pool of proposals, resample with weights exp(logRatio)',
  reference: 'Rubin 1988; as a GAN refinement, e.g. Grover et al. 2019',
  family: 'selection',
  defaults: { pool: SIR_DEFAULTS.poolMultiplier, sirGroup: SIR_DEFAULTS.groupSize, sirReplace: SIR_DEFAULTS.replace },
  options: SIR_SPECS,
  needsReal: false,
  check(o, run) {
    // The pool of one group (latents and scores) is held in memory.
    const g = Math.min(o.sirGroup, run.n);
    checkMemory(4 * g * o.pool * (run.pair.meta.latentDim + 1), 'pool', `a pool of ${o.pool} x ${g} proposals (pool x the ${g} samples of a group, sirGroup)`);
  },
  run: (ctx, o) => runSir(ctx, { poolMultiplier: o.pool, groupSize: o.sirGroup, replace: o.sirReplace }),
});

/** Train the DRE-F-SP network on the real samples; the runner then reads it as D. */
async function prepareDre(input: PrepareInput, o: DreOptions): Promise<Prepared> {
  const r = await trainDreFsp(
    { pair: input.pair, real: input.real, seed: input.seed, features: o.dreFeatures === undefined ? undefined : asGraph(o.dreFeatures, 'dreFeatures') },
    {
      steps: o.dreSteps,
      lambda: o.dreLambda,
      hidden: o.dreHidden,
      layers: o.dreLayers,
      lr: o.dreLr,
      lrDecay: o.dreLrDecay,
      numFake: o.dreFakes,
      lambdas: o.dreLambdas,
      validation: o.dreValidation,
      earlyStop: o.dreEarlyStop,
    },
    { signal: input.signal, onProgress: input.onProgress },
  );
  return { pair: r.pair, report: r.report as unknown as Record<string, unknown>, stage: 'dre' };
}

/**
 * A DRE-F-SP variant of a method: the same options plus the network's; the network is trained
 * first and the method reads it as D.
 */
export function withDre<Id extends string, O extends object>(
  id: Id,
  base: MethodDefinition<string, O>,
  summary: string,
  reference = 'Choi et al. 2021, Featurized Density Ratio Estimation (DRE-F-SP)',
): MethodDefinition<Id, O & DreOptions> {
  return defineMethod<Id, O & DreOptions>({
    id,
    summary,
    reference,
    family: base.family,
    defaults: { ...base.defaults, ...DRE_DEFAULTS } as Partial<O & DreOptions>,
    options: { ...base.options, ...DRE_SPECS } as OptionSpecs<O & DreOptions>,
    needsReal: true,
    check: base.check as MethodDefinition<Id, O & DreOptions>['check'],
    prepare: (input, o) => prepareDre(input, o),
    run: (ctx, o) => base.run(ctx, o),
  });
}

export const dreRs = withDre('dre-rs', drs, 'DRE-F-SP density-ratio network trained on real samples, then rejection sampling with it');
export const dreMh = withDre('dre-mh', mh, 'DRE-F-SP density-ratio network, then Metropolis-Hastings with it');
export const dreSir = withDre('dre-sir', sir, 'DRE-F-SP density-ratio network, then importance resampling with it');
