/**
 * Every refinement method, by id. The public `refine`, the command line, the benchmarks and the
 * playground read this registry; a method is added by defining it (methods/) and listing it here.
 */
import { fail } from '../errors.js';
import type { MethodDefinition } from './method.js';
import {
  type DcdOptions,
  type DdlsOptions,
  type DgflowOptions,
  type DotLatentOptions,
  type DotOptions,
  dcd,
  ddls,
  dgflow,
  dot,
  dotLatent,
} from './methods/dynamics.js';
import { type DreOptions, dreDdls, dreDgflow, dreDotLatent, dreMh, dreRs, dreSir } from './methods/dre.js';
import { type DrsOptions, type MhOptions, type SirOptions, drs, mh, sir } from './methods/selection.js';

/** The options of each method, by id. */
export interface MethodOptionsMap {
  /** Discriminator rejection sampling. */
  drs: DrsOptions;
  /** Metropolis-Hastings GAN (independence sampler). */
  mh: MhOptions;
  /** Sampling-importance-resampling. */
  sir: SirOptions;
  /** DRS with a DRE-F-SP density-ratio network trained on `real`. */
  'dre-rs': DrsOptions & DreOptions;
  /** MH-GAN with a DRE-F-SP density-ratio network trained on `real`. */
  'dre-mh': MhOptions & DreOptions;
  /** SIR with a DRE-F-SP density-ratio network trained on `real`. */
  'dre-sir': SirOptions & DreOptions;
  /** Discriminator-driven Langevin sampling in latent space. */
  ddls: DdlsOptions;
  /** DDLS along a DRE-F-SP density-ratio network trained on `real`. */
  'dre-ddls': DdlsOptions & DreOptions;
  /** Discriminator contrastive divergence: Langevin in sample space. */
  dcd: DcdOptions;
  /** Discriminator optimal transport in sample space. */
  dot: DotOptions;
  /** Discriminator optimal transport in latent space. */
  'dot-latent': DotLatentOptions;
  /** DOT in latent space along a DRE-F-SP density-ratio network trained on `real`. */
  'dre-dot-latent': DotLatentOptions & DreOptions;
  /** Discriminator gradient flow. */
  dgflow: DgflowOptions;
  /** DGflow along a DRE-F-SP density-ratio network trained on `real`. */
  'dre-dgflow': DgflowOptions & DreOptions;
}

/** A method id. */
export type MethodId = keyof MethodOptionsMap;

/** The definitions of all methods, in the order the documentation lists them. */
export const METHODS: { readonly [K in MethodId]: MethodDefinition<K, MethodOptionsMap[K]> } = {
  drs,
  mh,
  sir,
  'dre-rs': dreRs,
  'dre-mh': dreMh,
  'dre-sir': dreSir,
  ddls,
  'dre-ddls': dreDdls,
  dcd,
  dot,
  'dot-latent': dotLatent,
  'dre-dot-latent': dreDotLatent,
  dgflow,
  'dre-dgflow': dreDgflow,
};

/** All method ids. */
export const METHOD_IDS = Object.keys(METHODS) as MethodId[];

/** The definition of method `id`; an error naming `path` when there is no such method. */
export function getMethod(id: unknown, path = 'method'): MethodDefinition<MethodId, object> {
  if (typeof id !== 'string' || !(id in METHODS))
    fail('invalid_argument', path, `one of ${METHOD_IDS.join(', ')}`, typeof id === 'string' ? JSON.stringify(id) : String(id));
  return METHODS[id as MethodId] as unknown as MethodDefinition<MethodId, object>;
}
