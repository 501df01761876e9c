/**
 * Option parsers for the CLI. Numbers are read strictly (decimal digits; no hex, no silent
 * rounding of seeds beyond 2^53); a bad value is a commander InvalidArgumentError, which the
 * entry point reports in Refinery's error format naming the option.
 */
import { InvalidArgumentError } from 'commander';
import { parseIntegerText, parseNumberText } from '../refine/options.js';

function intExpected(min: number): string {
  if (min === 1) return 'a positive integer';
  if (min === 0) return 'a non-negative integer';
  if (min === -Infinity) return 'an integer (|n| < 2^53)';
  return `an integer >= ${min}`;
}

export function intArg(min = -Infinity) {
  return (value: string): number => {
    const n = parseIntegerText(value);
    if (n === undefined || n < min) throw new InvalidArgumentError(`expected ${intExpected(min)}, received ${JSON.stringify(value)}`);
    return n;
  };
}

export function numberArg(check: (n: number) => boolean = Number.isFinite, expected = 'a finite number') {
  return (value: string): number => {
    const n = parseNumberText(value);
    if (n === undefined || !check(n)) throw new InvalidArgumentError(`expected ${expected}, received ${JSON.stringify(value)}`);
    return n;
  };
}

export function choiceArg<T extends string>(choices: readonly T[]) {
  return (value: string): T => {
    if (!(choices as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${choices.join(', ')}, received ${JSON.stringify(value)}`);
    return value as T;
  };
}
