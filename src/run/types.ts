/**
 * What every method runner (the driver-side entry point of one refinement method) receives and
 * returns. The CLI (`refinery refine`), the demo and `bench table1` call runners only through
 * these types.
 */
import type { ModelPair } from '../models/pair.js';
import type { DriverHooks } from './driver.js';
import type { Watch } from './watch.js';

export interface RunContext {
  pair: ModelPair;
  /** Samples to return: rows start .. start + n - 1 of the run. */
  n: number;
  /** The absolute index of the first row (0 unless a chunk or a shard of a larger run). */
  start?: number;
  /** Rows of the whole run (default start + n): where the last group of a grouped method (SIR) ends. */
  total?: number;
  /** The run's seed: row i's randomness is keyed by (seed, i) alone. */
  seed: number;
  /**
   * Rows per model call (memory bound). Batches are cut at multiples of batchSize counted from row
   * 0 of the run, so chunks and shards that start on such a multiple see the same batches.
   */
  batchSize: number;
  /** Held-out real samples [m, ...dataShape] (MH-GAN starts, calibration, DRE-F-SP training). */
  real?: Float32Array;
  /**
   * Start latents of the whole run's rows, [total, latentDim] row-major (row i of the run starts
   * there), instead of draws of the prior: e.g. an encoder's codes of real data, so that a
   * dynamics method refines reconstructions. Selection methods draw their own proposals.
   */
  latents?: Float32Array;
  /**
   * The run's global quantities (DRS's M and gamma, DOT's K_eff), each computed once from its own
   * seeded pool and kept here across the run's chunks (see `once`). Without it they are recomputed
   * per call, to the same values.
   */
  shared?: Map<string, unknown>;
  hooks?: DriverHooks & {
    /** Coarse progress: units done of total (the CLI shows a bar with ETA). */
    onProgress?: (done: number, total: number) => void;
    /** Frames of the first rows of this call's first batch (refine passes it to the run's first chunk only). */
    watch?: Watch;
  };
}

export interface RefineOutput {
  /** [n, ...dataShape] row-major. */
  samples: Float32Array;
  /** Latents of the returned samples when the method works in latent space. */
  latents?: Float32Array;
  /**
   * JSON-able summary: acceptance, mean gradient norm, non-finite count, proposals drawn, and
   * method-specific fields. Always includes `method`.
   */
  summary: { method: string; [key: string]: unknown };
  seconds: number;
}

/** `compute()` once per run: the value kept in ctx.shared under `key`, else computed (and kept). */
export async function once<T>(ctx: RunContext, key: string, compute: () => Promise<T>): Promise<T> {
  if (ctx.shared?.has(key)) return ctx.shared.get(key) as T;
  const value = await compute();
  ctx.shared?.set(key, value);
  return value;
}

export type MethodRunner<O> = (ctx: RunContext, options: O) => Promise<RefineOutput>;

/**
 * Driver hooks for the chain of one batch of `rows` rows starting at row `start`, when progress is
 * counted in row-steps out of `total`: forwards each step and reports (start + t/numSteps rows) done.
 */
export function batchChainHooks(ctx: RunContext, start: number, rows: number, numSteps: number, total: number): DriverHooks {
  return {
    signal: ctx.hooks?.signal,
    onStep: async (t, info, state) => {
      await ctx.hooks?.onStep?.(t, info, state);
      ctx.hooks?.onProgress?.(start * numSteps + t * rows, total);
    },
  };
}
