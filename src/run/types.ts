/**
 * What every method runner (the driver-side entry point of one refinement method) receives and
 * returns. The CLI (`refinery refine`), the demo and `bench table1` call runners only through
 * these types.
 */
import type { ModelPair } from '../models/pair.js';
import type { DriverHooks } from './driver.js';

export interface RunContext {
  pair: ModelPair;
  /** Samples to return. */
  n: number;
  seed: number;
  /** Rows per batch (memory bound). Results may depend on it only through the chunking of seeds. */
  batchSize: number;
  /** Held-out real samples [m, ...dataShape] (MH-GAN starts, calibration, DRE-F-SP training). */
  real?: Float32Array;
  hooks?: DriverHooks & {
    /** Coarse progress: units done of total (the CLI shows a bar with ETA). */
    onProgress?: (done: number, total: number) => void;
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

export type MethodRunner<O> = (ctx: RunContext, options: O) => Promise<RefineOutput>;

/**
 * Driver hooks for the chain of one batch of `rows` rows starting at row `start`, when progress is
 * counted in row-steps out of `total`: forwards each step and reports (start + t/numSteps rows) done.
 */
export function batchChainHooks(ctx: RunContext, start: number, rows: number, numSteps: number, total: number): DriverHooks {
  return {
    signal: ctx.hooks?.signal,
    onStep: (t, info) => {
      ctx.hooks?.onStep?.(t, info);
      ctx.hooks?.onProgress?.(start * numSteps + t * rows, total);
    },
  };
}
