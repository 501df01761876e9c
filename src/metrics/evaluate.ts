/**
 * Every metric at once: `evaluate(real, fake, options)` runs the selected metrics (each a plain
 * function of its own file) and returns one typed, JSON-able record; curves are returned apart so
 * that callers can plot them. Used by `refinery eval` and `refinery bench table1`.
 */
import { type DatasetName, getDataset } from '../data/dataset.js';
import { describe, fail, RefineryError, type Issue } from '../errors.js';
import { classifierPrCurve } from './classifierpr.js';
import { frechetDistance } from './frechet.js';
import { kid, type MmdResult, mmd } from './kid.js';
import { asSamples, type SampleInput } from './linalg.js';
import { type ModeMetrics, modeMetrics } from './modes.js';
import { prd } from './prd.js';
import { type DensityCoverage, densityCoverage, improvedPrecisionRecall, type PrecisionRecall } from './prdc.js';

/** Metric names: 2-D modes, Frechet distance, KID, MMD, improved precision/recall, density/coverage, PRD and classifier PR curves. */
export const METRIC_NAMES = ['modes', 'fd', 'kid', 'mmd', 'pr', 'dc', 'prd', 'cpr'] as const;
/** One of `METRIC_NAMES`. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** Options of `evaluate`; all optional. */
export interface EvaluateOptions {
  /** Which metrics (default: all that apply; 'modes' needs `dataset`). */
  metrics?: MetricName[];
  /** Built-in 2-D dataset (grid25, ring8, swissroll) whose modes define the mode metrics. */
  dataset?: DatasetName;
  /** Seed of the sampled metrics (KID subsets, k-means, splits). Default 0. */
  seed?: number;
  /** k of improved precision/recall. Default 3. */
  prK?: number;
  /** k of density/coverage. Default 5. */
  dcK?: number;
  /** KID subsets (default 100) and their size (default 1000). */
  kidSubsets?: number;
  /** Rows per KID subset (default 1000, capped at the smaller sample count). */
  kidSubsetSize?: number;
}

/** A precision-recall curve returned by `evaluate` for plotting. */
export interface Curve {
  /** 'PRD' or 'classifier PR' */
  label: string;
  /** Precision at each point, in [0, 1]. */
  precision: Float64Array;
  /** Recall at each point, same length as `precision`. */
  recall: Float64Array;
}

/** The metrics computed, each under its name. */
export interface EvaluateMetrics {
  /** Mode metrics against `dataset` (`modeMetrics`). */
  modes?: ModeMetrics;
  /** Fréchet distance and its two terms (`frechetDistance`). */
  fd?: { distance: number; meanTerm: number; traceTerm: number };
  /** KID mean and std over random subsets, without the per-subset values (`kid`). */
  kid?: { mean: number; std: number; subsetSize: number; numSubsets: number };
  /** Unbiased MMD² with an RBF kernel and its bandwidth (`mmd`). */
  mmd?: MmdResult;
  /** Improved precision and recall with k = `prK` (`improvedPrecisionRecall`). */
  pr?: PrecisionRecall;
  /** Density and coverage with k = `dcK` (`densityCoverage`). */
  dc?: DensityCoverage;
  /** PRD summaries (`prd`); the curve is in `EvaluateResult.curves`. */
  prd?: { f8: number; f1over8: number; numClusters: number; numRuns: number };
  /** Classifier PR summaries (`classifierPrCurve`); the curve is in `EvaluateResult.curves`. */
  cpr?: { f8: number; f1over8: number; k: number };
}

/** Result of `evaluate`. */
export interface EvaluateResult {
  /** The metrics computed, each under its name. */
  metrics: EvaluateMetrics;
  /** PR curves of 'prd' and 'cpr', for plotting. */
  curves: Curve[];
  /** Seconds per metric. */
  seconds: Partial<Record<MetricName, number>>;
}

export function parseMetricList(value: string, path = 'metrics'): MetricName[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const n of names)
    if (!(METRIC_NAMES as readonly string[]).includes(n))
      fail('invalid_argument', path, `a comma-separated list of ${METRIC_NAMES.join(', ')}`, JSON.stringify(n));
  if (names.length === 0) fail('invalid_argument', path, `at least one of ${METRIC_NAMES.join(', ')}`, JSON.stringify(value));
  return names as MetricName[];
}

/**
 * Evaluate `fake` samples against `real` ones ([n, ...] arrays of equal row size). Options are
 * checked first, all at once, each error naming its key.
 */
export function evaluate(realInput: SampleInput, fakeInput: SampleInput, options: EvaluateOptions = {}): EvaluateResult {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const o = options;
  const dataset = o.dataset === undefined ? undefined : getDataset(o.dataset);
  const names = o.metrics ?? METRIC_NAMES.filter((m) => m !== 'modes' || dataset !== undefined);
  const issues: Issue[] = [];
  const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => (METRIC_NAMES as readonly string[]).includes(n))) {
    issues.push({ path: 'metrics', expected: `a non-empty list of ${METRIC_NAMES.join(', ')}`, received: describe(o.metrics) });
  }
  if (o.seed !== undefined && !isInt(o.seed, Number.MIN_SAFE_INTEGER)) issues.push({ path: 'seed', expected: 'a safe integer', received: describe(o.seed) });
  const prK = o.prK ?? 3;
  const dcK = o.dcK ?? 5;
  // k-NN metrics need more rows than k: say so naming k, not the sample set.
  if (names.includes?.('pr') && !(isInt(prK, 1) && prK < Math.min(real.n, fake.n))) {
    issues.push({
      path: 'prK',
      expected: `an integer in [1, ${Math.min(real.n, fake.n) - 1}] (below the number of real and of fake samples)`,
      received: describe(o.prK),
    });
  }
  if (names.includes?.('dc') && !(isInt(dcK, 1) && dcK < real.n)) {
    issues.push({ path: 'dcK', expected: `an integer in [1, ${real.n - 1}] (below the number of real samples)`, received: describe(o.dcK) });
  }
  if (names.includes?.('modes') && !dataset) issues.push({ path: 'dataset', expected: 'a built-in 2-D dataset for the mode metrics', received: 'none' });
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  const seed = o.seed ?? 0;
  const metrics: EvaluateMetrics = {};
  const curves: Curve[] = [];
  const seconds: Partial<Record<MetricName, number>> = {};
  const timed = <T>(name: MetricName, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    seconds[name] = (performance.now() - t0) / 1000;
    return r;
  };
  for (const name of names) {
    switch (name) {
      case 'modes': {
        if (fake.d !== 2) fail('shape_mismatch', 'fake', '2-D samples for the mode metrics', `${fake.d}-D`);
        metrics.modes = timed(name, () => modeMetrics(fake.data, dataset!));
        break;
      }
      case 'fd': {
        const r = timed(name, () => frechetDistance(real, fake));
        metrics.fd = { distance: r.distance, meanTerm: r.meanTerm, traceTerm: r.traceTerm };
        break;
      }
      case 'kid': {
        const r = timed(name, () => kid(real, fake, { seed, numSubsets: o.kidSubsets, subsetSize: o.kidSubsetSize }));
        metrics.kid = { mean: r.mean, std: r.std, subsetSize: r.subsetSize, numSubsets: r.numSubsets };
        break;
      }
      case 'mmd':
        metrics.mmd = timed(name, () => mmd(real, fake, { seed }));
        break;
      case 'pr':
        metrics.pr = timed(name, () => improvedPrecisionRecall(real, fake, { k: prK }));
        break;
      case 'dc':
        metrics.dc = timed(name, () => densityCoverage(real, fake, { k: dcK }));
        break;
      case 'prd': {
        const r = timed(name, () => prd(real, fake, { seed }));
        metrics.prd = { f8: r.f8, f1over8: r.f1over8, numClusters: r.numClusters, numRuns: r.numRuns };
        curves.push({ label: 'PRD', precision: r.precision, recall: r.recall });
        break;
      }
      case 'cpr': {
        const r = timed(name, () => classifierPrCurve(real, fake, { seed }));
        metrics.cpr = { f8: r.f8, f1over8: r.f1over8, k: r.k };
        curves.push({ label: 'classifier PR', precision: r.precision, recall: r.recall });
        break;
      }
    }
  }
  return { metrics, curves, seconds };
}
