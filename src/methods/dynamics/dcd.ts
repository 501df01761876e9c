/**
 * Discriminator Contrastive Divergence (DCD, Song et al. 2020, "Discriminator Contrastive
 * Divergence: Semi-Amortized Generative Modeling by Exploring Energy of the Discriminator"):
 * Langevin dynamics in sample space driven by the discriminator, started at generator samples.
 *
 *   x_0 = G(z),   x_{t+1} = Pi_box( x_t + (eps / 2) * clip_c(grad_x logRatio(x_t)) + noise * sqrt(eps) * xi ),
 *   xi ~ N(0, I),   clip_c(g) = g * min(1, c / |g|)  (per row),
 *
 * where logRatio is the critic/discriminator output as an estimate of log p_data(x) / p_g(x)
 * (a WGAN critic is used as is, i.e. the energy is -critic). In the energy-based view the
 * refined law is p_g(x) exp(logRatio(x)) / Z, whose score is grad log p_g + grad logRatio; p_g's
 * density is unknown in sample space, so DCD drops grad log p_g: with noise = 1 and small eps the
 * chain's stationary law is exp(logRatio(x)) / Z (NOT p_data unless p_g is flat), and with
 * noise = 0 it is gradient ascent on logRatio. The generator only supplies the starting points.
 *
 * Rows whose logRatio or gradient is NaN/Inf at a proposed point reject the move (they keep their
 * previous position, and are counted in `nonFinite`); rows whose starting value is non-finite
 * never move.
 */
import { fail } from '../../errors.js';
import type { RowStreams } from '../../rng.js';
import type { Kernel, StepInfo } from '../../run/kernel.js';
import type { Tensor } from '../../tensor.js';

/** Anything that evaluates logRatio(x) and its gradient on a batch (a DataTarget does). */
export interface RatioField {
  logRatioAndGrad(x: Tensor): Promise<{ logRatio: Float32Array; grad: Float32Array }>;
}

export interface DcdOptions {
  /** eps: the Langevin step size. */
  stepSize: number;
  /** Noise multiplier: 1 is Langevin; 0 is gradient ascent on logRatio. */
  noise: number;
  /** Per-row clipping threshold c of |grad logRatio| (Infinity = no clipping). */
  clip: number;
  /** Clamp every coordinate into [lo, hi] after each step (e.g. [-1, 1] for tanh images). */
  box?: [number, number];
}

export const DCD_DEFAULTS: DcdOptions = { stepSize: 0.01, noise: 1, clip: 10 };

export interface DcdState {
  /** Positions, [n, ...rowShape] flattened to [n, d] row-major. */
  position: Float32Array;
  n: number;
  /** Elements per row. */
  d: number;
  /** The tensor shape of one row (dataShape), for feeding the field. */
  rowShape: number[];
  /** Steps taken. */
  t: number;
  /** logRatio at `position`. */
  logRatio: Float32Array;
  /** grad logRatio at `position`. */
  grad: Float32Array;
}

export function validateDcd(o: DcdOptions): void {
  if (!(o.stepSize > 0) || !Number.isFinite(o.stepSize)) fail('invalid_argument', 'stepSize', 'a positive number', String(o.stepSize));
  if (!(o.noise >= 0) || !Number.isFinite(o.noise)) fail('invalid_argument', 'noise', 'a non-negative number', String(o.noise));
  if (!(o.clip > 0)) fail('invalid_argument', 'clip', 'a positive number (or Infinity for no clipping)', String(o.clip));
  if (o.box !== undefined) {
    const [lo, hi] = o.box;
    if (!(Number.isFinite(lo) && Number.isFinite(hi) && lo < hi)) fail('invalid_argument', 'box', 'two finite numbers lo < hi', `${lo},${hi}`);
  }
}

/** Evaluate the field at the starting points x = G(z), [n, ...rowShape]. */
export async function dcdInit(field: RatioField, x: Tensor): Promise<DcdState> {
  const n = x.shape[0];
  const d = n === 0 ? 0 : x.data.length / n;
  if (!Number.isInteger(d) || x.data.length !== n * x.shape.slice(1).reduce((a, b) => a * b, 1)) {
    fail('shape_mismatch', 'dcd samples', `data of length n * prod(shape[1:]) for shape [${x.shape.join(', ')}]`, `length ${x.data.length}`);
  }
  const ev = await field.logRatioAndGrad(x);
  return {
    position: Float32Array.from(x.data),
    n,
    d,
    rowShape: x.shape.slice(1),
    t: 0,
    logRatio: Float32Array.from(ev.logRatio),
    grad: Float32Array.from(ev.grad),
  };
}

function rowFinite(lr: number, grad: Float32Array, off: number, d: number): boolean {
  if (!Number.isFinite(lr)) return false;
  for (let k = 0; k < d; k++) if (!Number.isFinite(grad[off + k])) return false;
  return true;
}

/**
 * One DCD step per call. Info: acceptance 1 (unadjusted; rejected non-finite moves are counted
 * in nonFinite, not in acceptance), gradNorm = mean |grad logRatio| before clipping over rows that
 * moved, clipped = fraction of those rows whose gradient was clipped, logRatio = mean logRatio of
 * the new positions (finite rows), stepSize.
 */
export function dcdKernel(field: RatioField, options: DcdOptions): Kernel<DcdState> {
  validateDcd(options);
  const { stepSize: eps, noise, clip, box } = options;
  const sd = noise * Math.sqrt(eps);
  return {
    name: 'dcd',
    async step(s, rows: RowStreams) {
      const { n, d } = s;
      const prop = Float32Array.from(s.position);
      const moving = new Uint8Array(n);
      let gradNorm = 0;
      let clipped = 0;
      let moved = 0;
      for (let r = 0; r < n; r++) {
        const off = r * d;
        if (!rowFinite(s.logRatio[r], s.grad, off, d)) continue;
        let g2 = 0;
        for (let k = 0; k < d; k++) g2 += s.grad[off + k] * s.grad[off + k];
        const norm = Math.sqrt(g2);
        const scale = norm > clip ? clip / norm : 1;
        if (scale < 1) clipped++;
        gradNorm += norm;
        moved++;
        moving[r] = 1;
        const drift = 0.5 * eps * scale;
        const rng = sd > 0 ? rows.row(r) : undefined;
        for (let k = 0; k < d; k++) {
          let v = s.position[off + k] + drift * s.grad[off + k];
          if (rng) v += sd * rng.normal();
          if (box) v = v < box[0] ? box[0] : v > box[1] ? box[1] : v;
          prop[off + k] = v;
        }
      }
      const ev = await field.logRatioAndGrad({ data: prop, shape: [n, ...s.rowShape] });
      const position = Float32Array.from(s.position);
      const logRatio = Float32Array.from(s.logRatio);
      const grad = Float32Array.from(s.grad);
      let nonFinite = 0;
      let lrSum = 0;
      let lrCount = 0;
      for (let r = 0; r < n; r++) {
        const off = r * d;
        if (!moving[r]) nonFinite++;
        else if (!rowFinite(ev.logRatio[r], ev.grad, off, d)) nonFinite++;
        else {
          position.set(prop.subarray(off, off + d), off);
          grad.set(ev.grad.subarray(off, off + d), off);
          logRatio[r] = ev.logRatio[r];
        }
        if (Number.isFinite(logRatio[r])) {
          lrSum += logRatio[r];
          lrCount++;
        }
      }
      const info: StepInfo = {
        acceptance: 1,
        gradNorm: moved > 0 ? gradNorm / moved : 0,
        nonFinite,
        clipped: moved > 0 ? clipped / moved : 0,
        logRatio: lrCount > 0 ? lrSum / lrCount : Number.NaN,
        stepSize: eps,
      };
      return { state: { position, n, d, rowShape: s.rowShape, t: s.t + 1, logRatio, grad }, info };
    },
  };
}
