/**
 * The DRE-F-SP variants (Choi et al. 2021): a density-ratio network is trained first on held-out
 * real samples (methods/estimators/drefsp.ts), then a method runs with it in place of D. Any
 * method can be wrapped (`withDre`); the registry has the selection methods and the latent
 * dynamics (DDLS, DOT in latent space, DGflow).
 */
import { DRE_ACTIVATIONS, DRE_FSP_DEFAULTS, type DreFspResult, trainDreFsp } from '../../methods/estimators/drefsp.js';
import { asGraph, type OnnxModel } from '../../onnx/graph.js';
import type { Activation } from '../../train/mlp.js';
import { defineMethod, type MethodDefinition, type PrepareInput, type Prepared } from '../method.js';
import type { OptionSpecs } from '../options.js';
import { ddls, dgflow, dotLatent } from './dynamics.js';
import { drs, mh, sir } from './selection.js';

/** Options of the DRE-F-SP density-ratio network (Choi et al. 2021), shared by every dre-* method. */
export interface DreOptions {
  /** Adam steps. Default 5000. */
  dreSteps: number;
  /** Weight of the normalisation penalty (E_fake exp(r) - 1)^2. Default 0.01. */
  dreLambda: number;
  /** Hidden units per layer. Default 64. */
  dreHidden: number;
  /** Hidden layers. Default 2. */
  dreLayers: number;
  /** Hidden activation: relu, leaky_relu or tanh. Default relu. */
  dreActivation: Activation;
  /** Real and generated samples per minibatch, each. Default 256. */
  dreBatchSize: number;
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

/** The declarations of the DRE-F-SP options (flags, types, meanings), shared by every dre-* method and `trainRatio`. */
export const DRE_SPECS: OptionSpecs<DreOptions> = {
  dreSteps: { flag: '--dre-steps', type: { kind: 'integer', min: 1 }, description: 'Adam steps of the density-ratio network' },
  dreLambda: { flag: '--dre-lambda', type: { kind: 'number', min: 0 }, description: 'weight of the normalisation penalty (E_fake exp(r) - 1)^2' },
  dreHidden: { flag: '--dre-hidden', type: { kind: 'integer', min: 1 }, description: 'hidden units per layer' },
  dreLayers: { flag: '--dre-layers', type: { kind: 'integer', min: 1 }, description: 'hidden layers' },
  dreActivation: { flag: '--dre-activation', type: { kind: 'choice', choices: DRE_ACTIVATIONS }, description: 'hidden activation' },
  dreBatchSize: { flag: '--dre-batch-size', type: { kind: 'integer', min: 1 }, description: 'real and generated samples per minibatch, each' },
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

/** Defaults of the DRE-F-SP options: the paper's (methods/estimators/drefsp.ts). */
export const DRE_DEFAULTS: Omit<DreOptions, 'dreFeatures'> = {
  dreSteps: DRE_FSP_DEFAULTS.steps,
  dreLambda: DRE_FSP_DEFAULTS.lambda,
  dreHidden: DRE_FSP_DEFAULTS.hidden,
  dreLayers: DRE_FSP_DEFAULTS.layers,
  dreActivation: DRE_FSP_DEFAULTS.activation,
  dreBatchSize: DRE_FSP_DEFAULTS.batchSize,
  dreLr: DRE_FSP_DEFAULTS.lr,
  dreLrDecay: DRE_FSP_DEFAULTS.lrDecay,
  dreFakes: DRE_FSP_DEFAULTS.numFake,
  dreLambdas: DRE_FSP_DEFAULTS.lambdas,
  dreValidation: DRE_FSP_DEFAULTS.validation,
  dreEarlyStop: DRE_FSP_DEFAULTS.earlyStop,
};

/** What `trainDre` reads: the pair whose generator makes the fakes, held-out reals, the seed and hooks. */
export type DreInput = Pick<PrepareInput, 'pair' | 'real' | 'seed' | 'signal' | 'onProgress'>;

/**
 * Train the DRE-F-SP network with the dre-* methods' options: what every dre-* method does before
 * sampling, and what `trainRatio` writes to a run folder. Same input and options, same network.
 */
export function trainDre(input: DreInput, o: DreOptions): Promise<DreFspResult> {
  return trainDreFsp(
    { pair: input.pair, real: input.real, seed: input.seed, features: o.dreFeatures === undefined ? undefined : asGraph(o.dreFeatures, 'dreFeatures') },
    {
      steps: o.dreSteps,
      lambda: o.dreLambda,
      hidden: o.dreHidden,
      layers: o.dreLayers,
      activation: o.dreActivation,
      batchSize: o.dreBatchSize,
      lr: o.dreLr,
      lrDecay: o.dreLrDecay,
      numFake: o.dreFakes,
      lambdas: o.dreLambdas,
      validation: o.dreValidation,
      earlyStop: o.dreEarlyStop,
    },
    { signal: input.signal, onProgress: input.onProgress },
  );
}

/**
 * A dre-* method's options parted into the network's (`dre*` keys, to `trainDre`) and its base
 * method's (the rest).
 */
export function partDreOptions<O extends object>(options: O): { dre: Partial<DreOptions>; rest: Record<string, unknown> } {
  const dre: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) (k in DRE_SPECS ? dre : rest)[k] = v;
  return { dre: dre as Partial<DreOptions>, rest };
}

/** Train the DRE-F-SP network on the real samples; the runner then reads it as D. */
async function prepareDre(input: PrepareInput, o: DreOptions): Promise<Prepared> {
  const r = await trainDre(input, o);
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
    base: base.id,
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

/**
 * DGflow through a DRE-F-SP network instead of D: how Ansari et al. (2021) refine models whose
 * critic is not a density ratio, and on MNIST a better ratio than the GAN's own D.
 */
export const dreDgflow = withDre(
  'dre-dgflow',
  dgflow,
  'DRE-F-SP density-ratio network trained on real samples, then discriminator gradient flow along it',
  'Ansari et al. 2021 (DGflow) with Choi et al. 2021 (DRE-F-SP)',
);

/**
 * DDLS along a DRE-F-SP network: Langevin on the latent energy 0.5|z|^2 - r(G(z)) with the
 * trained log-ratio r in place of D's logit.
 */
export const dreDdls = withDre(
  'dre-ddls',
  ddls,
  'DRE-F-SP density-ratio network trained on real samples, then latent Langevin sampling (DDLS) along it',
  'Che et al. 2020 (DDLS) with Choi et al. 2021 (DRE-F-SP)',
);

/** DOT in latent space along a DRE-F-SP network: the transport cost traded against the trained log-ratio. */
export const dreDotLatent = withDre(
  'dre-dot-latent',
  dotLatent,
  'DRE-F-SP density-ratio network trained on real samples, then discriminator optimal transport in latent space along it',
  'Tanaka 2019 (DOT) with Choi et al. 2021 (DRE-F-SP)',
);
