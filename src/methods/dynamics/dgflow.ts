/**
 * Discriminator Gradient flow (DGflow, Ansari, Ang & Soh, "Refining Deep Generative Models via
 * Discriminator Gradient Flow", ICLR 2021): the Wasserstein gradient flow of the entropy-
 * regularised f-divergence F(rho) = D_f(rho || mu) + gamma * int rho log rho between the current
 * sample law rho and the data law mu. Its particle form is the McKean-Vlasov SDE
 *
 *   dx_t = -grad_x f'(rho_t(x) / mu(x)) dt + sqrt(2 gamma) dW_t.
 *
 * DGflow freezes the ratio at t = 0, rho_t / mu ~ p_g / p_data = exp(-logRatio) (the
 * discriminator's estimate), and simulates the SDE by Euler-Maruyama:
 *
 *   x_{k+1} = x_k + eta * drift(x_k) + sqrt(2 gamma eta) * xi_k,   drift = -grad f'(exp(-logRatio)),
 *
 * with the drift from src/targets/flow.ts (KL: grad logRatio; JS: sigmoid(logRatio) grad logRatio;
 * log D: sigmoid(-logRatio) grad logRatio). The frozen SDE is Langevin dynamics on the potential
 * V = f'(exp(-logRatio)) at temperature gamma, so if run to stationarity its law is
 * proportional to exp(-V / gamma) where that is normalisable (KL: r^{1/gamma} with r = p_data/p_g);
 * DGflow instead runs it for a short time (the released configurations: eta = 0.1, gamma = 0.01,
 * 25 steps), where the frozen ratio is still a good approximation of rho_t / mu.
 *
 * Unadjusted dynamics: every finite move is taken (acceptance 1). A row whose new logRatio or
 * drift is NaN/Inf keeps its previous position (and drift) and is counted in `nonFinite`. With
 * `box` (latent space under a uniform[-1, 1] prior) moves are reflected into [-1, 1].
 */
import { fail } from '../../errors.js';
import type { RowStreams } from '../../rng.js';
import type { Kernel, StepInfo } from '../../run/kernel.js';
import type { DriftField } from '../../targets/flow.js';
import type { Tensor } from '../../tensor.js';

export interface DgflowKernelOptions {
  /** Euler-Maruyama step eta (> 0). */
  stepSize: number;
  /** Entropy regulariser gamma (>= 0): the noise is sqrt(2 gamma eta) xi; 0 is the deterministic flow. */
  noise: number;
  /** Reflect positions into [-1, 1] (uniform latent prior). */
  box?: boolean;
}

export interface DgflowState {
  /** Positions [n, ...rowShape] row-major (latents z or data x). */
  position: Float32Array;
  n: number;
  /** Shape of one row (e.g. [latentDim] or the data shape). */
  rowShape: number[];
  /** Steps taken. */
  t: number;
  /** Drift at `position`, same layout. */
  drift: Float32Array;
  /** logRatio at `position`, [n]. */
  logRatio: Float32Array;
}

export function validateDgflowKernel(o: DgflowKernelOptions): void {
  if (!(o.stepSize > 0) || !Number.isFinite(o.stepSize)) fail('invalid_argument', 'stepSize', 'a positive number', String(o.stepSize));
  if (!(o.noise >= 0) || !Number.isFinite(o.noise)) fail('invalid_argument', 'noise', 'a non-negative number', String(o.noise));
}

/** Evaluate the field at the starting positions x [n, ...rowShape]. */
export async function dgflowInit(field: DriftField, x: Tensor): Promise<DgflowState> {
  const ev = await field.evaluate(x);
  return { position: Float32Array.from(x.data), n: x.shape[0], rowShape: x.shape.slice(1), t: 0, drift: ev.drift, logRatio: ev.logRatio };
}

function reflect(v: number): number {
  // Fold onto [-1, 1] (period 4).
  let y = (((v + 1) % 4) + 4) % 4;
  if (y > 2) y = 4 - y;
  return y - 1;
}

/** The Euler-Maruyama kernel of the frozen DGflow SDE (see the file comment). */
export function dgflowKernel(field: DriftField, options: DgflowKernelOptions): Kernel<DgflowState> {
  validateDgflowKernel(options);
  const eta = options.stepSize;
  const sd = Math.sqrt(2 * options.noise * eta);
  const box = options.box === true;
  return {
    name: 'dgflow',
    async step(s, rows: RowStreams) {
      const { n } = s;
      const d = s.rowShape.reduce((a, b) => a * b, 1);
      const prop = new Float32Array(n * d);
      for (let r = 0; r < n; r++) {
        const rng = sd > 0 ? rows.row(r) : undefined;
        for (let i = r * d; i < (r + 1) * d; i++) {
          let v = s.position[i] + eta * s.drift[i];
          if (rng) v += sd * rng.normal();
          prop[i] = box ? reflect(v) : v;
        }
      }
      const ev = await field.evaluate({ data: prop, shape: [n, ...s.rowShape] });
      const position = Float32Array.from(s.position);
      const drift = Float32Array.from(s.drift);
      const logRatio = Float32Array.from(s.logRatio);
      let nonFinite = 0;
      let finiteRows = 0;
      let gradNorm = 0;
      let meanLogRatio = 0;
      for (let r = 0; r < n; r++) {
        // The norm of the drift this step moved with.
        let used = 0;
        for (let k = r * d; k < (r + 1) * d; k++) used += s.drift[k] * s.drift[k];
        let ok = Number.isFinite(ev.logRatio[r]);
        for (let k = r * d; ok && k < (r + 1) * d; k++) ok = Number.isFinite(ev.drift[k]) && Number.isFinite(prop[k]);
        if (ok) {
          position.set(prop.subarray(r * d, (r + 1) * d), r * d);
          drift.set(ev.drift.subarray(r * d, (r + 1) * d), r * d);
          logRatio[r] = ev.logRatio[r];
        } else {
          nonFinite++;
        }
        if (Number.isFinite(used) && Number.isFinite(logRatio[r])) {
          finiteRows++;
          gradNorm += Math.sqrt(used);
          meanLogRatio += logRatio[r];
        }
      }
      const info: StepInfo = {
        acceptance: 1,
        gradNorm: finiteRows > 0 ? gradNorm / finiteRows : 0,
        nonFinite,
        logRatio: finiteRows > 0 ? meanLogRatio / finiteRows : 0,
        stepSize: eta,
      };
      return { state: { position, n, rowShape: s.rowShape, t: s.t + 1, drift, logRatio }, info };
    },
  };
}
