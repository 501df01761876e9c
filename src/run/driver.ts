/**
 * The driver: the only code that loops over steps. It runs a kernel for numSteps, keeps the
 * per-step info records (or their running summary), reports progress and honours cancellation.
 */
import { RefineryError } from '../errors.js';
import type { RowStreams } from '../rng.js';
import type { Kernel, StepInfo } from './kernel.js';

export interface DriverHooks {
  /** Called after every step with the step index (1-based), its info and the new state; the driver waits for a returned promise. */
  onStep?: (step: number, info: StepInfo, state: unknown) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface InfoSummary {
  steps: number;
  /** Mean over steps of each info field. */
  mean: Record<string, number>;
  /** The last step's info. */
  last: StepInfo | undefined;
  /** Total non-finite rows over all steps. */
  nonFinite: number;
}

export function summarize(infos: StepInfo[]): InfoSummary {
  const mean: Record<string, number> = {};
  for (const info of infos) for (const [k, v] of Object.entries(info)) mean[k] = (mean[k] ?? 0) + v / infos.length;
  return { steps: infos.length, mean, last: infos[infos.length - 1], nonFinite: infos.reduce((a, i) => a + i.nonFinite, 0) };
}

/**
 * Run `kernel` from `state` for `numSteps`. At step t, row r draws from rows.row(r) with t appended
 * (Rng(...words, absolute index of row r, ..., t)), so a chain is reproducible from its seed words
 * and its rows' indices alone, whatever ran before it or beside it in the batch.
 */
export async function runChain<S>(
  kernel: Kernel<S>,
  state: S,
  numSteps: number,
  rows: RowStreams,
  hooks: DriverHooks = {},
): Promise<{ state: S; infos: StepInfo[] }> {
  const infos: StepInfo[] = [];
  let s = state;
  for (let t = 0; t < numSteps; t++) {
    if (hooks.signal?.aborted) throw new RefineryError('cancelled', [{ path: kernel.name, expected: `${numSteps} steps`, received: `a stop after ${t}` }]);
    const { state: next, info } = await kernel.step(s, rows.with(t));
    s = next;
    infos.push(info);
    await hooks.onStep?.(t + 1, info, s);
  }
  return { state: s, infos };
}
