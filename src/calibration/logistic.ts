/**
 * Logistic (Platt) calibration of a discriminator score into a log density ratio, as used by
 * DRS (Azadi et al. 2019) and MH-GAN (Turner et al. 2019): fit
 *
 *   P(real | s) = sigmoid(a s + b)
 *
 * on held-out real (label 1) and generated (label 0) samples, and read the calibrated log ratio as
 * logRatio(s) = a s + b.
 *
 * Class balancing: with n1 reals and n0 fakes, point i of class y gets weight w_i = N / (2 n_y)
 * (N = n1 + n0), so each class carries total weight N/2. The weighted logistic loss is then
 *
 *   L(a, b) = 1/2 [ mean_real softplus(-(a s + b)) + mean_fake softplus(a s + b) ],
 *
 * whose population minimiser over all functions t(s) is t = log p_data(s) / p_g(s) (the prior odds
 * n1/n0 drop out). Without balancing the fitted logit would be log p_data/p_g + log(n1/n0).
 */
import { fail } from '../errors.js';

/** 'balanced': w = N/(2 n_y) (fitted logit estimates log p_data/p_g); 'none': w = 1 (estimates the posterior logit). */
export type Weighting = 'balanced' | 'none';

export interface LogisticOptions {
  weighting?: Weighting;
  /**
   * Ridge on the slope of the standardised score, ridge/2 * alpha^2 added to the mean loss
   * (alpha = a * sd(s)). Default 1e-8: negligible for overlapping classes, and it keeps the
   * optimum finite when the classes are perfectly separated.
   */
  ridge?: number;
  maxIterations?: number;
}

export interface LogisticFit {
  a: number;
  b: number;
  /**
   * Standard errors of a and b under the two-sample design (fixed numbers of independent reals and
   * fakes): sandwich H^-1 M H^-1 with H the weighted Hessian and M = sum over classes of the
   * within-class covariance of the weighted per-point gradients.
   */
  se: { a: number; b: number };
  /** Weighted mean logistic loss at the fit. */
  loss: number;
  iterations: number;
  converged: boolean;
  nReal: number;
  nFake: number;
  /** Points left out because their score was NaN or infinite. */
  dropped: number;
  weighting: Weighting;
}

/** Numerically stable log(1 + e^t). */
export function softplus(t: number): number {
  return Math.max(t, 0) + Math.log1p(Math.exp(-Math.abs(t)));
}

/** Numerically stable 1 / (1 + e^-t). */
export function sigmoid(t: number): number {
  if (t >= 0) return 1 / (1 + Math.exp(-t));
  const e = Math.exp(t);
  return e / (1 + e);
}

export interface LabeledScores {
  /** Finite scores, float64. */
  s: Float64Array;
  /** Labels 1 (real) / 0 (fake). */
  y: Uint8Array;
  /** Per-point weights. */
  w: Float64Array;
  nReal: number;
  nFake: number;
  dropped: number;
}

/**
 * Validate (scores, labels), drop non-finite scores, and attach the weights of `weighting`
 * (balanced: w_i = N / (2 n_{y_i})). Needs at least one finite point of each class.
 */
export function labeledScores(scores: ArrayLike<number>, labels: ArrayLike<number>, weighting: Weighting, path = 'calibration'): LabeledScores {
  if (scores.length !== labels.length) fail('shape_mismatch', path, 'as many labels as scores', `${labels.length} labels for ${scores.length} scores`);
  if (weighting !== 'balanced' && weighting !== 'none') fail('invalid_argument', `${path} weighting`, 'balanced or none', String(weighting));
  let keep = 0;
  let nReal = 0;
  for (let i = 0; i < scores.length; i++) {
    const y = labels[i];
    if (y !== 0 && y !== 1) fail('invalid_argument', `${path} label ${i}`, '0 (fake) or 1 (real)', String(y));
    if (Number.isFinite(scores[i])) {
      keep++;
      nReal += y;
    }
  }
  const nFake = keep - nReal;
  if (nReal < 1 || nFake < 1) fail('invalid_argument', path, 'at least one real and one fake sample with a finite score', `${nReal} real and ${nFake} fake`);
  const s = new Float64Array(keep);
  const y = new Uint8Array(keep);
  const w = new Float64Array(keep);
  const w1 = weighting === 'balanced' ? keep / (2 * nReal) : 1;
  const w0 = weighting === 'balanced' ? keep / (2 * nFake) : 1;
  for (let i = 0, k = 0; i < scores.length; i++) {
    if (!Number.isFinite(scores[i])) continue;
    s[k] = scores[i];
    y[k] = labels[i];
    w[k] = labels[i] === 1 ? w1 : w0;
    k++;
  }
  return { s, y, w, nReal, nFake, dropped: scores.length - keep };
}

/**
 * Fit P(real | s) = sigmoid(a s + b) by Newton's method in float64 on the standardised score
 * u = (s - mean) / sd (t = alpha u + beta; a = alpha / sd, b = beta - alpha mean / sd), with a
 * backtracking (Armijo) line search. Minimises (1/W) sum_i w_i [softplus(t_i) - y_i t_i] +
 * ridge/2 alpha^2, W = sum w_i. Converged when the Newton decrement g^T H^-1 g < 1e-14 (a last
 * full Newton step is then taken).
 * Non-finite scores are left out (counted in `dropped`).
 */
export function fitLogistic(scores: ArrayLike<number>, labels: ArrayLike<number>, options: LogisticOptions = {}): LogisticFit {
  const weighting = options.weighting ?? 'balanced';
  const ridge = options.ridge ?? 1e-8;
  const maxIterations = options.maxIterations ?? 100;
  if (!(ridge >= 0) || !Number.isFinite(ridge)) fail('invalid_argument', 'ridge', 'a non-negative number', String(ridge));
  if (!Number.isInteger(maxIterations) || maxIterations < 1) fail('invalid_argument', 'maxIterations', 'a positive integer', String(maxIterations));
  const d = labeledScores(scores, labels, weighting);
  const n = d.s.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += d.s[i] / n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (d.s[i] - mean) ** 2 / n;
  const sd = v > 0 ? Math.sqrt(v) : 1;
  const u = Float64Array.from(d.s, (x) => (x - mean) / sd);
  let W = 0;
  for (let i = 0; i < n; i++) W += d.w[i];

  const objective = (alpha: number, beta: number): number => {
    let f = 0;
    for (let i = 0; i < n; i++) {
      const t = alpha * u[i] + beta;
      f += d.w[i] * (softplus(t) - d.y[i] * t);
    }
    return f / W + 0.5 * ridge * alpha * alpha;
  };
  /** Gradient and Hessian of the objective (mean scale). */
  const derivatives = (alpha: number, beta: number) => {
    let g0 = 0;
    let g1 = 0;
    let h00 = 0;
    let h01 = 0;
    let h11 = 0;
    for (let i = 0; i < n; i++) {
      const p = sigmoid(alpha * u[i] + beta);
      const r = d.w[i] * (p - d.y[i]);
      const c = d.w[i] * p * (1 - p);
      g0 += r * u[i];
      g1 += r;
      h00 += c * u[i] * u[i];
      h01 += c * u[i];
      h11 += c;
    }
    return { g0: g0 / W + ridge * alpha, g1: g1 / W, h00: h00 / W + ridge, h01: h01 / W, h11: h11 / W };
  };

  let alpha = 0;
  // Start at the balanced base rate: the intercept that fits the weighted label mean.
  let ybar = 0;
  for (let i = 0; i < n; i++) ybar += (d.w[i] * d.y[i]) / W;
  let beta = Math.log(ybar) - Math.log(1 - ybar);
  let f = objective(alpha, beta);
  let converged = false;
  let iterations = 0;
  for (; iterations < maxIterations; iterations++) {
    const { g0, g1, h00, h01, h11 } = derivatives(alpha, beta);
    let det = h00 * h11 - h01 * h01;
    let damp = 0;
    // Levenberg damping only if the Hessian is numerically singular (e.g. separable, saturated data).
    while (!(det > 1e-300 * Math.max(1, h00 * h11))) {
      damp = damp === 0 ? 1e-12 : damp * 100;
      det = (h00 + damp) * (h11 + damp) - h01 * h01;
      if (damp > 1e6) break;
    }
    const d0 = ((h11 + damp) * g0 - h01 * g1) / det;
    const d1 = ((h00 + damp) * g1 - h01 * g0) / det;
    const decrement = g0 * d0 + g1 * d1;
    if (!(decrement >= 0) || !Number.isFinite(decrement)) break;
    if (decrement < 1e-14) {
      // Inside the quadratic region: the loss change (decrement / 2) is below float64 resolution,
      // so a line search cannot rank steps any more; take the full Newton step and stop.
      alpha -= d0;
      beta -= d1;
      f = objective(alpha, beta);
      converged = true;
      break;
    }
    let step = 1;
    let accepted = false;
    for (let k = 0; k < 60; k++, step /= 2) {
      const fa = objective(alpha - step * d0, beta - step * d1);
      if (fa <= f - 1e-4 * step * decrement) {
        alpha -= step * d0;
        beta -= step * d1;
        f = fa;
        accepted = true;
        break;
      }
    }
    if (!accepted) {
      // No further decrease representable in float64: at the optimum to machine precision.
      converged = decrement < 1e-10;
      break;
    }
  }

  const a = alpha / sd;
  const b = beta - (alpha * mean) / sd;
  const se = sandwichSe(d, u, alpha, beta, ridge * W, sd, mean);
  return { a, b, se, loss: f - 0.5 * ridge * alpha * alpha, iterations, converged, nReal: d.nReal, nFake: d.nFake, dropped: d.dropped, weighting };
}

/** Two-sample sandwich standard errors of (a, b), computed in the standardised space and mapped back. */
function sandwichSe(d: LabeledScores, u: Float64Array, alpha: number, beta: number, ridgeSum: number, sd: number, mean: number): { a: number; b: number } {
  const n = u.length;
  let h00 = ridgeSum;
  let h01 = 0;
  let h11 = 0;
  const gm = [
    [0, 0],
    [0, 0],
  ];
  const counts = [0, 0];
  const g0 = new Float64Array(n);
  const g1 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const p = sigmoid(alpha * u[i] + beta);
    const c = d.w[i] * p * (1 - p);
    h00 += c * u[i] * u[i];
    h01 += c * u[i];
    h11 += c;
    const r = d.w[i] * (p - d.y[i]);
    g0[i] = r * u[i];
    g1[i] = r;
    gm[d.y[i]][0] += g0[i];
    gm[d.y[i]][1] += g1[i];
    counts[d.y[i]]++;
  }
  for (const c of [0, 1]) {
    gm[c][0] /= counts[c];
    gm[c][1] /= counts[c];
  }
  let m00 = 0;
  let m01 = 0;
  let m11 = 0;
  for (let i = 0; i < n; i++) {
    const e0 = g0[i] - gm[d.y[i]][0];
    const e1 = g1[i] - gm[d.y[i]][1];
    m00 += e0 * e0;
    m01 += e0 * e1;
    m11 += e1 * e1;
  }
  const det = h00 * h11 - h01 * h01;
  if (!(det > 0)) return { a: NaN, b: NaN };
  // Hinv = [[h11, -h01], [-h01, h00]] / det
  const i00 = h11 / det;
  const i01 = -h01 / det;
  const i11 = h00 / det;
  // C = Hinv M Hinv
  const t00 = i00 * m00 + i01 * m01;
  const t01 = i00 * m01 + i01 * m11;
  const t10 = i01 * m00 + i11 * m01;
  const t11 = i01 * m01 + i11 * m11;
  const c00 = t00 * i00 + t01 * i01;
  const c01 = t00 * i01 + t01 * i11;
  const c11 = t10 * i01 + t11 * i11;
  // (a, b) = J (alpha, beta), J = [[1/sd, 0], [-mean/sd, 1]]
  const varA = c00 / (sd * sd);
  const k = -mean / sd;
  const varB = k * k * c00 + 2 * k * c01 + c11;
  return { a: Math.sqrt(Math.max(varA, 0)), b: Math.sqrt(Math.max(varB, 0)) };
}

/** Calibrated log ratio a s + b (NaN stays NaN). */
export function logisticLogRatio(fit: Pick<LogisticFit, 'a' | 'b'>, s: number): number {
  return fit.a * s + fit.b;
}
