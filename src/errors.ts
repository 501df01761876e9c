/**
 * The one error class of Refinery. Every failure caused by input carries a machine-readable `code`
 * and a list of issues, each naming where the problem is (`path`), what was expected and what was
 * received, in the manner of zod.
 */
export interface Issue {
  /** Where the problem is: an option name (`--n`), a file path, a tensor name, a graph node. */
  path: string;
  /** What was expected there, in words. */
  expected: string;
  /** What was found instead, in words (a short description of the value). */
  received: string;
}

/** Kind of failure: bad input (argument, file, model, shapes), an ONNX operator or operator form Refinery does not support, cancellation, or an internal error. */
export type ErrorCode = 'invalid_argument' | 'invalid_file' | 'unsupported_operator' | 'shape_mismatch' | 'invalid_model' | 'cancelled' | 'internal';

/** The error Refinery throws: a machine-readable `code` and one or more `issues`; by default the message lists the issues. */
export class RefineryError extends Error {
  /** Kind of failure. */
  readonly code: ErrorCode;
  /** Each problem found: where, what was expected, what was received. */
  readonly issues: Issue[];

  constructor(code: ErrorCode, issues: Issue[], message?: string) {
    super(message ?? RefineryError.format(issues));
    this.name = 'RefineryError';
    this.code = code;
    this.issues = issues;
  }

  /** The issues as one line: `path: expected …, received …`, joined by '; ' (the default message). */
  static format(issues: Issue[]): string {
    return issues.map((i) => `${i.path}: expected ${i.expected}, received ${i.received}`).join('; ');
  }

  /** True for errors caused by the user's input (CLI exit code 2). */
  get isUserError(): boolean {
    return this.code !== 'internal' && this.code !== 'cancelled';
  }
}

/** Shorthand for a single-issue error. */
export function fail(code: ErrorCode, path: string, expected: string, received: string): never {
  throw new RefineryError(code, [{ path, expected, received }]);
}

/** Short printable description of any value, for `received`. */
export function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (ArrayBuffer.isView(value)) return `${value.constructor.name} of length ${(value as unknown as { length: number }).length}`;
  return typeof value;
}
