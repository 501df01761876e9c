/**
 * Calibrating a discriminator into a density ratio before any refinement method reads it.
 *
 * Given a pair (G, D), m held-out real samples and a seed, `calibrate` draws fresh generator
 * samples, scores everything with the raw log ratio s(x) (D's logit; logit(p) for probability
 * outputs; the critic value for WGAN/hinge critics), splits reals and fakes into fit and test
 * parts, fits the chosen map c on the fit part (labels real = 1 / fake = 0, class-balanced), and
 * returns the calibrated log ratio logRatio(x) = c(s(x)):
 *
 *   logistic  c(s) = a s + b                  (Platt scaling; logistic.ts)
 *   isotonic  c(s) = interpolated logit of PAV (isotonic.ts)
 *   none      c(s) = s                        (diagnostic only)
 *
 * together with Dawid's / Spiegelhalter's Z on the test part before (c = identity) and after
 * calibration (diagnostic.ts). The calibrated D is also returned as an ONNX graph x -> logit
 * [batch, 1] (D inlined, then c), so every method uses it through a ModelPair whose
 * discriminator is replaced (meta.dOutput becomes 'logit').
 *
 * Random streams (all from `seed`): latents of fake chunk c from Rng(seed, CALIBRATION_STREAM, 0, c);
 * the real fit/test split from Rng(seed, CALIBRATION_STREAM, 1). Fakes are fresh i.i.d. draws, so
 * their first ceil((1 - testFraction) n) rows are the fit part.
 */
import { fail, RefineryError } from '../errors.js';
import type { DOutput } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import { Graph } from '../onnx/graph.js';
import { Rng } from '../rng.js';
import { keyedLatents } from '../run/latent.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import { appendLogRatio } from '../targets/logratio.js';
import type { Tensor } from '../tensor.js';
import { checkRealTensor, checkRows } from '../data/real.js';
import { type CalibrationDiagnostic, diagnoseLogRatios } from './diagnostic.js';
import { fitIsotonic, interpolate } from './isotonic.js';
import { fitLogistic } from './logistic.js';
import { discriminatorGraph } from '../models/pair.js';

/** Maps from D's raw score to a log density ratio: 'none' (identity; diagnostics only), 'logistic' (Platt scaling), 'isotonic'. */
export const CALIBRATION_METHODS = ['none', 'logistic', 'isotonic'] as const;
/** A calibration method. */
export type CalibrationMethod = (typeof CALIBRATION_METHODS)[number];

/** Stream label of calibration draws (Rng(seed, CALIBRATION_STREAM, ...)). */
export const CALIBRATION_STREAM = 0xca1b;

/** A fitted map from raw score s to calibrated log ratio. */
export type Calibrator = { kind: 'identity' } | { kind: 'logistic'; a: number; b: number } | { kind: 'isotonic'; knots: number[]; logRatios: number[] };

/** Evaluate a calibrator on one raw score, in float64. */
export function applyCalibrator(c: Calibrator, s: number): number {
  if (c.kind === 'identity') return s;
  if (c.kind === 'logistic') return c.a * s + c.b;
  return interpolate(c.knots, c.logRatios, s);
}

/**
 * The calibrated discriminator as a graph: input x (D's input name and shape), output `logit`
 * [batch, 1] = c(s(x)). Isotonic maps use the clip form, exact in float32 without cancellation:
 *
 *   c(s) = v_0 + sum_{k<K-1} (v_{k+1} - v_k) clip((s - t_k) / (t_{k+1} - t_k), 0, 1),
 *
 * with knots t_k rounded to float32 (knots that coincide after rounding keep the first value).
 */
export function calibratedDiscriminator(discriminator: Graph, dOutput: DOutput, c: Calibrator): Graph {
  const g = new Graph();
  g.name = `calibrated_${c.kind}`;
  const inp = discriminator.inputs[0];
  if (discriminator.inputs.length !== 1 || inp === undefined) fail('invalid_model', 'discriminator', 'one input x', `${discriminator.inputs.length} inputs`);
  const x = g.addInput(inp.name, 'float32', [...inp.shape]);
  const s = g.op('Unsqueeze', [appendLogRatio(g, discriminator, x, dOutput), g.int64s([1])]);
  let out: string;
  if (c.kind === 'identity') {
    out = s;
  } else if (c.kind === 'logistic') {
    if (!Number.isFinite(c.a) || !Number.isFinite(c.b)) fail('internal', 'calibration', 'finite a and b', `a = ${c.a}, b = ${c.b}`);
    out = g.op('Add', [g.op('Mul', [s, g.scalar(c.a)]), g.scalar(c.b)]);
  } else {
    const t: number[] = [];
    const v: number[] = [];
    c.knots.forEach((k, i) => {
      const k32 = Math.fround(k);
      if (t.length > 0 && k32 <= t[t.length - 1]) return;
      t.push(k32);
      v.push(c.logRatios[i]);
    });
    if (t.length === 0) fail('internal', 'calibration', 'at least one knot', '0');
    if (t.length === 1) {
      // Constant map; Mul by 0 keeps the batch shape and propagates NaN scores.
      out = g.op('Add', [g.op('Mul', [s, g.scalar(0)]), g.scalar(v[0])]);
    } else {
      const K = t.length - 1;
      const lo = g.float32(Float32Array.from(t.slice(0, K)), [1, K]);
      const width = g.float32(
        Float32Array.from({ length: K }, (_, k) => t[k + 1] - t[k]),
        [1, K],
      );
      const dv = g.float32(
        Float32Array.from({ length: K }, (_, k) => v[k + 1] - v[k]),
        [K, 1],
      );
      const u = g.op('Clip', [g.op('Div', [g.op('Sub', [s, lo]), width]), g.scalar(0), g.scalar(1)]);
      // + s * 0: zero for a finite score, NaN for +-Inf and NaN, so that non-finite scores stay
      // non-finite (Clip would map +Inf to the top knot's value) and methods count them as such.
      out = g.op('Add', [g.op('Add', [g.op('MatMul', [u, dv]), g.scalar(v[0])]), g.op('Mul', [s, g.scalar(0)])]);
    }
  }
  g.add('Identity', [out], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}

/** Options of `calibrate`. */
export interface CalibrateOptions {
  /** The map to fit. Default 'logistic'. */
  method: CalibrationMethod;
  /** Seed of the fresh generator draws and of the real fit/test split (`calibrate`: default 0). */
  seed: number;
  /** Fresh generator samples to draw; default (0): as many as real samples. */
  numFake: number;
  /** Fraction of reals and of fakes held out for the Z diagnostic, in (0, 1); default 0.5. */
  testFraction: number;
  /** Rows per ONNX batch when generating and scoring. Default 512. */
  batchSize: number;
}

export const CALIBRATE_DEFAULTS: Omit<CalibrateOptions, 'seed'> = { method: 'logistic', numFake: 0, testFraction: 0.5, batchSize: 512 };

/** What a calibration did: the fit, the held-out split and the Z diagnostics before and after. */
export interface CalibrationReport {
  /** The map fitted. */
  method: CalibrationMethod;
  /** What the raw score was (D's output kind). */
  rawOutput: DOutput;
  /** The seed used. */
  seed: number;
  /** Real samples used (fit and test parts). */
  nReal: number;
  /** Fresh generator samples drawn (fit and test parts). */
  nFake: number;
  /** Reals and fakes in the fit part, and fit scores left out as non-finite. */
  fit: { real: number; fake: number; dropped: number };
  /** Reals and fakes in the test part (the Z diagnostics). */
  test: { real: number; fake: number };
  /** Fitted parameters: logistic {a, b, seA, seB, iterations, converged}; isotonic {blocks, pClip}. */
  params: Record<string, number | boolean>;
  /**
   * Diagnostics on the test part: raw score as log ratio, and calibrated. Even for a correct
   * model family, Z after calibration has variance ~ 1 + nTest/nFit (the fitted map's own
   * estimation error), i.e. ~2 with the default even split.
   */
  before: CalibrationDiagnostic;
  /** Diagnostic of the calibrated log ratio on the test part. */
  after: CalibrationDiagnostic;
  /** Wall-clock time of the calibration, in seconds. */
  seconds: number;
}

export interface Calibration {
  method: CalibrationMethod;
  calibrator: Calibrator;
  /** Calibrated log ratio of one raw score (float64). */
  map(s: number): number;
  /** The calibrated discriminator graph (x -> logit [batch, 1]). */
  discriminator: Graph;
  /** The input pair with the discriminator replaced by the calibrated one (dOutput 'logit'). */
  pair: ModelPair;
  /** Calibrated logRatio [batch] of x [batch, ...dataShape], computed by the calibrated graph (a session per call). */
  score(x: Tensor): Promise<Float32Array>;
  report: CalibrationReport;
}

export function validateCalibrateOptions(o: CalibrateOptions): void {
  if (!(CALIBRATION_METHODS as readonly string[]).includes(o.method))
    fail('invalid_argument', 'calibrate', `one of ${CALIBRATION_METHODS.join(', ')}`, String(o.method));
  if (!Number.isInteger(o.seed)) fail('invalid_argument', 'seed', 'an integer', String(o.seed));
  if (!Number.isInteger(o.numFake) || o.numFake < 0)
    fail('invalid_argument', 'numFake', 'a non-negative integer (0: as many as real samples)', String(o.numFake));
  if (!(o.testFraction > 0 && o.testFraction < 1)) fail('invalid_argument', 'testFraction', 'a number in (0, 1)', String(o.testFraction));
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) fail('invalid_argument', 'batchSize', 'a positive integer', String(o.batchSize));
}

/** Run a [rows, ...] array through `fn` in batches, concatenating the [rows] results. */
async function batched(
  data: Float32Array,
  rows: number,
  rowShape: number[],
  batchSize: number,
  fn: (x: Tensor) => Promise<Float32Array>,
  signal?: AbortSignal,
): Promise<Float32Array> {
  const size = rowShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(rows);
  for (let start = 0; start < rows; start += batchSize) {
    if (signal?.aborted) throw new RefineryError('cancelled', [{ path: 'calibration', expected: 'to finish', received: 'a stop' }]);
    const r = Math.min(batchSize, rows - start);
    out.set(await fn({ data: data.subarray(start * size, (start + r) * size), shape: [r, ...rowShape] }), start);
  }
  return out;
}

/**
 * Draw `n` fresh generator samples, latent j from Rng(...streamWords, j) (so the draws do not
 * depend on `batchSize`, the rows per generator call). Returns [n, ...dataShape].
 */
export async function drawFakes(
  pair: Pick<ModelPair, 'generator' | 'meta'>,
  n: number,
  batchSize: number,
  streamWords: number[],
  signal?: AbortSignal,
): Promise<Float32Array> {
  const d = pair.meta.latentDim;
  const size = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n * size);
  const gen = await GeneratorRunner.create(pair);
  try {
    for (let start = 0; start < n; start += batchSize) {
      if (signal?.aborted) throw new RefineryError('cancelled', [{ path: 'generator', expected: `${n} samples`, received: `a stop after ${start}` }]);
      const rows = Math.min(batchSize, n - start);
      const z = keyedLatents(pair.meta.latentPrior, streamWords, start, rows, d);
      const x = await gen.generate({ data: z, shape: [rows, d] });
      if (x.data.length !== rows * size) fail('shape_mismatch', 'generator output', `${rows * size} values`, String(x.data.length));
      out.set(x.data, start * size);
    }
  } finally {
    await gen.release();
  }
  return out;
}

/**
 * Fit the calibration of `pair`'s discriminator on held-out `real` samples [m, ...dataShape]
 * (m >= 4) and fresh generator draws, and return the calibrated log ratio (see the module doc).
 */
export async function fitCalibration(
  pair: ModelPair,
  real: Float32Array | undefined,
  options: Partial<CalibrateOptions> & { seed: number },
  hooks: { signal?: AbortSignal } = {},
): Promise<Calibration> {
  const o: CalibrateOptions = { ...CALIBRATE_DEFAULTS, ...options };
  validateCalibrateOptions(o);
  const shape = pair.meta.dataShape;
  const m = checkRows(real, shape, 4);
  const nFake = o.numFake === 0 ? m : o.numFake;
  if (nFake < 2) fail('invalid_argument', 'numFake', 'at least 2 (one to fit, one to test)', String(nFake));
  const t0 = performance.now();

  const fakes = await drawFakes(pair, nFake, o.batchSize, [o.seed, CALIBRATION_STREAM, 0], hooks.signal);
  const raw = await DataTarget.create(pair, false);
  let sReal: Float32Array;
  let sFake: Float32Array;
  try {
    sReal = await batched(real!, m, shape, o.batchSize, (x) => raw.logRatio(x), hooks.signal);
    sFake = await batched(fakes, nFake, shape, o.batchSize, (x) => raw.logRatio(x), hooks.signal);
  } finally {
    await raw.release();
  }

  // Split: a seeded permutation of the reals; fakes are i.i.d. so they split in order.
  const perm = new Rng(o.seed, CALIBRATION_STREAM, 1).permutation(m);
  const mFit = Math.min(m - 1, Math.max(1, Math.ceil((1 - o.testFraction) * m)));
  const fFit = Math.min(nFake - 1, Math.max(1, Math.ceil((1 - o.testFraction) * nFake)));
  const fitScores = new Float64Array(mFit + fFit);
  const fitLabels = new Uint8Array(mFit + fFit);
  const testScores = new Float64Array(m - mFit + nFake - fFit);
  const testLabels = new Uint8Array(testScores.length);
  for (let k = 0; k < m; k++) {
    const v = sReal[perm[k]];
    if (k < mFit) {
      fitScores[k] = v;
      fitLabels[k] = 1;
    } else {
      testScores[k - mFit] = v;
      testLabels[k - mFit] = 1;
    }
  }
  for (let k = 0; k < nFake; k++) {
    if (k < fFit) fitScores[mFit + k] = sFake[k];
    else testScores[m - mFit + k - fFit] = sFake[k];
  }

  let calibrator: Calibrator;
  let params: Record<string, number | boolean>;
  let dropped = 0;
  if (o.method === 'logistic') {
    const fit = fitLogistic(fitScores, fitLabels);
    calibrator = { kind: 'logistic', a: fit.a, b: fit.b };
    params = { a: fit.a, b: fit.b, seA: fit.se.a, seB: fit.se.b, iterations: fit.iterations, converged: fit.converged, loss: fit.loss };
    dropped = fit.dropped;
  } else if (o.method === 'isotonic') {
    const fit = fitIsotonic(fitScores, fitLabels);
    calibrator = { kind: 'isotonic', knots: Array.from(fit.knots), logRatios: Array.from(fit.logRatios) };
    params = { blocks: fit.knots.length, pClip: fit.pClip, minLogRatio: fit.logRatios[0], maxLogRatio: fit.logRatios[fit.logRatios.length - 1] };
    dropped = fit.dropped;
  } else {
    calibrator = { kind: 'identity' };
    params = {};
    for (const v of fitScores) if (!Number.isFinite(v)) dropped++;
  }
  const map = (s: number) => applyCalibrator(calibrator, s);
  const before = diagnoseLogRatios(testLabels, testScores);
  const after = diagnoseLogRatios(testLabels, Float64Array.from(testScores, map));

  const discriminator = calibratedDiscriminator(discriminatorGraph(pair), pair.meta.dOutput, calibrator);
  const calibrated: ModelPair = {
    ...pair,
    discriminator,
    meta: { ...pair.meta, dOutput: 'logit' },
    files: { ...pair.files, discriminator: `${pair.files.discriminator} (${o.method} calibration)` },
  };
  const report: CalibrationReport = {
    method: o.method,
    rawOutput: pair.meta.dOutput,
    seed: o.seed,
    nReal: m,
    nFake,
    fit: { real: mFit, fake: fFit, dropped },
    test: { real: m - mFit, fake: nFake - fFit },
    params,
    before,
    after,
    seconds: (performance.now() - t0) / 1000,
  };
  return {
    method: o.method,
    calibrator,
    map,
    discriminator,
    pair: calibrated,
    score: async (x) => {
      const target = await DataTarget.create(calibrated, false);
      try {
        return await target.logRatio(x);
      } finally {
        await target.release();
      }
    },
    report,
  };
}

/** What `calibrate` returns: the calibrated pair to refine with, the fitted map and its report. */
export interface CalibrationResult {
  /** The pair with the calibrated discriminator (D's output is then a logit: a log density ratio). */
  pair: ModelPair;
  /** The fitted map from raw score to calibrated log ratio. */
  calibrator: Calibrator;
  /** Calibrated log ratio of one raw score. */
  map(s: number): number;
  /** Fit, test split and the Z diagnostic before and after. */
  report: CalibrationReport;
}

/**
 * Calibrate `pair`'s discriminator into a density ratio on held-out real samples [m, ...dataShape]
 * (m >= 4) and fresh generator draws: logistic (Platt) or isotonic, with Dawid's Z diagnostic
 * before and after on a held-out split. Refine with the returned `pair`.
 */
export async function calibrate(
  pair: ModelPair,
  real: Tensor,
  options: Partial<Omit<CalibrateOptions, 'seed'>> & { seed?: number; signal?: AbortSignal } = {},
): Promise<CalibrationResult> {
  const { signal, ...rest } = options;
  const data = checkRealTensor(real, pair.meta.dataShape);
  const c = await fitCalibration(pair, data, { ...rest, seed: rest.seed ?? 0 }, { signal });
  return { pair: c.pair, calibrator: c.calibrator, map: c.map, report: c.report };
}
