/**
 * Declared options: each option of a refinement method says its key, its command-line flag, its
 * type and range, and what it means. From these declarations the library validates the options
 * it is given (errors name the key) and the command line builds and parses its flags (errors
 * name the flag). Defaults live beside the declarations, in each method's definition.
 */
import { type Issue, RefineryError, describe } from '../errors.js';
import { Graph } from '../onnx/graph.js';
import { ForwardOnlyModel } from '../onnx/model.js';

/** What values an option takes. */
export type OptionType =
  /** A safe integer in [min, max]. */
  | { kind: 'integer'; min?: number; max?: number }
  /** A finite number in [min, max] (open at an end marked exclusive); `none`: the word "none" means Infinity. */
  | { kind: 'number'; min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean; none?: boolean }
  /** true or false. */
  | { kind: 'boolean' }
  /** One of `choices`. */
  | { kind: 'choice'; choices: readonly string[] }
  /** A value range [lo, hi] with lo < hi, or 'none'. */
  | { kind: 'range' }
  /** An ONNX model (a loaded graph; a file path on the command line). */
  | { kind: 'model' }
  /** A non-empty list of finite numbers >= min (comma-separated on the command line). */
  | { kind: 'numbers'; min?: number };

/** The declaration of one method option: its flag, type and range, and meaning. */
export interface OptionSpec {
  /** Command-line flag, e.g. '--step-size'; the key is its camelCase ('stepSize'). */
  flag: string;
  /** The values it takes (checked before a run). */
  type: OptionType;
  /** What the option does, for the API reference and `--help`. */
  description: string;
}

/** One declaration per option of `O`. */
export type OptionSpecs<O> = { [K in keyof O]-?: OptionSpec };

/** The camelCase key of a flag: '--step-size' -> 'stepSize'. */
export function keyOfFlag(flag: string): string {
  return flag.replace(/^--/, '').replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** What an option type expects, in words (for error messages and help). */
export function expectedText(t: OptionType): string {
  switch (t.kind) {
    case 'integer':
      if (t.min === 1 && t.max === undefined) return 'a positive integer';
      if (t.min === 0 && t.max === undefined) return 'a non-negative integer';
      if (t.min !== undefined && t.max !== undefined) return `an integer in [${t.min}, ${t.max}]`;
      if (t.min !== undefined) return `an integer >= ${t.min}`;
      return 'an integer';
    case 'number': {
      let s: string;
      if (t.min === 0 && t.minExclusive && t.max === undefined) s = 'a positive number';
      else if (t.min === 0 && !t.minExclusive && t.max === undefined) s = 'a non-negative number';
      else if (t.min !== undefined && t.max !== undefined) s = `a number in ${t.minExclusive ? '(' : '['}${t.min}, ${t.max}${t.maxExclusive ? ')' : ']'}`;
      else if (t.min !== undefined) s = `a number ${t.minExclusive ? '>' : '>='} ${t.min}`;
      else if (t.max !== undefined) s = `a number ${t.maxExclusive ? '<' : '<='} ${t.max}`;
      else s = 'a finite number';
      return t.none ? `${s}, or "none"` : s;
    }
    case 'boolean':
      return 'true or false';
    case 'choice':
      return `one of ${t.choices.join(', ')}`;
    case 'range':
      return '[lo, hi] with finite lo < hi, or "none"';
    case 'model':
      return 'an ONNX model';
    case 'numbers':
      return t.min === 0
        ? 'a non-empty list of non-negative numbers'
        : t.min !== undefined
          ? `a non-empty list of numbers >= ${t.min}`
          : 'a non-empty list of finite numbers';
  }
}

function inRange(v: number, t: { min?: number; max?: number; minExclusive?: boolean; maxExclusive?: boolean }): boolean {
  if (t.min !== undefined && (t.minExclusive ? !(v > t.min) : !(v >= t.min))) return false;
  if (t.max !== undefined && (t.maxExclusive ? !(v < t.max) : !(v <= t.max))) return false;
  return true;
}

function isGraph(v: unknown): boolean {
  return v instanceof Graph || v instanceof ForwardOnlyModel;
}

/** The issue with `value` for option type `t`, or undefined when it is valid. */
export function checkValue(t: OptionType, value: unknown, path: string): Issue | undefined {
  const bad = (): Issue => ({ path, expected: expectedText(t), received: describe(value) });
  switch (t.kind) {
    case 'integer':
      return typeof value === 'number' && Number.isSafeInteger(value) && inRange(value, t) ? undefined : bad();
    case 'number':
      if (t.none && value === Number.POSITIVE_INFINITY) return undefined;
      return typeof value === 'number' && Number.isFinite(value) && inRange(value, t) ? undefined : bad();
    case 'boolean':
      return typeof value === 'boolean' ? undefined : bad();
    case 'choice':
      return typeof value === 'string' && t.choices.includes(value) ? undefined : bad();
    case 'range': {
      if (value === 'none') return undefined;
      const ok = Array.isArray(value) && value.length === 2 && value.every((x) => typeof x === 'number' && Number.isFinite(x)) && value[0] < value[1];
      return ok ? undefined : bad();
    }
    case 'model':
      return isGraph(value) ? undefined : { path, expected: 'an ONNX model (loadModel(path) or parseModel(bytes))', received: describe(value) };
    case 'numbers': {
      const ok =
        Array.isArray(value) && value.length > 0 && value.every((x) => typeof x === 'number' && Number.isFinite(x) && (t.min === undefined || x >= t.min));
      return ok ? undefined : bad();
    }
  }
}

/**
 * Fill `defaults` with the options given (undefined entries leave the default), checking that every
 * given key is declared in `specs` and that every given value has its declared type and range.
 * All problems are reported at once, each naming its key (prefixed by `prefix`).
 */
export function resolveOptions<O extends object>(specs: OptionSpecs<O>, defaults: Partial<O>, given: Record<string, unknown>, context: string, prefix = ''): O {
  const issues: Issue[] = [];
  const out: Record<string, unknown> = { ...defaults };
  const known = Object.keys(specs);
  for (const [key, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const spec = (specs as Record<string, OptionSpec>)[key];
    if (spec === undefined) {
      issues.push({ path: prefix + key, expected: `an option of ${context} (${known.join(', ') || 'none'})`, received: `${key}: ${describe(value)}` });
      continue;
    }
    const issue = checkValue(spec.type, value, prefix + key);
    if (issue) issues.push(issue);
    else out[key] = value;
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  return out as O;
}

// ---------------------------------------------------------------------------------------------
// Command-line values: strict parsing of the text the user typed.

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A strict decimal integer (no hex, exponents or fractions) that is a safe integer. */
export function parseIntegerText(text: string): number | undefined {
  const s = text.trim();
  if (!INTEGER.test(s)) return undefined;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A strict decimal number (digits, optional fraction and exponent), finite. */
export function parseNumberText(text: string): number | undefined {
  const s = text.trim();
  if (!DECIMAL.test(s)) return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/**
 * Parse command-line text for an option of type `t` (not 'model' or 'boolean'). Type and range are
 * both checked; the error names `flag` and quotes the text received.
 */
export function parseOptionText(t: OptionType, text: string, flag: string): unknown {
  const bad = (): never => {
    throw new RefineryError('invalid_argument', [{ path: flag, expected: expectedText(t), received: JSON.stringify(text) }]);
  };
  let value: unknown;
  switch (t.kind) {
    case 'integer':
      value = parseIntegerText(text);
      break;
    case 'number':
      value = t.none && text.trim() === 'none' ? Number.POSITIVE_INFINITY : parseNumberText(text);
      break;
    case 'choice':
      value = text;
      break;
    case 'range': {
      if (text.trim() === 'none') return 'none';
      const parts = text.split(',').map((p) => parseNumberText(p));
      value = parts.length === 2 && parts.every((p) => p !== undefined) ? parts : undefined;
      break;
    }
    case 'numbers': {
      const parts = text.split(',').map((p) => parseNumberText(p));
      value = parts.every((p) => p !== undefined) ? parts : undefined;
      break;
    }
    default:
      return bad();
  }
  if (value === undefined || checkValue(t, value, flag) !== undefined) bad();
  return value;
}
