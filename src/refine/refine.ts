/**
 * `refine(pair, { method, n, seed, ...methodOptions })`: the one call that refines samples of a
 * generator with any method of the registry. The run is planned once (options resolved and
 * checked, real samples checked, the method's `prepare` stage and an optional calibration of D
 * done), then executed chunk by chunk.
 *
 * Randomness is keyed by sample: every draw of output row i comes from streams Rng(seed, ..., i,
 * ...), and every global quantity of the run (DRS's M and gamma, DOT's K_eff, the DRE-F-SP
 * critic, the calibration) is computed from its own seeded pool before samples are produced. So
 * row i is the same whatever the chunk size, batch size, shard split or resume point (see the
 * README's "Scale-out" section for what was measured).
 */
import { type CalibrationMethod, type CalibrationReport, CALIBRATION_METHODS, fitCalibration } from '../calibration/calibrate.js';
import { checkRealTensor } from '../data/real.js';
import { RefineryError, describe, fail, type Issue } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { type Device, DEVICES } from '../onnx/device.js';
import type { OnnxModel } from '../onnx/graph.js';
import { checkMemory, checkSampleSize } from '../platform/memory.js';
import { mergeSummaries } from '../run/summary.js';
import type { RefineOutput } from '../run/types.js';
import { type RefineFrame, resolveWatch, type WatchOptions } from '../run/watch.js';
import type { Tensor } from '../tensor.js';
import { defaultBatchSize } from './batch.js';
import type { MethodDefinition } from './method.js';
import { type OptionSpec, resolveOptions } from './options.js';
import { type RefineShard, shardRows } from './shard.js';
import { getMethod, type MethodId, type MethodOptionsMap } from './registry.js';

/** Progress of a run: `stage` is a preparation stage ('dre', 'calibrate') or the method id. */
export interface RefineProgress {
  /** 'dre', 'calibrate' or the method id. */
  stage: string;
  /** Work done in this stage: training steps for 'dre', samples for the method (0 or 1 for 'calibrate'). */
  done: number;
  /** Work of the whole stage, in the units of `done` (n for the method). */
  total: number;
}

/** Options every method takes. */
export interface RefineCommonOptions {
  /** Samples to return. */
  n: number;
  /** Random seed (a safe integer). Default 0. */
  seed?: number;
  /**
   * Rows per model call. Default: `defaultBatchSize(pair)`, the rows whose intermediate values of
   * G then D fill about 24 MiB (64 to 10,000; large batches of image models spill out of the
   * caches). The samples do not depend on it.
   */
  batchSize?: number;
  /** Samples per chunk (the unit of progress, of memory and, in refineToFile, of what an interruption can lose). Default 10000. */
  chunkSize?: number;
  /**
   * Produce only shard `index` (0-based) of `count`: rows floor(index n / count) up to
   * floor((index + 1) n / count) of the run, the same rows a whole run produces there. Default: the whole run.
   */
  shard?: RefineShard;
  /** Where the models run: 'cpu' (default) or 'cuda' (onnxruntime's CUDA provider; an error names what is missing when it is not installed). */
  device?: Device;
  /** Held-out real samples [m, ...dataShape]: MH-GAN starts, calibration, DRE-F-SP training. */
  real?: Tensor;
  /**
   * Start latents of the run's rows, [n, latentDim] (row i starts at row i; with `shard`, still
   * the whole run's n rows), instead of draws of the prior: e.g. `encodeLatents` of real data, to
   * refine reconstructions G(E(x)). For the dynamics methods (ddls, dcd, dot, dot-latent, dgflow);
   * selection methods draw their own proposals.
   */
  latents?: Tensor;
  /** Calibrate D into a density ratio on `real` before refining. Default 'none'. */
  calibrate?: CalibrationMethod;
  /**
   * Let DRS, MH and SIR use an uncalibrated critic (d_output 'critic': a WGAN or hinge score) as if
   * it were log p_data / p_g. Without it they refuse a critic unless `calibrate` is set. Default false.
   */
  criticAsRatio?: boolean;
  /** Stops the run after the current step (RefineryError 'cancelled'). */
  signal?: AbortSignal;
  /** Called as work is done (preparation stages, then samples). */
  onProgress?: (p: RefineProgress) => void;
  /**
   * Frames of the first `watch.rows` rows as the method works on them (chains step by step,
   * proposals accepted or rejected), for pictures; the samples returned do not change.
   */
  watch?: WatchOptions;
}

/** A method and some of its options (no run options): what a benchmark row or a saved configuration holds. */
export type MethodSettings = { [K in MethodId]: { method: K } & Partial<MethodOptionsMap[K]> }[MethodId];

/** Options of `refine`: the method id, the common options and that method's own options. */
export type RefineOptions = { [K in MethodId]: { method: K } & RefineCommonOptions & Partial<MethodOptionsMap[K]> }[MethodId];

/** Defaults of the common options. */
export const REFINE_DEFAULTS = { seed: 0, chunkSize: 10000, calibrate: 'none' as CalibrationMethod } as const;

/** Per-run statistics: acceptance, gradient norms, non-finite rows, proposals, and method-specific fields. */
export interface RefineSummary {
  /** The method that produced the samples (DRE-F-SP variants report their base method, e.g. 'drs'). */
  method: string;
  /** Accepted fraction: of proposals (selection), of chain steps (MH), per step (dynamics; 1 when unadjusted). */
  acceptance?: number;
  /** Mean per-row gradient (or drift) norm over the steps (dynamics methods). */
  gradNorm?: number;
  /** Rows whose score or gradient was NaN/Inf (rejections, or chains held in place). */
  nonFinite?: number;
  /** Method-specific fields (proposals, restarts, seconds, ...): counts summed over chunks, rates averaged by rows. */
  [key: string]: unknown;
}

/** What `refine` returns: the samples (and latents), the merged summary, the options used and the reports. */
export interface RefineResult {
  /** The method id. */
  method: MethodId;
  /** The refined samples, [n, ...dataShape] (with `shard`: the shard's rows). */
  samples: Tensor;
  /** With `shard`: the shard and its rows [start, end) of the run. */
  shard?: RefineShard & { start: number; end: number };
  /** Their latents [n, latentDim], for methods that work in latent space or select generator draws. */
  latents?: Tensor;
  /** Per-run statistics, merged over the chunks. */
  summary: RefineSummary;
  /** The method options used (defaults filled in; models shown by name). */
  options: Record<string, unknown>;
  /** Reports of the preparation stages (e.g. `dre`: the DRE-F-SP training) and of the calibration. */
  reports: Record<string, unknown>;
  /** The calibration of D, when `calibrate` was not 'none'. */
  calibration?: CalibrationReport;
  /** Chunks the run was split into: ceil(n / chunkSize). */
  chunks: number;
  /** Wall-clock time of the call, in seconds. */
  seconds: number;
}

const COMMON_KEYS = new Set([
  'method',
  'n',
  'seed',
  'batchSize',
  'chunkSize',
  'shard',
  'device',
  'real',
  'latents',
  'calibrate',
  'criticAsRatio',
  'signal',
  'onProgress',
  'watch',
]);

/** A planned run: everything resolved and prepared; `runChunk` produces chunk c. */
/** What a run is before any preparation (`resolveRefine`): its options checked and resolved, its rows and chunks. */
export interface RefineHead {
  method: MethodDefinition<MethodId, object>;
  /** The pair as given (for provenance). */
  source: ModelPair;
  /** Rows this plan produces (the shard's, or the run's). */
  n: number;
  /** Rows of the whole run. */
  total: number;
  /** The shard, and the run rows [start, end) it produces (start 0, end n without one). */
  shard?: RefineShard;
  first: number;
  seed: number;
  batchSize: number;
  chunkSize: number;
  chunks: number;
  calibrate: CalibrationMethod;
  real?: Float32Array;
  /** Start latents of the run's rows [total, latentDim] (`latents`), when given. */
  latents?: Float32Array;
  /** Method options with defaults filled in. */
  options: Record<string, unknown>;
  /** Values per sample row. */
  rowSize: number;
  /** Rows of chunk c (chunk c starts at run row first + c chunkSize). */
  rows(c: number): number;
  signal?: AbortSignal;
  onProgress?: (p: RefineProgress) => void;
  /** The device the run asks for, when one is given. */
  device?: Device;
  /** The first chunk's live view, when asked. */
  watch?: ReturnType<typeof resolveWatch>;
}

/** A run ready to draw (`planRefine`): the head, and the pair after the method's preparation and the calibration. */
export interface RefinePlan extends RefineHead {
  /** The pair the runner reads (after preparation and calibration). */
  pair: ModelPair;
  reports: Record<string, unknown>;
  calibration?: CalibrationReport;
  runChunk(c: number): Promise<RefineOutput>;
}

function isSafeInt(v: unknown, min: number): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
}

/** Options as JSON: models by name (a graph's name and size), Infinity as "Infinity". */
export function describeOptions(o: Record<string, unknown>, specs: Record<string, OptionSpec>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) continue;
    if (specs[k]?.type.kind === 'model') out[k] = `ONNX model ${(v as OnnxModel).name}`;
    else if (v === Number.POSITIVE_INFINITY) out[k] = 'Infinity';
    else out[k] = v;
  }
  return out;
}

/** Check the common options; every problem is reported at once, each naming its key. */
function checkCommon(options: Record<string, unknown>): Issue[] {
  const issues: Issue[] = [];
  const need = (ok: boolean, path: string, expected: string) => {
    if (!ok) issues.push({ path, expected, received: describe(options[path]) });
  };
  need(isSafeInt(options.n, 1), 'n', 'a positive integer');
  if (options.seed !== undefined) need(isSafeInt(options.seed, Number.MIN_SAFE_INTEGER), 'seed', 'a safe integer (|seed| < 2^53)');
  if (options.batchSize !== undefined) need(isSafeInt(options.batchSize, 1), 'batchSize', 'a positive integer');
  if (options.chunkSize !== undefined) need(isSafeInt(options.chunkSize, 1), 'chunkSize', 'a positive integer');
  if (options.shard !== undefined) {
    const sh = options.shard as RefineShard;
    const n = options.n as number;
    const ok =
      typeof sh === 'object' && sh !== null && isSafeInt(sh.count, 1) && isSafeInt(sh.index, 0) && sh.index < sh.count && (!isSafeInt(n, 1) || sh.count <= n);
    if (!ok)
      issues.push({
        path: 'shard',
        expected: 'a shard { index, count } with 0 <= index < count <= n',
        received: describe(sh === undefined ? sh : JSON.stringify(sh)),
      });
  }
  if (options.device !== undefined) need((DEVICES as readonly unknown[]).includes(options.device), 'device', `one of ${DEVICES.join(', ')}`);
  if (options.calibrate !== undefined)
    need((CALIBRATION_METHODS as readonly unknown[]).includes(options.calibrate), 'calibrate', `one of ${CALIBRATION_METHODS.join(', ')}`);
  if (options.criticAsRatio !== undefined) need(typeof options.criticAsRatio === 'boolean', 'criticAsRatio', 'true or false');
  if (options.signal !== undefined) need(typeof (options.signal as AbortSignal).aborted === 'boolean', 'signal', 'an AbortSignal');
  if (options.onProgress !== undefined) need(typeof options.onProgress === 'function', 'onProgress', 'a function');
  if (options.watch !== undefined) {
    try {
      resolveWatch(options.watch);
    } catch (e) {
      if (!(e instanceof RefineryError)) throw e;
      issues.push(...e.issues);
    }
  }
  return issues;
}

/**
 * Plan a run: resolve and check every option (all problems at once), check the real samples
 * (`resolveRefine`), then run the method's preparation stage and the calibration
 * (`prepareRefine`). Throws before any sample is drawn.
 */
export async function planRefine(pair: ModelPair, options: RefineOptions): Promise<RefinePlan> {
  return prepareRefine(resolveRefine(pair, options));
}

/**
 * Resolve and check every option of a run (all problems at once) and its real samples and
 * latents: what the run is, before its preparation (DRE-F-SP's training, the calibration), so
 * that a finished run can be recognised without preparing it again.
 */
export function resolveRefine(pair: ModelPair, options: RefineOptions): RefineHead {
  if (typeof options !== 'object' || options === null) fail('invalid_argument', 'options', 'an object { method, n, ... }', describe(options));
  const all = options as unknown as Record<string, unknown>;
  const method = getMethod(all.method);
  const given: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(all)) if (!COMMON_KEYS.has(k)) given[k] = v;
  const issues = checkCommon(all);
  let resolved: Record<string, unknown> = {};
  try {
    resolved = resolveOptions(method.options as Record<string, OptionSpec>, method.defaults as Record<string, unknown>, given, `method ${method.id}`);
  } catch (e) {
    if (!(e instanceof RefineryError)) throw e;
    issues.push(...e.issues);
  }
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);

  const total = all.n as number;
  const shard = all.shard as RefineShard | undefined;
  const { start: first, end } = shardRows(total, shard);
  const n = end - first;
  const seed = (all.seed as number | undefined) ?? REFINE_DEFAULTS.seed;
  const batchSize = (all.batchSize as number | undefined) ?? defaultBatchSize(pair);
  const chunkSize = (all.chunkSize as number | undefined) ?? REFINE_DEFAULTS.chunkSize;
  const calibrateWith = (all.calibrate as CalibrationMethod | undefined) ?? REFINE_DEFAULTS.calibrate;
  const signal = all.signal as AbortSignal | undefined;
  const onProgress = all.onProgress as RefinePlan['onProgress'];
  const givenWatch = all.watch === undefined ? undefined : resolveWatch(all.watch);
  const watch = givenWatch && { ...givenWatch, onFrame: (f: RefineFrame) => givenWatch.onFrame({ ...f, method: method.id }) };
  const dataShape = pair.meta.dataShape;
  const rowSize = dataShape.reduce((a, b) => a * b, 1);
  const real = all.real === undefined ? undefined : checkRealTensor(all.real, dataShape);
  const latents = all.latents === undefined ? undefined : checkLatents(all.latents, total, pair.meta.latentDim, method);
  if (method.needsReal && real === undefined) fail('invalid_argument', 'real', `held-out real samples for method ${method.id}`, 'none');
  if (calibrateWith !== 'none' && real === undefined) fail('invalid_argument', 'real', `held-out real samples for calibrate ${calibrateWith}`, 'none');
  // Selection methods weigh samples by exp(logRatio): with a critic that is a score, not a ratio.
  if (pair.meta.dOutput === 'critic' && method.family === 'selection' && !method.prepare && calibrateWith === 'none' && all.criticAsRatio !== true) {
    fail(
      'invalid_argument',
      'calibrate',
      `a calibration of the critic (calibrate 'logistic' or 'isotonic', with held-out real data) for method ${method.id}, or criticAsRatio: true (--critic-as-ratio) to use the raw critic: a WGAN or hinge critic is a score, not log p_data/p_g, and ${method.id} weighs samples by exp(score)`,
      "d_output 'critic' without calibration",
    );
  }
  // One sample, then a chunk's samples, latents and the runner's working copies must fit in memory.
  const chunkRows = Math.min(chunkSize, n);
  checkSampleSize(pair);
  checkMemory(4 * chunkRows * (3 * rowSize + pair.meta.latentDim), chunkSize < n ? 'chunkSize' : 'n', `${chunkRows} samples of ${rowSize} values`);
  method.check?.(resolved as never, { pair, n: total, chunkRows, batchSize, hasReal: real !== undefined });
  const chunks = Math.ceil(n / chunkSize);
  const rows = (c: number) => Math.min(chunkSize, n - c * chunkSize);
  const device = all.device as Device | undefined;
  return {
    method,
    source: pair,
    n,
    total,
    shard,
    first,
    seed,
    batchSize,
    chunkSize,
    chunks,
    calibrate: calibrateWith,
    real,
    latents,
    options: resolved,
    rowSize,
    rows,
    signal,
    onProgress,
    device,
    watch,
  };
}

/** Run a resolved run's preparation (the method's, then the calibration): the plan that draws its chunks. */
export async function prepareRefine(head: RefineHead): Promise<RefinePlan> {
  const {
    method,
    source: pair,
    real,
    seed,
    batchSize,
    signal,
    onProgress,
    device,
    watch,
    calibrate: calibrateWith,
    chunkSize,
    first,
    total,
    latents,
    rows,
  } = head;
  const resolved = head.options;
  let runPair: ModelPair = device === undefined ? pair : { ...pair, device };
  const reports: Record<string, unknown> = {};
  if (method.prepare) {
    const prepared = await method.prepare(
      { pair, real, seed, batchSize, signal, onProgress: (done, total) => onProgress?.({ stage: 'dre', done, total }) },
      resolved,
    );
    runPair = prepared.pair;
    reports[prepared.stage] = prepared.report;
  }
  let calibration: CalibrationReport | undefined;
  if (calibrateWith !== 'none') {
    onProgress?.({ stage: 'calibrate', done: 0, total: 1 });
    const c = await fitCalibration(runPair, real, { method: calibrateWith, seed, batchSize }, { signal });
    runPair = c.pair;
    calibration = c.report;
    onProgress?.({ stage: 'calibrate', done: 1, total: 1 });
  }
  const shared = new Map<string, unknown>();
  const n = head.n;
  return {
    ...head,
    pair: runPair,
    reports,
    calibration,
    runChunk: (c) => {
      const start = c * chunkSize;
      const r = rows(c);
      return method.run(
        {
          pair: runPair,
          n: r,
          start: first + start,
          total,
          seed,
          batchSize,
          real,
          latents,
          shared,
          hooks: {
            signal,
            onProgress: (done, total) => onProgress?.({ stage: method.id, done: start + (done / total) * r, total: n }),
            ...(watch && c === 0 ? { watch } : {}),
          },
        },
        resolved,
      );
    },
  };
}

/** Check `latents`: a finite [n, latentDim] tensor, for a method that starts from latents. */
function checkLatents(given: unknown, n: number, latentDim: number, method: MethodDefinition<MethodId, object>): Float32Array {
  if (method.family !== 'dynamics')
    fail(
      'invalid_argument',
      'latents',
      `a method that moves samples from start latents (ddls, dcd, dot, dot-latent, dgflow); ${method.id} selects among its own proposals`,
      'start latents',
    );
  const t = given as Tensor;
  if (typeof t !== 'object' || t === null || !(t.data instanceof Float32Array) || !Array.isArray(t.shape))
    fail('invalid_argument', 'latents', `latents { data: Float32Array, shape: [${n}, ${latentDim}] }`, describe(given));
  if (t.shape.length !== 2 || t.shape[0] !== n || t.shape[1] !== latentDim || t.data.length !== n * latentDim)
    fail('shape_mismatch', 'latents', `shape [${n}, ${latentDim}] (n rows of the generator's latent size)`, `[${t.shape.join(', ')}]`);
  const bad = t.data.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) fail('invalid_argument', `latents row ${Math.floor(bad / latentDim)}`, 'finite values', String(t.data[bad]));
  return t.data;
}

/** Check one chunk's output: as many rows as asked, each of the sample's size. */
export function checkChunkOutput(plan: RefinePlan, c: number, out: RefineOutput): void {
  const r = plan.rows(c);
  if (out.samples.length !== r * plan.rowSize) fail('internal', `${plan.method.id} chunk ${c}`, `${r * plan.rowSize} values`, String(out.samples.length));
}

/**
 * Refine `n` samples of `pair`'s generator with `options.method`, in memory.
 *
 * ```ts
 * const pair = loadPair({ run: 'runs/grid' });
 * const r = await refine(pair, { method: 'ddls', n: 1000, seed: 0, numSteps: 200 });
 * r.samples; // { data: Float32Array, shape: [1000, 2] }
 * ```
 */
export async function refine(pair: ModelPair, options: RefineOptions): Promise<RefineResult> {
  const t0 = performance.now();
  const plan = await planRefine(pair, options);
  const { n, rowSize } = plan;
  const latentDim = pair.meta.latentDim;
  checkMemory(4 * n * (rowSize + latentDim), 'n', `${n} samples of ${rowSize} values in memory (refineToFile streams them to disk)`);
  const samples = new Float32Array(n * rowSize);
  let latents: Float32Array | undefined = new Float32Array(n * latentDim);
  const parts: { rows: number; summary: Record<string, unknown> }[] = [];
  for (let c = 0; c < plan.chunks; c++) {
    const out = await plan.runChunk(c);
    checkChunkOutput(plan, c, out);
    const start = c * plan.chunkSize;
    samples.set(out.samples, start * rowSize);
    if (out.latents && latents) latents.set(out.latents, start * latentDim);
    else latents = undefined;
    parts.push({ rows: plan.rows(c), summary: { ...out.summary, seconds: out.seconds } });
    plan.onProgress?.({ stage: plan.method.id, done: start + plan.rows(c), total: n });
  }
  return {
    method: plan.method.id,
    samples: { data: samples, shape: [n, ...pair.meta.dataShape] },
    latents: latents ? { data: latents, shape: [n, latentDim] } : undefined,
    shard: plan.shard ? { ...plan.shard, start: plan.first, end: plan.first + n } : undefined,
    summary: mergeSummaries(parts) as RefineSummary,
    options: describeOptions(plan.options, plan.method.options as Record<string, OptionSpec>),
    reports: plan.reports,
    calibration: plan.calibration,
    chunks: plan.chunks,
    seconds: (performance.now() - t0) / 1000,
  };
}
