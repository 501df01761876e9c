/**
 * Discriminator optimal transport (DOT, Tanaka 2019, "Discriminator optimal transport", NeurIPS).
 * Each generated point y is moved to the minimiser of
 *
 *   phi_y(x) = c(x - y) - logRatio(x) / K_eff,
 *
 * starting from x = y, by Adam on x (the paper uses Adam). In target space x and y are samples
 * (y = G(z)); in latent space (dot-latent) they are latents (z_y) and logRatio is taken at G(z),
 * with K_eff the Lipschitz estimate of D o G with respect to z.
 *
 * The transport cost c, either
 *   'paper':  c(v) = |v + delta 1|       (the authors' code: the norm of v shifted by delta in
 *                                         every coordinate, so the gradient exists at v = 0), or
 *   'smooth': c(v) = sqrt(|v|^2 + delta) (symmetric; its gradient is 0 at v = 0 and the
 *                                         minimiser moves only where |x* - y| ~ sqrt(delta)).
 * delta defaults to 1e-3 for both.
 *
 * K_eff (Tanaka 2019, section 4) is the effective Lipschitz constant of D over the samples: see
 * `estimateKEff` (the max over all pairs of a pool) and `estimateKEffPaper` (the authors' code:
 * the mean over trials of the max over random pairs).
 *
 * Adam (Kingma & Ba 2015) per coordinate, with per-row bias-correction counters:
 *   m <- b1 m + (1 - b1) g,  v <- b2 v + (1 - b2) g^2,
 *   x <- x - lr * (m / (1 - b1^k)) / (sqrt(v / (1 - b2^k)) + 1e-8),  k = the row's update count.
 * Rows whose logRatio or gradient is NaN/Inf keep their position and Adam moments and are counted
 * in `nonFinite`. An optional box clamps x after each update (uniform latent priors: [-1, 1]).
 */
import { fail } from '../../errors.js';
import type { Kernel, StepInfo } from '../../run/kernel.js';
import type { Tensor } from '../../tensor.js';
import type { RatioField } from './dcd.js';

export type { RatioField } from './dcd.js';

export interface DotOptions {
  /** Adam learning rate (the paper: 0.01). */
  stepSize: number;
  /** The K_eff dividing logRatio (> 0). */
  kEff: number;
  /** The transport cost: 'paper' |v + delta| or 'smooth' sqrt(|v|^2 + delta). */
  cost: DotCost;
  /** delta of the transport cost. */
  delta: number;
  /** Adam's first-moment decay. */
  beta1: number;
  /** Adam's second-moment decay. */
  beta2: number;
  /** Clamp every coordinate into [lo, hi] after each update. */
  box?: [number, number];
}

/** The transport costs (see the module doc). */
export const DOT_COSTS = ['paper', 'smooth'] as const;
export type DotCost = (typeof DOT_COSTS)[number];

/**
 * Defaults (kEff has none: it is estimated by the runner or given), as in the authors' code: Adam
 * with lr 0.01 and betas (0, 0.9), the cost |x - y + 0.001|.
 */
export const DOT_DEFAULTS: Omit<DotOptions, 'kEff'> = { stepSize: 0.01, cost: 'paper', delta: 1e-3, beta1: 0, beta2: 0.9 };

export const ADAM_EPSILON = 1e-8;

export interface DotState {
  /** Current points x, [n, d] row-major (d = elements per row). */
  position: Float32Array;
  /** The starting points y (the anchors of the transport cost). */
  anchor: Float32Array;
  n: number;
  d: number;
  /** Shape of one row, for feeding the field. */
  rowShape: number[];
  /** Adam first and second moments, [n, d]. */
  m: Float32Array;
  v: Float32Array;
  /** Adam update count per row (bias correction). */
  k: Int32Array;
  /** Steps taken. */
  t: number;
}

export function validateDot(o: DotOptions): void {
  if (!(o.stepSize > 0) || !Number.isFinite(o.stepSize)) fail('invalid_argument', 'stepSize', 'a positive number', String(o.stepSize));
  if (!(o.kEff > 0) || !Number.isFinite(o.kEff)) fail('invalid_argument', 'kEff', 'a positive finite number', String(o.kEff));
  if (!(o.delta > 0) || !Number.isFinite(o.delta)) fail('invalid_argument', 'dotDelta', 'a positive number', String(o.delta));
  if (!DOT_COSTS.includes(o.cost)) fail('invalid_argument', 'dotCost', `one of ${DOT_COSTS.join(', ')}`, String(o.cost));
  if (!(o.beta1 >= 0 && o.beta1 < 1)) fail('invalid_argument', 'beta1', 'a number in [0, 1)', String(o.beta1));
  if (!(o.beta2 >= 0 && o.beta2 < 1)) fail('invalid_argument', 'beta2', 'a number in [0, 1)', String(o.beta2));
  if (o.box !== undefined) {
    const [lo, hi] = o.box;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) fail('invalid_argument', 'box', 'two finite numbers lo < hi', `${lo},${hi}`);
  }
}

/** Start at x = y with zero Adam moments. `y` is [n, ...rowShape]. */
export function dotInit(y: Tensor): DotState {
  const n = y.shape[0];
  const size = y.shape.slice(1).reduce((a, b) => a * b, 1);
  if (y.data.length !== n * size)
    fail('shape_mismatch', 'dot samples', `data of length ${n * size} for shape [${y.shape.join(', ')}]`, `length ${y.data.length}`);
  return {
    position: Float32Array.from(y.data),
    anchor: Float32Array.from(y.data),
    n,
    d: size,
    rowShape: y.shape.slice(1),
    m: new Float32Array(n * size),
    v: new Float32Array(n * size),
    k: new Int32Array(n),
    t: 0,
  };
}

/** |x_r - y_r| per row (the plain Euclidean transport cost), in float64. */
export function transportCosts(s: Pick<DotState, 'position' | 'anchor' | 'n' | 'd'>): Float64Array {
  const out = new Float64Array(s.n);
  for (let r = 0; r < s.n; r++) {
    let q = 0;
    for (let k = r * s.d; k < (r + 1) * s.d; k++) q += (s.position[k] - s.anchor[k]) ** 2;
    out[r] = Math.sqrt(q);
  }
  return out;
}

/**
 * One Adam step on phi_y for every row. grad phi_y(x) = grad c(x - y) - grad logRatio(x) / K_eff,
 * with grad c(v) = (v + delta) / |v + delta| ('paper') or v / sqrt(|v|^2 + delta) ('smooth').
 * Info: acceptance 1, gradNorm = mean |grad phi| over finite rows, ratioGradNorm = mean
 * |grad logRatio|, objective = mean phi at the evaluated points, logRatio = their mean logRatio,
 * transportCost = mean |x - y| after the step.
 */
export function dotKernel(field: RatioField, options: DotOptions): Kernel<DotState> {
  validateDot(options);
  const { stepSize: lr, kEff, delta, beta1: b1, beta2: b2, box } = options;
  // The paper's cost shifts v by delta in every coordinate; the smooth one adds delta under the root.
  const shift = options.cost === 'paper' ? delta : 0;
  const underRoot = options.cost === 'paper' ? 0 : delta;
  return {
    name: 'dot',
    async step(s) {
      const { n, d } = s;
      const ev = await field.logRatioAndGrad({ data: s.position, shape: [n, ...s.rowShape] });
      const position = Float32Array.from(s.position);
      const m = Float32Array.from(s.m);
      const v = Float32Array.from(s.v);
      const k = Int32Array.from(s.k);
      const g = new Float64Array(d);
      let nonFinite = 0;
      let finiteRows = 0;
      let gradNorm = 0;
      let ratioGradNorm = 0;
      let objective = 0;
      let logRatio = 0;
      for (let r = 0; r < n; r++) {
        const off = r * d;
        let ok = Number.isFinite(ev.logRatio[r]);
        let q = 0;
        let rg2 = 0;
        for (let j = 0; j < d && ok; j++) {
          const gj = ev.grad[off + j];
          if (!Number.isFinite(gj)) ok = false;
          rg2 += gj * gj;
          q += (s.position[off + j] - s.anchor[off + j] + shift) ** 2;
        }
        if (!ok) {
          nonFinite++;
          continue;
        }
        const safe = Math.sqrt(q + underRoot);
        let g2 = 0;
        for (let j = 0; j < d; j++) {
          g[j] = (s.position[off + j] - s.anchor[off + j] + shift) / safe - ev.grad[off + j] / kEff;
          g2 += g[j] * g[j];
        }
        const kr = k[r] + 1;
        k[r] = kr;
        const c1 = 1 - b1 ** kr;
        const c2 = 1 - b2 ** kr;
        for (let j = 0; j < d; j++) {
          const i = off + j;
          m[i] = b1 * m[i] + (1 - b1) * g[j];
          v[i] = b2 * v[i] + (1 - b2) * g[j] * g[j];
          let x = position[i] - (lr * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + ADAM_EPSILON);
          if (box) x = x < box[0] ? box[0] : x > box[1] ? box[1] : x;
          position[i] = x;
        }
        finiteRows++;
        gradNorm += Math.sqrt(g2);
        ratioGradNorm += Math.sqrt(rg2);
        objective += safe - ev.logRatio[r] / kEff;
        logRatio += ev.logRatio[r];
      }
      const state: DotState = { position, anchor: s.anchor, n, d, rowShape: s.rowShape, m, v, k, t: s.t + 1 };
      const cost = transportCosts(state);
      const per = (x: number) => (finiteRows > 0 ? x / finiteRows : 0);
      const info: StepInfo = {
        acceptance: 1,
        gradNorm: per(gradNorm),
        nonFinite,
        ratioGradNorm: per(ratioGradNorm),
        objective: per(objective),
        logRatio: per(logRatio),
        transportCost: n > 0 ? cost.reduce((a, b) => a + b, 0) / n : 0,
      };
      return { state, info };
    },
  };
}

/**
 * K_eff = max over pairs (i < j) with |p_i - p_j| > 0 of |D_i - D_j| / |p_i - p_j| (Tanaka 2019),
 * over all pairs of the n points `points` ([n, d]) with values `values` ([n]); pairs with a
 * non-finite value are skipped. Returns NaN when no pair qualifies.
 */
export function estimateKEff(points: ArrayLike<number>, values: ArrayLike<number>, n: number, d: number): number {
  let best = Number.NaN;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) continue;
    for (let j = i + 1; j < n; j++) {
      if (!Number.isFinite(values[j])) continue;
      let q = 0;
      for (let k = 0; k < d; k++) {
        const a = points[i * d + k] - points[j * d + k];
        q += a * a;
      }
      if (!(q > 0) || !Number.isFinite(q)) continue;
      const ratio = Math.abs(values[i] - values[j]) / Math.sqrt(q);
      if (Number.isNaN(best) || ratio > best) best = ratio;
    }
  }
  return best;
}

/**
 * The authors' K_eff: for each of `trials` independent sets of pairs (a_k, b_k), the max over the
 * set of |D(a_k) - D(b_k)| / |a_k - b_k|; K_eff is the mean of those maxima. `a` and `b` are
 * [trials * pairs, d] with values `va`, `vb`; pairs with a non-finite value or a = b are skipped.
 * Returns NaN when a trial has no usable pair.
 */
export function estimateKEffPaper(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  va: ArrayLike<number>,
  vb: ArrayLike<number>,
  trials: number,
  pairs: number,
  d: number,
): number {
  let total = 0;
  for (let t = 0; t < trials; t++) {
    let best = Number.NaN;
    for (let p = t * pairs; p < (t + 1) * pairs; p++) {
      if (!Number.isFinite(va[p]) || !Number.isFinite(vb[p])) continue;
      let q = 0;
      for (let k = 0; k < d; k++) q += (a[p * d + k] - b[p * d + k]) ** 2;
      if (!(q > 0) || !Number.isFinite(q)) continue;
      const ratio = Math.abs(va[p] - vb[p]) / Math.sqrt(q);
      if (Number.isNaN(best) || ratio > best) best = ratio;
    }
    total += best;
  }
  return total / trials;
}

/**
 * A robust K_eff: the q-quantile (0 < q <= 1) of |D(a_k) - D(b_k)| / |a_k - b_k| over `count`
 * random pairs (a and b [count, d]; unusable pairs skipped, NaN when none is left). Unlike the max,
 * it is not set by the few steepest pairs, which a sharp logit D has between modes.
 */
export function estimateKEffQuantile(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  va: ArrayLike<number>,
  vb: ArrayLike<number>,
  count: number,
  d: number,
  q: number,
): number {
  const slopes: number[] = [];
  for (let p = 0; p < count; p++) {
    if (!Number.isFinite(va[p]) || !Number.isFinite(vb[p])) continue;
    let s = 0;
    for (let k = 0; k < d; k++) s += (a[p * d + k] - b[p * d + k]) ** 2;
    if (!(s > 0) || !Number.isFinite(s)) continue;
    slopes.push(Math.abs(va[p] - vb[p]) / Math.sqrt(s));
  }
  if (slopes.length === 0) return Number.NaN;
  slopes.sort((x, y) => x - y);
  // The order statistic at rank ceil(q n) (1-based): q = 1 is the max.
  return slopes[Math.max(0, Math.ceil(q * slopes.length) - 1)];
}
