/** What the registry says about each method, for programs that list methods and their options (help screens, forms). */
import type { MethodDefinition } from './method.js';
import type { OptionSpec } from './options.js';
import { METHODS, type MethodId, type MethodOptionsMap } from './registry.js';

/** A method's description: id, what it does, its paper, its options with their defaults. */
export interface MethodInfo<Id extends MethodId = MethodId> {
  /** The method id. */
  readonly id: Id;
  /** One line: what the method does. */
  readonly summary: string;
  /** The paper it follows. */
  readonly reference: string;
  /** 'selection': chooses among generator proposals; 'dynamics': moves samples or latents. */
  readonly family: 'selection' | 'dynamics';
  /** Held-out real samples are required. */
  readonly needsReal: boolean;
  /** Every option, by key: its command-line flag, type and range, meaning. */
  readonly options: Readonly<Record<keyof MethodOptionsMap[Id] & string, OptionSpec>>;
  /** The default of every option that has one. */
  readonly defaults: Readonly<Partial<MethodOptionsMap[Id]>>;
}

function info<Id extends MethodId>(def: MethodDefinition<Id, MethodOptionsMap[Id]>): MethodInfo<Id> {
  return Object.freeze({
    id: def.id,
    summary: def.summary,
    reference: def.reference,
    family: def.family,
    needsReal: def.needsReal,
    options: Object.freeze({ ...def.options }) as MethodInfo<Id>['options'],
    defaults: Object.freeze({ ...def.defaults }),
  });
}

/** Every method's description, by id. */
export const METHOD_INFO: { readonly [K in MethodId]: MethodInfo<K> } = Object.freeze(
  Object.fromEntries(Object.entries(METHODS).map(([id, def]) => [id, info(def as never)])) as { [K in MethodId]: MethodInfo<K> },
);

/** The defaults of every method's options, by id. */
export const METHOD_DEFAULTS: { readonly [K in MethodId]: Readonly<Partial<MethodOptionsMap[K]>> } = Object.freeze(
  Object.fromEntries(Object.entries(METHOD_INFO).map(([id, i]) => [id, i.defaults])) as { [K in MethodId]: Readonly<Partial<MethodOptionsMap[K]>> },
);
