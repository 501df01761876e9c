/** Shared CLI helpers. */
import { loadPair } from '../models/load.js';
import type { DOutput, LatentPrior } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
export function signal(): AbortSignal | undefined {
  return (globalThis as { refinerySignal?: AbortSignal }).refinerySignal;
}

export function printResult(json: boolean, value: unknown, text: string): void {
  process.stdout.write(json ? JSON.stringify(value, null, 2) + '\n' : text + '\n');
}

/** The pair named by a command's --run, --generator, --discriminator, --latent-prior and --d-output. */
export function pairFromFlags(opts: { run?: string; generator?: string; discriminator?: string; latentPrior?: LatentPrior; dOutput?: DOutput }): ModelPair {
  return loadPair({ run: opts.run, generator: opts.generator, discriminator: opts.discriminator, latentPrior: opts.latentPrior, dOutput: opts.dOutput });
}
