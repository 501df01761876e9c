/**
 * Every metric at once: `evaluate(real, fake, options)` runs the selected metrics (each a plain
 * function of its own file) and returns one JSON-able record; curves are returned apart so that
 * callers can plot them. Used by `refinery eval` and `refinery bench table1`.
 */
import type { Dataset2D } from '../data/dataset.js';
import { fail } from '../errors.js';
import { classifierPrCurve } from './classifierpr.js';
import { frechetDistance } from './frechet.js';
import { kid, mmd } from './kid.js';
import type { Samples } from './linalg.js';
import { modeMetrics } from './modes.js';
import { prd } from './prd.js';
import { densityCoverage, improvedPrecisionRecall } from './prdc.js';

export const METRIC_NAMES = ['modes', 'fd', 'kid', 'mmd', 'pr', 'dc', 'prd', 'cpr'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

export interface EvaluateOptions {
  metrics: MetricName[];
  /** Built-in dataset whose modes define the 2-D mode metrics (needed for 'modes'). */
  dataset?: Dataset2D;
  seed: number;
  /** k of improved precision/recall (default 3) and of density/coverage (default 5). */
  prK?: number;
  dcK?: number;
  kidSubsets?: number;
  kidSubsetSize?: number;
}

export interface Curve {
  label: string;
  precision: Float64Array;
  recall: Float64Array;
}

export function parseMetricList(value: string, path = '--metrics'): MetricName[] {
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

export function evaluate(
  real: Samples,
  fake: Samples,
  o: EvaluateOptions,
): { metrics: Record<string, unknown>; curves: Curve[]; seconds: Record<string, number> } {
  const metrics: Record<string, unknown> = {};
  const curves: Curve[] = [];
  const seconds: Record<string, number> = {};
  const timed = <T>(name: string, f: () => T): T => {
    const t0 = performance.now();
    const r = f();
    seconds[name] = (performance.now() - t0) / 1000;
    return r;
  };
  for (const name of o.metrics) {
    switch (name) {
      case 'modes': {
        if (!o.dataset) fail('invalid_argument', '--dataset', 'a built-in 2-D dataset for the mode metrics', 'none');
        if (fake.d !== 2) fail('shape_mismatch', 'fake', '2-D samples for the mode metrics', `${fake.d}-D`);
        const { modeCounts, ...m } = timed(name, () => modeMetrics(fake.data, o.dataset!));
        metrics.modes = { ...m, modeCounts };
        break;
      }
      case 'fd': {
        const r = timed(name, () => frechetDistance(real, fake));
        metrics.fd = { distance: r.distance, meanTerm: r.meanTerm, traceTerm: r.traceTerm };
        break;
      }
      case 'kid': {
        const r = timed(name, () => kid(real, fake, { seed: o.seed, numSubsets: o.kidSubsets, subsetSize: o.kidSubsetSize }));
        metrics.kid = { mean: r.mean, std: r.std, subsetSize: r.subsetSize, numSubsets: r.numSubsets };
        break;
      }
      case 'mmd':
        metrics.mmd = timed(name, () => mmd(real, fake, { seed: o.seed }));
        break;
      case 'pr':
        metrics.pr = timed(name, () => improvedPrecisionRecall(real, fake, { k: o.prK ?? 3 }));
        break;
      case 'dc':
        metrics.dc = timed(name, () => densityCoverage(real, fake, { k: o.dcK ?? 5 }));
        break;
      case 'prd': {
        const r = timed(name, () => prd(real, fake, { seed: o.seed }));
        metrics.prd = { f8: r.f8, f1over8: r.f1over8, numClusters: r.numClusters, numRuns: r.numRuns };
        curves.push({ label: 'PRD', precision: r.precision, recall: r.recall });
        break;
      }
      case 'cpr': {
        const r = timed(name, () => classifierPrCurve(real, fake, { seed: o.seed }));
        metrics.cpr = { f8: r.f8, f1over8: r.f1over8, k: r.k };
        curves.push({ label: 'classifier PR', precision: r.precision, recall: r.recall });
        break;
      }
    }
  }
  return { metrics, curves, seconds };
}
