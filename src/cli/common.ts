/** Shared CLI helpers. */
export function signal(): AbortSignal | undefined {
  return (globalThis as { refinerySignal?: AbortSignal }).refinerySignal;
}

export function printResult(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text + '\n');
}
