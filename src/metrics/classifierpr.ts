/**
 * Classifier-based precision-recall curves of Simon, Webster & Rabin 2019, "Revisiting precision
 * and recall definition for generative model evaluation" (ICML).
 *
 * Inputs follow the `Samples` convention of linalg.ts: P = real (reference), Q = fake (model).
 *
 * The PRD curve of Sajjadi et al. 2018, α(λ) = ∫ min(λ p, q), β(λ) = α(λ)/λ, is a statement about
 * binary classification (the bridge to type I / II error rates of Simon et al. 2019): for a classifier f that says "fake" on a
 * set A and "real" elsewhere,
 *
 *   FPR(f) = P(A)       (real rows called fake),   FNR(f) = Q(Aᶜ)   (fake rows called real),
 *
 * and ∫ min(λ p, q) = min_A [λ P(A) + Q(Aᶜ)], the minimum being reached by the Bayes set
 * A = {q > λ p}. Hence
 *
 *   α_λ = min_f [λ · FPR(f) + FNR(f)]   (precision),   β_λ = α_λ / λ = min_f [FPR(f) + FNR(f)/λ]   (recall).
 *
 * Estimation here: a k-nearest-neighbour classifier (documented choice: non-parametric, so it can
 * separate any two laws as n grows, unlike a linear model) is fitted on a random `trainFraction`
 * of each set; its score on a held-out row is c(x) = number of fake rows among the k nearest
 * training rows (Euclidean, ties by index; on large sets ranked by ‖t‖² - 2 x·t, which orders the
 * training rows t as the squared distance does, up to rounding, without computing it). The family of classifiers is the thresholds
 * f_t = "fake iff c(x) ≥ t", t = 0..k+1 (t = 0: always fake, FPR = 1, FNR = 0; t = k+1: always
 * real, FPR = 0, FNR = 1), with FPR(t), FNR(t) measured on the held-out rows, and
 * α_λ = min_t [λ FPR(t) + FNR(t)]. (c(x) is a monotone function of the class-prior-corrected
 * k-NN posterior, so the class sizes do not matter.) Since any fixed family only bounds the
 * minimum over all classifiers from above, the curve is, up to held-out noise, an upper bound of
 * the true PRD curve; the minimum over the k + 2 thresholds on the same held-out rows adds a small
 * optimistic (downward) bias of order sqrt(log(k)/n_test).
 */
import { describe, fail } from '../errors.js';
import { Rng } from '../rng.js';
import { forEachNearestIndexBlock, lowHalves, SMALL } from './gram.js';
import { checkBlockSize, kNearest } from './knn.js';
import { asFloat64, checkPair, asSamples, type SampleInput, type Samples } from './linalg.js';
import { maxFBeta, prdLambdas } from './prd.js';

/** Stream label of the train/test split: Rng(seed, CLASSIFIER_PR_STREAM, 0 | 1) for real | fake. */
export const CLASSIFIER_PR_STREAM = 0x435052;

/** Options of `classifierPrCurve`; all optional. */
export interface ClassifierPrOptions {
  /** neighbours of the k-NN classifier (default round(sqrt(min(N_train, M_train))), at least 1) */
  k?: number;
  /** fraction of each set used for training, in (0, 1) (default 0.5) */
  trainFraction?: number;
  /** points of the curve: λ = tan θ, θ equally spaced on [1e-10, π/2 - 1e-10] (default 1001) */
  numAngles?: number;
  /** seed word of the split (default 0) */
  seed?: number;
  /** rows per block of the k-NN pass (default 256; does not change the results) */
  blockSize?: number;
  /**
   * The classifier: 'knn' (default, see the module doc) or 'linear', a logistic regression on the
   * standardised features (L2 penalty 1e-3 per row, Newton's method), thresholded at every held-out
   * score: the linear classifier of Simon et al.'s own experiments.
   */
  classifier?: 'knn' | 'linear';
}

/** A classifier-based PR curve (`classifierPrCurve`), its summaries, and the sizes of the train/test split. */
export interface ClassifierPrResult {
  /** α_λ per λ (ascending λ) */
  precision: Float64Array;
  /** β_λ = α_λ / λ */
  recall: Float64Array;
  /** the slopes λ_i = tan(θ_i), ascending (`numAngles` of them) */
  lambdas: Float64Array;
  /** FPR(t) for t = 0..k+1 (held-out real rows with score ≥ t) */
  fpr: Float64Array;
  /** FNR(t) for t = 0..k+1 (held-out fake rows with score < t) */
  fnr: Float64Array;
  /** max F_8 over the curve (recall weighted) */
  f8: number;
  /** max F_1/8 over the curve (precision weighted) */
  f1over8: number;
  /** neighbours of the k-NN classifier used (the option or its default; 0 for 'linear') */
  k: number;
  /** the classifier used */
  classifier: 'knn' | 'linear';
  /** real rows that trained the classifier: floor(trainFraction · N) */
  nRealTrain: number;
  /** fake rows that trained the classifier: floor(trainFraction · M) */
  nFakeTrain: number;
  /** held-out real rows, on which FPR is measured */
  nRealTest: number;
  /** held-out fake rows, on which FNR is measured */
  nFakeTest: number;
}

/**
 * PR curve from a classifier's error rates given as ROC points (fpr[t], fnr[t]):
 * α_λ = min(1, min_t [λ fpr[t] + fnr[t]]), β_λ = min(1, α_λ / λ). Include the trivial classifiers
 * (1, 0) and (0, 1) among the points for α_λ ≤ min(λ, 1).
 */
export function prFromErrorRates(fpr: ArrayLike<number>, fnr: ArrayLike<number>, lambdas: Float64Array): { precision: Float64Array; recall: Float64Array } {
  if (fpr.length !== fnr.length || fpr.length === 0) fail('shape_mismatch', 'fnr', `${fpr.length} error rates (as fpr)`, `${fnr.length}`);
  const precision = new Float64Array(lambdas.length);
  const recall = new Float64Array(lambdas.length);
  for (let i = 0; i < lambdas.length; i++) {
    const l = lambdas[i];
    let a = Infinity;
    for (let t = 0; t < fpr.length; t++) a = Math.min(a, l * fpr[t] + fnr[t]);
    a = Math.min(1, Math.max(0, a));
    precision[i] = a;
    recall[i] = Math.min(1, a / l);
  }
  return { precision, recall };
}

/**
 * Classifier-based PR curve of fake against real (file comment: Simon et al. 2019 with a k-NN
 * classifier). Split: each set is shuffled with Rng(seed, CLASSIFIER_PR_STREAM, 0) (real) /
 * (…, 1) (fake); the first floor(trainFraction · n) rows train, the rest are held out. Needs at
 * least k training rows and one held-out row per set. Cost O(n_test · n_train · d).
 *
 * Identical laws give a curve near α = min(λ, 1), β = min(1, 1/λ) (through (1, 1)); perfectly
 * separable laws give α = β = 0.
 *
 * Errors: RefineryError naming 'real' / 'fake' (shape, non-finite, too few rows for the split),
 * 'k', 'trainFraction', 'numAngles', 'seed', 'blockSize'.
 */
export async function classifierPrCurve(realInput: SampleInput, fakeInput: SampleInput, options: ClassifierPrOptions = {}): Promise<ClassifierPrResult> {
  const real = asSamples(realInput, 'real');
  const fake = asSamples(fakeInput, 'fake');
  const trainFraction = options.trainFraction ?? 0.5;
  if (typeof trainFraction !== 'number' || !(trainFraction > 0 && trainFraction < 1)) {
    fail('invalid_argument', 'trainFraction', 'a number in (0, 1)', describe(options.trainFraction));
  }
  const seed = options.seed ?? 0;
  if (!Number.isSafeInteger(seed)) fail('invalid_argument', 'seed', 'an integer', describe(options.seed));
  const blockSize = checkBlockSize(options.blockSize);
  const lambdas = prdLambdas(options.numAngles ?? 1001);
  if (options.k !== undefined && (!Number.isSafeInteger(options.k) || options.k < 1)) {
    fail('invalid_argument', 'k', 'a positive integer', describe(options.k));
  }
  checkPair(real, fake, 2, 2);
  const d = real.d;
  const split = (x: Samples, label: number, name: string): { train: Float64Array; test: Float64Array; nTrain: number; nTest: number } => {
    const nTrain = Math.floor(trainFraction * x.n);
    const nTest = x.n - nTrain;
    if (nTrain < 1 || nTest < 1) {
      fail('invalid_argument', name, `enough rows for a train/test split at trainFraction ${trainFraction}`, `${x.n} rows`);
    }
    const perm = new Rng(seed, CLASSIFIER_PR_STREAM, label).permutation(x.n);
    const data = asFloat64(x);
    const train = new Float64Array(nTrain * d);
    const test = new Float64Array(nTest * d);
    for (let r = 0; r < x.n; r++) {
      const src = data.subarray(perm[r] * d, perm[r] * d + d);
      if (r < nTrain) train.set(src, r * d);
      else test.set(src, (r - nTrain) * d);
    }
    return { train, test, nTrain, nTest };
  };
  const r = split(real, 0, 'real');
  const f = split(fake, 1, 'fake');
  const kind = options.classifier ?? 'knn';
  if (kind !== 'knn' && kind !== 'linear') fail('invalid_argument', 'classifier', 'knn or linear', describe(options.classifier));
  // The error rates of the classifier family; the curve and its summaries follow from them.
  const curve = (fpr: Float64Array, fnr: Float64Array, k: number, classifier: 'knn' | 'linear'): ClassifierPrResult => {
    const { precision, recall } = prFromErrorRates(fpr, fnr, lambdas);
    const [f8, f1over8] = [maxFBeta(precision, recall, 8), maxFBeta(precision, recall, 1 / 8)];
    return {
      precision,
      recall,
      lambdas,
      fpr,
      fnr,
      f8,
      f1over8,
      k,
      classifier,
      nRealTrain: r.nTrain,
      nFakeTrain: f.nTrain,
      nRealTest: r.nTest,
      nFakeTest: f.nTest,
    };
  };
  if (kind === 'linear') {
    const { fpr, fnr } = linearErrorRates(r, f, d);
    return curve(fpr, fnr, 0, 'linear');
  }
  const k = options.k ?? Math.max(1, Math.round(Math.sqrt(Math.min(r.nTrain, f.nTrain))));
  const nTrain = r.nTrain + f.nTrain;
  if (k > nTrain) {
    fail('invalid_argument', 'k', `an integer in [1, ${nTrain}] (the number of training rows)`, String(k));
  }
  // training set: real rows first (indices < r.nTrain), then fake rows
  const train = new Float64Array(nTrain * d);
  train.set(r.train, 0);
  train.set(f.train, r.nTrain * d);
  const test = new Float64Array((r.nTest + f.nTest) * d);
  test.set(r.test, 0);
  test.set(f.test, r.nTest * d);
  const nTest = r.nTest + f.nTest;
  // histograms of the score c(x) = number of fake neighbours, per held-out class
  const realHist = new Float64Array(k + 1);
  const fakeHist = new Float64Array(k + 1);
  const score = (i: number, c: number) => {
    if (i < r.nTest) realHist[c]++;
    else fakeHist[c]++;
  };
  if (nTest * nTrain * d >= SMALL) {
    // only which training rows are nearest matters here, not their distances nor their order
    await forEachNearestIndexBlock(test, nTest, train, nTrain, d, k, (i0, rows, indices) => {
      const index = lowHalves(indices);
      for (let b = 0; b < rows; b++) {
        let c = 0;
        for (let j = 0; j < k; j++) if (index[2 * (b * k + j)] >= r.nTrain) c++;
        score(i0 + b, c);
      }
    });
  } else {
    const nn = await kNearest({ data: test, n: nTest, d }, { data: train, n: nTrain, d }, k, { blockSize });
    for (let i = 0; i < nTest; i++) {
      let c = 0;
      for (let j = 0; j < k; j++) if (nn.index[i * k + j] >= r.nTrain) c++;
      score(i, c);
    }
  }
  // FPR(t) = #{real: c ≥ t} / n_real_test, FNR(t) = #{fake: c < t} / n_fake_test, t = 0..k+1
  const fpr = new Float64Array(k + 2);
  const fnr = new Float64Array(k + 2);
  let realAbove = r.nTest;
  let fakeBelow = 0;
  for (let t = 0; t <= k + 1; t++) {
    fpr[t] = realAbove / r.nTest;
    fnr[t] = fakeBelow / f.nTest;
    if (t <= k) {
      realAbove -= realHist[t];
      fakeBelow += fakeHist[t];
    }
  }
  return curve(fpr, fnr, k, 'knn');
}

/**
 * FPR and FNR of a logistic regression (fake = 1) fitted on the training rows (standardised
 * features, L2 penalty 1e-3 per row on the weights, Newton's method), for the classifiers
 * "fake iff score ≥ t" at every held-out score t (and t = ∞).
 */
function linearErrorRates(
  r: { train: Float64Array; test: Float64Array; nTrain: number; nTest: number },
  f: { train: Float64Array; test: Float64Array; nTrain: number; nTest: number },
  d: number,
): { fpr: Float64Array; fnr: Float64Array } {
  const n = r.nTrain + f.nTrain;
  const mean = new Float64Array(d);
  const sd = new Float64Array(d);
  const row = (i: number) => (i < r.nTrain ? r.train.subarray(i * d, (i + 1) * d) : f.train.subarray((i - r.nTrain) * d, (i - r.nTrain + 1) * d));
  for (let i = 0; i < n; i++) for (let l = 0; l < d; l++) mean[l] += row(i)[l] / n;
  for (let i = 0; i < n; i++) for (let l = 0; l < d; l++) sd[l] += (row(i)[l] - mean[l]) ** 2 / n;
  for (let l = 0; l < d; l++) sd[l] = Math.sqrt(sd[l]) || 1;
  const p = d + 1; // weights, then the bias
  const z = new Float64Array(n * p);
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const x = row(i);
    for (let l = 0; l < d; l++) z[i * p + l] = (x[l] - mean[l]) / sd[l];
    z[i * p + d] = 1;
    y[i] = i < r.nTrain ? 0 : 1;
  }
  const penalty = 1e-3 * n;
  const w = new Float64Array(p);
  for (let iter = 0; iter < 50; iter++) {
    const grad = new Float64Array(p);
    const hess = new Float64Array(p * p);
    for (let i = 0; i < n; i++) {
      let t = 0;
      for (let l = 0; l < p; l++) t += z[i * p + l] * w[l];
      const q = 1 / (1 + Math.exp(-t));
      const g = q - y[i];
      const h = Math.max(q * (1 - q), 1e-12);
      for (let a = 0; a < p; a++) {
        const za = z[i * p + a];
        grad[a] += g * za;
        for (let b = 0; b <= a; b++) hess[a * p + b] += h * za * z[i * p + b];
      }
    }
    for (let a = 0; a < d; a++) {
      grad[a] += penalty * w[a];
      hess[a * p + a] += penalty;
    }
    for (let a = 0; a < p; a++) for (let b = 0; b < a; b++) hess[b * p + a] = hess[a * p + b];
    const step = solveSpd(hess, grad, p);
    let size = 0;
    for (let l = 0; l < p; l++) {
      w[l] -= step[l];
      size = Math.max(size, Math.abs(step[l]));
    }
    if (size < 1e-10) break;
  }
  const score = (x: Float64Array) => {
    let t = w[d];
    for (let l = 0; l < d; l++) t += ((x[l] - mean[l]) / sd[l]) * w[l];
    return t;
  };
  const scores: { s: number; fake: boolean }[] = [];
  for (let i = 0; i < r.nTest; i++) scores.push({ s: score(r.test.subarray(i * d, (i + 1) * d)), fake: false });
  for (let i = 0; i < f.nTest; i++) scores.push({ s: score(f.test.subarray(i * d, (i + 1) * d)), fake: true });
  scores.sort((a, b) => a.s - b.s);
  // Thresholds at each distinct held-out score, ascending, then above all: FPR(t) = real ≥ t, FNR(t) = fake < t.
  const fpr: number[] = [];
  const fnr: number[] = [];
  let realAbove = r.nTest;
  let fakeBelow = 0;
  for (let i = 0; i <= scores.length; i++) {
    if (i === 0 || i === scores.length || scores[i].s !== scores[i - 1].s) {
      fpr.push(realAbove / r.nTest);
      fnr.push(fakeBelow / f.nTest);
    }
    if (i < scores.length) {
      if (scores[i].fake) fakeBelow++;
      else realAbove--;
    }
  }
  return { fpr: Float64Array.from(fpr), fnr: Float64Array.from(fnr) };
}

/** Solve A x = b for a symmetric positive definite p x p matrix A (Cholesky). */
function solveSpd(a: Float64Array, b: Float64Array, p: number): Float64Array {
  const l = new Float64Array(p * p);
  for (let j = 0; j < p; j++) {
    let s = a[j * p + j];
    for (let k = 0; k < j; k++) s -= l[j * p + k] ** 2;
    const root = Math.sqrt(Math.max(s, 1e-300));
    l[j * p + j] = root;
    for (let i = j + 1; i < p; i++) {
      let t = a[i * p + j];
      for (let k = 0; k < j; k++) t -= l[i * p + k] * l[j * p + k];
      l[i * p + j] = t / root;
    }
  }
  const y = new Float64Array(p);
  for (let i = 0; i < p; i++) {
    let t = b[i];
    for (let k = 0; k < i; k++) t -= l[i * p + k] * y[k];
    y[i] = t / l[i * p + i];
  }
  const x = new Float64Array(p);
  for (let i = p - 1; i >= 0; i--) {
    let t = y[i];
    for (let k = i + 1; k < p; k++) t -= l[k * p + i] * x[k];
    x[i] = t / l[i * p + i];
  }
  return x;
}
