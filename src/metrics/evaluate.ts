/**
 * Every metric at once: `evaluate(real, fake, options)` runs the selected metrics (each a plain
 * function of its own file) and returns one typed, JSON-able record; curves are returned apart so
 * that callers can plot them. Used by `refinery eval` and `refinery bench table1`.
 */
import { type DatasetName, getDataset } from '../data/dataset.js';
import { describe, fail, RefineryError, type Issue } from '../errors.js';
import { classifierPrCurve } from './classifierpr.js';
import { frechetFromStats, type GaussianStats, gaussianStats, statsOf } from './frechet.js';
import { kid, type MmdResult, mmd } from './kid.js';
import { asSamples, checkPair, type SampleInput, type Samples } from './linalg.js';
import { type ClassStatistics, classStatistics, type InceptionScore, inceptionScore } from './classifier.js';
import { extractFeatures, isSampleSource, type SampleSource } from './features.js';
import type { OnnxModel } from '../onnx/graph.js';
import type { Tensor } from '../tensor.js';
import { ganLikelihood, type LikelihoodOptions } from './likelihood.js';
import type { ModelPair } from '../models/pair.js';
import { type ModeMetrics, modeMetrics } from './modes.js';
import { prd } from './prd.js';
import { type DensityCoverage, densityCoverage, improvedPrecisionRecall, type PrecisionRecall } from './prdc.js';

/**
 * Metric names: 2-D modes, Frechet distance, KID, MMD, improved precision/recall, density/coverage,
 * PRD and classifier PR curves on the samples (or their features); Inception Score and class
 * statistics from a classifier; surrogate log-likelihoods under a GAN (Balaji et al.).
 */
export const METRIC_NAMES = ['modes', 'fd', 'kid', 'mmd', 'pr', 'dc', 'prd', 'cpr', 'is', 'classes', 'likelihood'] as const;
/** One of `METRIC_NAMES`. */
export type MetricName = (typeof METRIC_NAMES)[number];

/** Metrics that compare with real samples (not only with their statistics). */
const NEEDS_REAL_SAMPLES: readonly MetricName[] = ['kid', 'mmd', 'pr', 'dc', 'prd', 'cpr'];
/** Clusters of 'prd' (Sajjadi et al.'s 20). */
const PRD_CLUSTERS = 20;

/** Options of `evaluate`. */
export interface EvaluateOptions {
  /**
   * Which metrics. Default: all that apply ('modes' with `dataset`, 'is' and 'classes' with
   * `classifier`, 'likelihood' with `pair`, the others with real samples).
   */
  metrics?: MetricName[];
  /** Built-in 2-D dataset (grid25, ring8, swissroll) whose modes define the mode metrics. */
  dataset?: DatasetName;
  /** Seed of the sampled metrics (KID subsets, k-means, splits, the IS shuffle). Default 0. */
  seed?: number;
  /** k of improved precision/recall. Default 3. */
  prK?: number;
  /** k of density/coverage. Default 5. */
  dcK?: number;
  /** Number of KID subsets. Default 100. */
  kidSubsets?: number;
  /** Size of each KID subset. Default 1000 (capped at the smaller sample count). */
  kidSubsetSize?: number;
  /** Feature extractor x -> [batch, k]: every metric but 'modes', 'is' and 'classes' is computed on features. */
  features?: OnnxModel;
  /** Classifier x -> logits [batch, K], for 'is' and 'classes'. */
  classifier?: OnnxModel;
  /** Statistics of the real samples' features (e.g. read from a pytorch-fid .npz): 'fd' uses them instead of `real`'s. */
  realStats?: GaussianStats;
  /** Classifier of 'cpr': 'knn' (default) or 'linear' (Simon et al.'s logistic regression). */
  cprClassifier?: 'knn' | 'linear';
  /** Bandwidth σ of 'mmd''s RBF kernel. Default: the median heuristic (`medianBandwidth`), which is 0, and refused, when most pooled samples coincide (a collapsed generator). */
  mmdBandwidth?: number;
  /** Splits of the Inception Score. Default 10. */
  isSplits?: number;
  /** Confidence above which a sample counts as classified ('classes'). Default 0.9. */
  confidence?: number;
  /** Rows per model call when extracting features. Default 500. */
  batchSize?: number;
  /** The GAN under which 'likelihood' computes the samples' surrogate log-likelihoods (`ganLikelihood`). */
  pair?: ModelPair;
  /** Options of 'likelihood' (λ, prior draws, cost, critic; its seed is `seed`). */
  likelihood?: Omit<LikelihoodOptions, 'seed' | 'signal'>;
  /** Cancels feature and logit extraction before its next batch (throws a 'cancelled' RefineryError). */
  signal?: AbortSignal;
  /** Progress of the feature extraction and of the metrics. */
  onProgress?: (p: { stage: string; done: number; total: number }) => void;
}

/** A precision/recall curve to plot (from 'prd' or 'cpr'). */
export interface Curve {
  /** 'PRD' or 'classifier PR'. */
  label: string;
  /** Precision at each point of the curve. */
  precision: Float64Array;
  /** Recall at each point of the curve. */
  recall: Float64Array;
}

/** The metrics computed, each under its name. */
export interface EvaluateMetrics {
  /** 2-D mode metrics against `dataset` (`modeMetrics`). */
  modes?: ModeMetrics;
  /** Frechet distance and its two terms (`frechetDistance`); FID when the features are Inception's. */
  fd?: { distance: number; meanTerm: number; traceTerm: number };
  /** Kernel inception distance: mean and std over subsets (`kid`). */
  kid?: { mean: number; std: number; subsetSize: number; numSubsets: number };
  /** Maximum mean discrepancy with an RBF kernel (`mmd`). */
  mmd?: MmdResult;
  /** Improved precision and recall with k = `prK` (`improvedPrecisionRecall`). */
  pr?: PrecisionRecall;
  /** Density and coverage with k = `dcK` (`densityCoverage`). */
  dc?: DensityCoverage;
  /** PRD summaries (`prd`); the curve is in `EvaluateResult.curves`. */
  prd?: { f8: number; f1over8: number; numClusters: number; numRuns: number };
  /** Classifier PR summaries (`classifierPrCurve`); the curve is in `EvaluateResult.curves`. */
  cpr?: { f8: number; f1over8: number; k: number; classifier: 'knn' | 'linear' };
  /** Inception Score in the classifier given (`inceptionScore`). */
  is?: InceptionScore;
  /** Confident fraction, classes covered and class-histogram divergence (`classStatistics`). */
  classes?: ClassStatistics;
  /** Surrogate log-likelihoods under `pair` (`ganLikelihood`): of the fake samples, and of the real ones when given. */
  likelihood?: {
    fake: LikelihoodSummary;
    real?: LikelihoodSummary;
    lambda: number;
    samples: number;
    cost: 'l1' | 'l2';
    critic: boolean;
  };
}

/** Mean and spread of per-sample log-likelihoods, with the mean effective number of prior draws behind them. */
export interface LikelihoodSummary {
  mean: number;
  std: number;
  meanEffectiveSamples: number;
}

/** Result of `evaluate`. */
export interface EvaluateResult {
  /** The metrics computed, each under its name. */
  metrics: EvaluateMetrics;
  /** PR curves of 'prd' and 'cpr', for plotting. */
  curves: Curve[];
  /** Seconds per metric (and 'features' for the extraction). */
  seconds: Partial<Record<MetricName | 'features', number>>;
  /** Statistics of the real samples' features, when computed (to save and reuse). */
  realStats?: GaussianStats;
}

/** The metric names in a comma-separated list; errors name `path`. */
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

function asTensor(x: SampleInput): Tensor {
  if ('shape' in x) return { data: x.data instanceof Float32Array ? x.data : Float32Array.from(x.data), shape: [...x.shape] };
  return { data: x.data instanceof Float32Array ? x.data : Float32Array.from(x.data), shape: [x.n, x.d] };
}

/**
 * Evaluate `fake` samples against `real` ones ([n, ...] arrays of equal row size; `real` may be
 * undefined when only 'fd' with `realStats`, 'is' and 'classes' are asked). With `features`, the
 * sample-comparison metrics are computed on the features of both sets. Options are checked
 * first, all at once, each error naming its key.
 *
 * Either set may be a SampleSource (rows read on demand, e.g. `openImageFolder`): the features
 * and the classifier read it a batch at a time, so only their outputs are held; it is read whole
 * only where the samples themselves are needed (comparisons without `features`, 'modes',
 * 'likelihood'). The results are those of the same rows as an array.
 */
export async function evaluate(
  realInput: SampleInput | SampleSource | undefined,
  fakeInput: SampleInput | SampleSource,
  options: EvaluateOptions = {},
): Promise<EvaluateResult> {
  // Rows and dimension of each set (a source's from its shape: it is not read here).
  const counted = (x: SampleInput | SampleSource, name: string): { n: number; d: number } => {
    if (!isSampleSource(x)) return asSamples(x, name);
    if (x.shape.length < 2 || !x.shape.every((v) => Number.isSafeInteger(v) && v >= 0))
      fail('invalid_argument', `${name}.shape`, '[n, ...] with at least two axes of non-negative integers', `[${x.shape.join(', ')}]`);
    return { n: x.shape[0], d: x.shape.slice(1).reduce((a, b) => a * b, 1) };
  };
  const rawReal = realInput === undefined ? undefined : counted(realInput, 'real');
  const rawFake = counted(fakeInput, 'fake');
  const o = options;
  const dataset = o.dataset === undefined ? undefined : getDataset(o.dataset);
  const names =
    o.metrics ??
    METRIC_NAMES.filter((m) =>
      m === 'modes'
        ? dataset !== undefined
        : m === 'is' || m === 'classes'
          ? o.classifier !== undefined
          : m === 'likelihood'
            ? o.pair !== undefined
            : rawReal !== undefined || (m === 'fd' && o.realStats !== undefined),
    );
  const issues: Issue[] = [];
  const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isSafeInteger(v) && v >= min;
  if (!Array.isArray(names) || names.length === 0 || !names.every((n) => (METRIC_NAMES as readonly string[]).includes(n))) {
    issues.push({ path: 'metrics', expected: `a non-empty list of ${METRIC_NAMES.join(', ')}`, received: describe(o.metrics) });
  }
  if (o.seed !== undefined && !isInt(o.seed, Number.MIN_SAFE_INTEGER)) issues.push({ path: 'seed', expected: 'a safe integer', received: describe(o.seed) });
  if (o.mmdBandwidth !== undefined && !(typeof o.mmdBandwidth === 'number' && Number.isFinite(o.mmdBandwidth) && o.mmdBandwidth > 0)) {
    issues.push({ path: 'mmdBandwidth', expected: 'a positive finite number', received: describe(o.mmdBandwidth) });
  }
  const nReal = rawReal?.n ?? 0;
  const prK = o.prK ?? 3;
  const dcK = o.dcK ?? 5;
  if (rawReal === undefined) {
    const need = names.filter((m) => NEEDS_REAL_SAMPLES.includes(m) || (m === 'fd' && o.realStats === undefined));
    if (need.length > 0)
      issues.push({ path: 'real', expected: `real samples for ${need.join(', ')}${need.includes('fd') ? ' (or realStats)' : ''}`, received: 'none' });
  } else {
    // k-NN metrics need more rows than k: say so naming k, not the sample set, unless no k would do.
    const fewest = Math.min(nReal, rawFake.n);
    if (names.includes('pr') && fewest < 2) {
      const [path, n] = nReal < 2 ? ['real', nReal] : ['fake', rawFake.n];
      issues.push({ path, expected: 'at least 2 rows for pr (each set has a k-NN within itself)', received: `${n} row${n === 1 ? '' : 's'}` });
    } else if (names.includes('pr') && !(isInt(prK, 1) && prK < fewest)) {
      issues.push({ path: 'prK', expected: `an integer in [1, ${fewest - 1}] (below the number of real and of fake samples)`, received: describe(o.prK) });
    }
    if (names.includes('prd') && nReal + rawFake.n < PRD_CLUSTERS) {
      issues.push({
        path: 'fake',
        expected: `at least ${PRD_CLUSTERS} real and fake rows together for prd (its ${PRD_CLUSTERS} clusters; leave prd out of the metrics)`,
        received: `${nReal} + ${rawFake.n}`,
      });
    }
    if (names.includes('dc') && nReal < 2) {
      issues.push({ path: 'real', expected: 'at least 2 rows for dc (a k-NN within the real set)', received: `${nReal} row${nReal === 1 ? '' : 's'}` });
    } else if (names.includes('dc') && !(isInt(dcK, 1) && dcK < nReal)) {
      issues.push({ path: 'dcK', expected: `an integer in [1, ${nReal - 1}] (below the number of real samples)`, received: describe(o.dcK) });
    }
  }
  if (names.includes('modes') && !dataset) issues.push({ path: 'dataset', expected: 'a built-in 2-D dataset for the mode metrics', received: 'none' });
  if ((names.includes('is') || names.includes('classes')) && !o.classifier)
    issues.push({ path: 'classifier', expected: "a classifier model for 'is' and 'classes'", received: 'none' });
  if (names.includes('likelihood') && !o.pair) issues.push({ path: 'pair', expected: "the GAN (generator and D) for 'likelihood'", received: 'none' });
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  const seed = o.seed ?? 0;
  const metrics: EvaluateMetrics = {};
  const curves: Curve[] = [];
  const seconds: EvaluateResult['seconds'] = {};
  const timed = async <T>(name: MetricName | 'features', f: () => T | Promise<T>): Promise<T> => {
    const t0 = performance.now();
    const r = await f();
    seconds[name] = (performance.now() - t0) / 1000 + (seconds[name] ?? 0);
    return r;
  };
  // A set as an array: a source read whole (its values are checked as an array's are).
  const whole = async (x: SampleInput | SampleSource, name: string): Promise<Samples> =>
    isSampleSource(x) ? asSamples({ data: await x.read(0, x.shape[0]), shape: x.shape }, name) : asSamples(x, name);
  const extract = (model: OnnxModel, x: SampleInput | SampleSource, label: string, path: string) =>
    extractFeatures(model, isSampleSource(x) ? x : asTensor(x), {
      batchSize: o.batchSize,
      signal: o.signal,
      path,
      onProgress: (done, total) => o.onProgress?.({ stage: label, done, total }),
    });
  // The comparison space: features of both sets, or the samples themselves.
  const compared = names.some((m) => m !== 'modes' && m !== 'is' && m !== 'classes' && m !== 'likelihood');
  let real: Samples | undefined;
  let fake: Samples | undefined;
  if (o.features && compared) {
    const ff = await timed('features', () => extract(o.features!, fakeInput, 'features (fake)', 'features'));
    fake = asSamples(ff, 'fake features');
    if (realInput !== undefined) {
      const rf = await timed('features', () => extract(o.features!, realInput, 'features (real)', 'features'));
      real = asSamples(rf, 'real features');
    }
  } else {
    // The samples themselves: arrays as they are, sources read whole only when they are compared.
    const own = async (x: SampleInput | SampleSource, name: string) => (isSampleSource(x) && !compared ? undefined : whole(x, name));
    fake = await own(fakeInput, 'fake');
    real = realInput === undefined ? undefined : await own(realInput, 'real');
  }
  if (real && fake) checkPair(real, fake, 1, 1);
  let realStats = o.realStats;
  let logits: Promise<Tensor> | undefined;
  for (const name of names) {
    o.onProgress?.({ stage: name, done: 0, total: 1 });
    switch (name) {
      case 'modes': {
        if (rawFake.d !== 2) fail('shape_mismatch', 'fake', '2-D samples for the mode metrics', `${rawFake.d}-D`);
        metrics.modes = await timed(name, async () => modeMetrics((await whole(fakeInput, 'fake')).data, dataset!));
        break;
      }
      case 'fd': {
        const r = await timed(name, async () => {
          // Sets that checkPair validated above are not scanned again; gaussianStats reports n < 2.
          const stats = async (x: Samples, name: string) => (real && x.n >= 2 ? (await statsOf(x))[0] : gaussianStats(x, name));
          let fakeStats: GaussianStats;
          if (realStats === undefined && real && real.n >= 2 && fake!.n >= 2) {
            // Both sets' statistics in one go (the same bits as one by one).
            [realStats, fakeStats] = await statsOf(real, fake!);
          } else {
            realStats ??= await stats(real!, 'real');
            fakeStats = await stats(fake!, 'fake');
          }
          return frechetFromStats(realStats, fakeStats);
        });
        metrics.fd = { distance: r.distance, meanTerm: r.meanTerm, traceTerm: r.traceTerm };
        break;
      }
      case 'kid': {
        const r = await timed(name, () => kid(real!, fake!, { seed, numSubsets: o.kidSubsets, subsetSize: o.kidSubsetSize }));
        metrics.kid = { mean: r.mean, std: r.std, subsetSize: r.subsetSize, numSubsets: r.numSubsets };
        break;
      }
      case 'mmd':
        metrics.mmd = await timed(name, () =>
          mmd(real!, fake!, { seed, bandwidth: o.mmdBandwidth }).catch((e: unknown) => {
            // The median heuristic's failure, in this function's terms.
            if (!(e instanceof RefineryError) || e.issues[0]?.path !== 'bandwidth') throw e;
            fail(
              'invalid_argument',
              'mmdBandwidth',
              'a bandwidth for mmd: most pooled samples coincide, so the median heuristic is 0 (or leave mmd out of the metrics)',
              e.issues[0].received,
            );
          }),
        );
        break;
      case 'pr':
        metrics.pr = await timed(name, () => improvedPrecisionRecall(real!, fake!, { k: prK }));
        break;
      case 'dc':
        metrics.dc = await timed(name, () => densityCoverage(real!, fake!, { k: dcK }));
        break;
      case 'prd': {
        const r = await timed(name, () => prd(real!, fake!, { seed, numClusters: PRD_CLUSTERS }));
        metrics.prd = { f8: r.f8, f1over8: r.f1over8, numClusters: r.numClusters, numRuns: r.numRuns };
        curves.push({ label: 'PRD', precision: r.precision, recall: r.recall });
        break;
      }
      case 'cpr': {
        const r = await timed(name, () => classifierPrCurve(real!, fake!, { seed, classifier: o.cprClassifier }));
        metrics.cpr = { f8: r.f8, f1over8: r.f1over8, k: r.k, classifier: r.classifier };
        curves.push({ label: 'classifier PR', precision: r.precision, recall: r.recall });
        break;
      }
      case 'is':
      case 'classes': {
        logits ??= extract(o.classifier!, fakeInput, 'classifier', 'classifier');
        const l = await timed(name, () => logits!);
        if (name === 'is') metrics.is = await timed(name, () => inceptionScore(l, { splits: o.isSplits, seed }));
        else metrics.classes = await timed(name, () => classStatistics(l, { threshold: o.confidence }));
        break;
      }
      case 'likelihood': {
        const of = async (x: SampleInput | SampleSource) => {
          const r = await ganLikelihood(o.pair!, asTensor(await whole(x, x === fakeInput ? 'fake' : 'real')), { ...o.likelihood, seed, signal: o.signal });
          const meanEffectiveSamples = r.effectiveSamples.reduce((a, v) => a + v, 0) / r.effectiveSamples.length;
          return { summary: { mean: r.mean, std: r.std, meanEffectiveSamples }, r };
        };
        const f = await timed(name, () => of(fakeInput));
        const re = realInput === undefined ? undefined : await timed(name, () => of(realInput));
        metrics.likelihood = { fake: f.summary, real: re?.summary, lambda: f.r.lambda, samples: f.r.samples, cost: f.r.cost, critic: f.r.critic };
        break;
      }
    }
    o.onProgress?.({ stage: name, done: 1, total: 1 });
  }
  return { metrics, curves, seconds, realStats: realInput !== undefined && names.includes('fd') ? realStats : undefined };
}
