/**
 * The selection methods: DRS, MH-GAN and SIR choose among generator proposals by their
 * logRatio (run/selection.ts). Their DRE-F-SP variants are in dre.ts.
 */
import { fail } from '../../errors.js';
import { checkMemory } from '../../platform/memory.js';
import { DRS_DEFAULTS, type DrsOptions } from '../../methods/selection/drs.js';
import { MH_DEFAULTS } from '../../methods/selection/mh.js';
import { SIR_DEFAULTS } from '../../methods/selection/sir.js';
import { runDrs, runMh, runSir } from '../../run/selection.js';
import { defineMethod } from '../method.js';
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
