/** Option parsers for the CLI: each names the option, what it expected and what it received. */
import { InvalidArgumentError } from 'commander';

export function intArg(min = -Infinity) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(
        `expected ${min === 1 ? 'a positive integer' : min === 0 ? 'a non-negative integer' : min === -Infinity ? 'an integer' : `an integer >= ${min}`}, received ${JSON.stringify(value)}`,
      );
    }
    return n;
  };
}

export function numberArg(check: (n: number) => boolean = Number.isFinite, expected = 'a finite number') {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || !check(n)) throw new InvalidArgumentError(`expected ${expected}, received ${JSON.stringify(value)}`);
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
