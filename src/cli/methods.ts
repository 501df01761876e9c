/**
 * The refinement methods the CLI offers: for each id, its runner, the method options it reads and
 * how they become the runner's options. Option parsers name the option in their errors.
 */
import { InvalidArgumentError } from 'commander';
import { loadGraph } from '../onnx/model.js';
import { runDcd } from '../run/dcd.js';
import { runDgflow } from '../run/dgflow.js';
import { runDot } from '../run/dot.js';
import { runDdls } from '../run/latent.js';
import { runDrs, runMh, runSir } from '../run/selection.js';
import type { MethodRunner } from '../run/types.js';
import { choiceArg, intArg, numberArg } from './parse.js';

export interface MethodOption {
  /** Commander flags, e.g. '--step-size <x>'. */
  flags: string;
  /** The option name, e.g. '--step-size'. */
  flag: string;
  /** Commander's camelCase key, e.g. 'stepSize'. */
  key: string;
  description: string;
  parse?: (v: string) => unknown;
}

export interface MethodSpec {
  id: string;
  summary: string;
  runner: MethodRunner<never>;
  /** Keys of the method options it reads. */
  options: string[];
  build(opts: Record<string, unknown>): unknown;
  needsDiscriminator: boolean;
  needsReal: boolean;
  /** Train a DRE-F-SP critic on the real data first and use it as D. */
  estimator?: 'dre';
}

const positive = numberArg((n) => n > 0, 'a positive number');

/** 'none' or a positive number. */
function clipArg(v: string): number {
  if (v === 'none') return Infinity;
  return positive(v);
}

/** 'lo,hi' with lo < hi, or 'none'. */
function boxArg(v: string): [number, number] | 'none' {
  if (v === 'none') return 'none';
  const parts = v.split(',').map((p) => Number(p));
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(parts[0] < parts[1]))
    throw new InvalidArgumentError(`expected "lo,hi" with lo < hi, or "none", received ${JSON.stringify(v)}`);
  return parts as [number, number];
}
const nonNegative = numberArg((n) => n >= 0, 'a non-negative number');

function option(flags: string, description: string, parse?: (v: string) => unknown): MethodOption {
  const flag = flags.split(' ')[0];
  const key = flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
  return { flags, flag, key, description, parse };
}

const OPTIONS: MethodOption[] = [
  option('--num-steps <n>', 'dynamics: steps per chain (ddls 100, dcd 100, dot 100, dgflow 25)', intArg(1)),
  option('--step-size <x>', 'dynamics: step size (ddls 0.01, dcd 0.01, dot 0.01, dgflow 0.1)', positive),
  option('--noise <x>', 'ddls, dcd: noise multiplier (1 = Langevin, 0 = gradient descent); dgflow: gamma (default 0.01)', nonNegative),
  option(
    '--decay <x>',
    'ddls: step-size decay per step, in (0, 1]',
    numberArg((n) => n > 0 && n <= 1, 'a number in (0, 1]'),
  ),
  option('--metropolis', 'ddls: Metropolis-adjusted Langevin (MALA) correction'),
  option('--clip <x>', 'dcd: clip each row\'s gradient to this norm, or "none" (default 10)', clipArg),
  option('--box <lo,hi>', 'dcd, dot: clamp samples into [lo, hi] after each step, or "none" (default: the generator\'s output range)', boxArg),
  option('--divergence <f>', 'dgflow: kl, js or logd (default kl)', choiceArg(['kl', 'js', 'logd'] as const)),
  option('--space <s>', 'dgflow: latent or data (default latent)', choiceArg(['latent', 'data'] as const)),
  option('--prior-drift', 'dgflow (latent): add grad log p0(z) to the drift (KL with noise 1 is then Langevin on p0 r(G))'),
  option('--corrector <file>', 'dgflow: ONNX density-ratio corrector x -> logit added to D (for VAEs and flows)'),
  option('--burn-in <n>', 'drs: proposals scored to estimate the max logRatio M (default 10000)', intArg(1)),
  option('--exact', 'drs: accept with exp(logRatio - M), the exact rejection sampler (no shift, no gamma)'),
  option('--gamma <x>', 'drs: fixed shift gamma of F(x)', numberArg()),
  option(
    '--gamma-percentile <p>',
    'drs: gamma as this percentile (0-100) of F on the burn-in (default 95)',
    numberArg((n) => n >= 0 && n <= 100, 'a number in [0, 100]'),
  ),
  option('--epsilon <x>', 'drs: epsilon in F(x) = s - M - log(1 - exp(s - M - epsilon)) (default 1e-6)', positive),
  option('--max-proposals <n>', 'drs: give up after this many proposals (default 100 n)', intArg(1)),
  option('--chain-length <n>', 'mh: independence-sampler steps per output sample (default 100)', intArg(1)),
  option('--mh-init <how>', 'mh: chain starts: auto (real when given), real or generator', choiceArg(['auto', 'real', 'generator'] as const)),
  option('--max-restarts <n>', 'mh: restarts of chains that never moved from a real start (default 3)', intArg(0)),
  option('--pool <k>', 'sir: proposals per returned sample (default 10)', intArg(1)),
  option('--dre-steps <n>', 'dre-*: Adam steps of the density-ratio network (default 2000)', intArg(1)),
  option('--dre-lambda <x>', 'dre-*: weight of the normalisation penalty (E_fake exp(r) - 1)^2 (default 0.01)', nonNegative),
  option('--dre-hidden <n>', 'dre-*: hidden units per layer (default 64)', intArg(1)),
  option('--dre-layers <n>', 'dre-*: hidden layers (default 2)', intArg(1)),
  option('--dre-lr <x>', 'dre-*: learning rate (default 1e-3)', positive),
  option('--dre-fakes <n>', 'dre-*: generator samples in the training pool (default 0: as many as real samples; more fakes curb overfitting)', intArg(0)),
  option('--dre-features <file>', 'dre-*: ONNX feature extractor x -> [batch, k] (default: identity)'),
  option('--k-eff <x>', 'dot: Lipschitz constant of D (default: estimated over sample pairs)', positive),
  option('--k-eff-pool <n>', 'dot: samples used to estimate k_eff (default 256)', intArg(2)),
  option('--dot-delta <x>', 'dot: delta of the safe norm sqrt(|v|^2 + delta) (default 1e-3)', positive),
];

export function methodOptions(): MethodOption[] {
  return OPTIONS;
}

const pick = <T>(v: unknown, d: T): T => (v === undefined ? d : (v as T));

const DRS_OPTIONS = ['burnIn', 'exact', 'gamma', 'gammaPercentile', 'epsilon', 'maxProposals'];
const MH_OPTIONS = ['chainLength', 'mhInit', 'maxRestarts'];
const DRE_OPTIONS = ['dreSteps', 'dreLambda', 'dreHidden', 'dreLayers', 'dreLr', 'dreFakes', 'dreFeatures'];
const drs = (o: Record<string, unknown>) => ({
  burnIn: o.burnIn,
  exact: o.exact,
  gamma: o.gamma,
  gammaPercentile: o.gammaPercentile,
  epsilon: o.epsilon,
  maxProposals: o.maxProposals,
});
const mh = (o: Record<string, unknown>) => ({ chainLength: o.chainLength, init: o.mhInit, maxRestarts: o.maxRestarts });
const sir = (o: Record<string, unknown>) => ({ poolMultiplier: o.pool });

function selection(
  id: string,
  summary: string,
  runner: MethodRunner<never>,
  options: string[],
  build: (o: Record<string, unknown>) => unknown,
  dre: boolean,
): MethodSpec {
  return {
    id,
    summary,
    runner,
    options: dre ? [...options, ...DRE_OPTIONS] : options,
    build,
    needsDiscriminator: !dre,
    needsReal: dre,
    estimator: dre ? 'dre' : undefined,
  };
}

export const METHODS: Record<string, MethodSpec> = {
  drs: selection('drs', 'discriminator rejection sampling (Azadi et al. 2019)', runDrs as MethodRunner<never>, DRS_OPTIONS, drs, false),
  mh: selection(
    'mh',
    'Metropolis-Hastings GAN: independence sampler with ratio exp(logRatio) (Turner et al. 2019)',
    runMh as MethodRunner<never>,
    MH_OPTIONS,
    mh,
    false,
  ),
  sir: selection('sir', 'sampling-importance-resampling with weights exp(logRatio)', runSir as MethodRunner<never>, ['pool'], sir, false),
  'dre-rs': selection('dre-rs', 'DRE-F-SP critic (softplus loss, feature space) + rejection sampling', runDrs as MethodRunner<never>, DRS_OPTIONS, drs, true),
  'dre-mh': selection('dre-mh', 'DRE-F-SP critic + Metropolis-Hastings', runMh as MethodRunner<never>, MH_OPTIONS, mh, true),
  'dre-sir': selection('dre-sir', 'DRE-F-SP critic + importance resampling', runSir as MethodRunner<never>, ['pool'], sir, true),
  ddls: {
    id: 'ddls',
    summary: 'Langevin dynamics on the latent energy -log p0(z) - logRatio(G(z)) (Che et al. 2020)',
    runner: runDdls as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'noise', 'decay', 'metropolis'],
    build: (o) => ({
      numSteps: pick(o.numSteps, 100),
      stepSize: pick(o.stepSize, 0.01),
      noise: pick(o.noise, 1),
      decay: pick(o.decay, 1),
      metropolis: pick(o.metropolis, false),
    }),
    needsDiscriminator: true,
    needsReal: false,
  },
  dcd: {
    id: 'dcd',
    summary: 'sample-space Langevin with the critic: x += eps/2 clip(grad logRatio(x)) + noise sqrt(eps) xi (drops grad log p_g)',
    runner: runDcd as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'noise', 'clip', 'box'],
    build: (o) => ({ numSteps: o.numSteps, stepSize: o.stepSize, noise: o.noise, clip: o.clip, box: o.box }),
    needsDiscriminator: true,
    needsReal: false,
  },
  dot: {
    id: 'dot',
    summary: 'discriminator optimal transport in sample space: argmin_x |x - y| - logRatio(x)/k_eff (Tanaka 2019)',
    runner: runDot as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'box', 'kEff', 'kEffPool', 'dotDelta'],
    build: (o) => ({ space: 'data', numSteps: o.numSteps, stepSize: o.stepSize, box: o.box, kEff: o.kEff, kEffPool: o.kEffPool, delta: o.dotDelta }),
    needsDiscriminator: true,
    needsReal: false,
  },
  dgflow: {
    id: 'dgflow',
    summary: 'discriminator gradient flow: x += eta s(logRatio) grad logRatio + sqrt(2 gamma eta) xi, KL/JS/log-D (Ansari et al. 2021)',
    runner: runDgflow as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'noise', 'divergence', 'space', 'priorDrift', 'corrector'],
    build: (o) => ({
      numSteps: o.numSteps,
      stepSize: o.stepSize,
      noise: o.noise,
      divergence: o.divergence,
      space: o.space,
      priorDrift: o.priorDrift,
      corrector: o.corrector === undefined ? undefined : loadGraph(o.corrector as string),
    }),
    needsDiscriminator: true,
    needsReal: false,
  },
  'dot-latent': {
    id: 'dot-latent',
    summary: 'discriminator optimal transport in latent space: argmin_z |z - z_y| - logRatio(G(z))/k_eff',
    runner: runDot as MethodRunner<never>,
    options: ['numSteps', 'stepSize', 'kEff', 'kEffPool', 'dotDelta'],
    build: (o) => ({ space: 'latent', numSteps: o.numSteps, stepSize: o.stepSize, kEff: o.kEff, kEffPool: o.kEffPool, delta: o.dotDelta }),
    needsDiscriminator: true,
    needsReal: false,
  },
};

export function methodIds(): string[] {
  return Object.keys(METHODS);
}
