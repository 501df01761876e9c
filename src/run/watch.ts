/**
 * Watching a run as it goes: frames of the first rows of the run's first batch, for pictures
 * (the playground animates chains and shows accepted and rejected proposals). Frames are copies
 * taken between steps; they never change what the run draws or returns.
 */
import { fail } from '../errors.js';
import type { DriverHooks } from './driver.js';
import type { Tensor } from '../tensor.js';
import type { StepInfo } from './kernel.js';

/** One picture of a run. */
export interface RefineFrame {
  /** The method id. */
  method: string;
  /**
   * 'chain': the watched chains' current samples after `step` of `numSteps` steps (step 0 is the
   * start); 'proposals': a round of proposals and which were accepted (DRS: one proposal per
   * waiting row; SIR: a group's pool, `accepted` marking the members resampled at least once).
   */
  kind: 'chain' | 'proposals';
  step: number;
  /** Steps of the chain (0 when the number of rounds is not known in advance, as in DRS). */
  numSteps: number;
  /** Rows in `samples`. */
  rows: number;
  /** [rows, ...dataShape] row-major, in data space (latent methods pass their latents through G). */
  samples: Float32Array;
  /** Index in the run of each row of `samples` (output row for chains and DRS, pool member for SIR). */
  index: Int32Array;
  /** Per row, 1 when accepted: MH: the chain moved at this step; DRS: accepted; SIR: resampled. Absent for chains that always move. */
  accepted?: Uint8Array;
  /** The step's info record over the whole batch (acceptance, gradNorm, energy, ...). */
  info?: StepInfo;
}

/** What `refine` takes as `watch`. */
export interface WatchOptions {
  /** Rows watched: the first `rows` rows of the run (at most one batch). Default 200. */
  rows?: number;
  /** A chain frame every `every` steps (the first and the last step always). Default 1. */
  every?: number;
  /** Receives each frame; the run waits for a returned promise (a page can draw between steps). */
  onFrame: (frame: RefineFrame) => void | Promise<void>;
}

export const WATCH_DEFAULTS = { rows: 200, every: 1 } as const;

/** A checked watch with its defaults. */
export interface Watch {
  rows: number;
  every: number;
  onFrame: (frame: RefineFrame) => void | Promise<void>;
}

export function resolveWatch(w: unknown): Watch {
  const o = w as Partial<WatchOptions> | null;
  if (typeof o !== 'object' || o === null || typeof o.onFrame !== 'function')
    fail('invalid_argument', 'watch', 'an object { onFrame, rows?, every? }', String(w));
  const rows = o.rows ?? WATCH_DEFAULTS.rows;
  const every = o.every ?? WATCH_DEFAULTS.every;
  if (!Number.isSafeInteger(rows) || rows < 1) fail('invalid_argument', 'watch.rows', 'a positive integer', String(rows));
  if (!Number.isSafeInteger(every) || every < 1) fail('invalid_argument', 'watch.every', 'a positive integer', String(every));
  return { rows, every, onFrame: o.onFrame };
}

/** The watched part of a chain state: its first k rows in data space, and (MH) which moved. */
export type WatchView<S> = (state: S, k: number) => Promise<{ samples: Float32Array; accepted?: Uint8Array }>;

export interface ChainWatch<S> {
  /** The frame of the starting state (step 0). */
  start(state: S): Promise<void>;
  /** `base` with an onStep that also sends the frames. */
  hooks(base: DriverHooks): DriverHooks;
}

/** Watching nothing: no start frame, the hooks unchanged. */
const UNWATCHED: ChainWatch<unknown> = { start: async () => {}, hooks: (base) => base };

/**
 * Frames of a chain over the batch at `local` (rows from the start of the call) of `rows` rows;
 * a no-op unless `watch` is set and the batch is the call's first (local 0).
 */
export function chainWatch<S>(watch: Watch | undefined, method: string, local: number, rows: number, numSteps: number, view: WatchView<S>): ChainWatch<S> {
  if (!watch || local !== 0) return UNWATCHED;
  const k = Math.min(watch.rows, rows);
  const index = Int32Array.from({ length: k }, (_, i) => i);
  const send = async (step: number, state: S, info?: StepInfo) => {
    const v = await view(state, k);
    await watch.onFrame({
      method,
      kind: 'chain',
      step,
      numSteps,
      rows: k,
      samples: v.samples,
      index,
      ...(v.accepted ? { accepted: v.accepted } : {}),
      ...(info ? { info } : {}),
    });
  };
  return {
    start: (state) => send(0, state),
    hooks: (base) => ({
      ...base,
      onStep: async (t, info, state) => {
        await base.onStep?.(t, info, state);
        if (t % watch.every === 0 || t === numSteps) await send(t, state as S, info);
      },
    }),
  };
}

/** The first k rows (of `size` values each) of `a`, copied. */
export function headRows(a: Float32Array, k: number, size: number): Float32Array {
  return a.slice(0, k * size);
}

/** The view of a chain of data-space positions (rows of `size` values): its first k rows. */
export function positionView(size: number): WatchView<{ position: Float32Array }> {
  return async (s, k) => ({ samples: headRows(s.position, k, size) });
}

/** The view of a chain of latents (rows of d values): its first k latents through the generator. */
export function latentView(gen: { generate(z: Tensor): Promise<Tensor> }, d: number): WatchView<{ position: Float32Array }> {
  return async (s, k) => ({ samples: Float32Array.from((await gen.generate({ data: headRows(s.position, k, d), shape: [k, d] })).data) });
}
