/**
 * The contract of a refinement method: one module per method declares its id, what it does, its
 * typed options with their defaults and declarations, the checks that span several options, work
 * done once before sampling (`prepare`) and its runner. The public `refine`, the command line,
 * the benchmarks and the playground read the registry of these definitions (registry.ts) instead
 * of repeating them.
 */
import type { ModelPair } from '../models/pair.js';
import type { RefineOutput, RunContext } from '../run/types.js';
import type { OptionSpecs } from './options.js';

/** Selection methods choose among generator proposals; dynamics methods move samples or latents. */
export type MethodFamily = 'selection' | 'dynamics';

/** What a method's `check` sees of the run. */
export interface CheckContext {
  pair: ModelPair;
  /** Rows of the whole run (all shards). */
  n: number;
  /** Rows of the largest chunk. */
  chunkRows: number;
  batchSize: number;
  /** Held-out real samples were given. */
  hasReal: boolean;
}

/** What `prepare` receives: the pair, held-out real samples, the seed and the run's hooks. */
export interface PrepareInput {
  pair: ModelPair;
  real?: Float32Array;
  seed: number;
  batchSize: number;
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
}

/** What `prepare` returns: the pair the runner uses (e.g. with a trained critic as D) and a JSON-able report. */
export interface Prepared {
  pair: ModelPair;
  /** Recorded in the summary under `stage`. */
  report: Record<string, unknown>;
  /** The summary field and progress label of this stage (e.g. 'dre'). */
  stage: string;
}

export interface MethodDefinition<Id extends string = string, O extends object = object> {
  readonly id: Id;
  /** One line: what the method does. */
  readonly summary: string;
  /** The paper it follows. */
  readonly reference: string;
  readonly family: MethodFamily;
  /** Default of every option that has one (options without a default are computed at run time). */
  readonly defaults: Readonly<Partial<O>>;
  /** One declaration per option: flag, type and range, meaning. */
  readonly options: OptionSpecs<O>;
  /** Held-out real samples are required (DRE-F-SP trains on them). */
  readonly needsReal: boolean;
  /** A dre-* variant: the id of the method it runs along its network (`withDre`). */
  readonly base?: string;
  /** Checks across options or against the run, after each option passed its own; errors name option keys. */
  check?(o: O, run: CheckContext): void;
  /** Work done once before any sample is drawn. */
  prepare?(input: PrepareInput, o: O): Promise<Prepared>;
  /** Refine ctx.n samples (one chunk of a run). */
  run(ctx: RunContext, o: O): Promise<RefineOutput>;
}

/** Declare a method with its option type checked against its declarations. */
export function defineMethod<Id extends string, O extends object>(def: MethodDefinition<Id, O>): MethodDefinition<Id, O> {
  return def;
}
