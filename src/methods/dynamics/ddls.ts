/**
 * Discriminator-driven latent sampling (DDLS, Che et al. 2020): Langevin dynamics on the latent
 * energy E(z) = -log p0(z) - logRatio(G(z)), whose stationary law is p0(z) exp(logRatio(G(z)))/Z,
 * i.e. the latent law that makes G's pushforward match p_data when logRatio is exact.
 *
 *   z' = z - (eps_t / 2) grad E(z) + noise * sqrt(eps_t) * xi,   eps_t = stepSize * decay^t
 *
 * With `metropolis` the proposal is accepted with the MALA probability (exact for any step size;
 * requires noise = 1). Uniform priors keep z in [-1, 1]^d (reflection; MALA rejects outside moves).
 */
import { fail } from '../../errors.js';
import type { LatentPrior } from '../../models/meta.js';
import type { RowStreams } from '../../rng.js';
import type { Kernel, StepInfo } from '../../run/kernel.js';
import type { LatentEvaluation } from '../../targets/latent.js';
import type { Tensor } from '../../tensor.js';

export interface DdlsOptions {
  stepSize: number;
  /** Noise multiplier: 1 is Langevin; 0 is gradient descent on E. */
  noise: number;
  /** Step-size decay per step (1 = constant). */
  decay: number;
  metropolis: boolean;
}

export const DDLS_DEFAULTS: DdlsOptions = { stepSize: 0.01, noise: 1, decay: 1, metropolis: false };

export interface DdlsState {
  /** Latent positions, [n, d] row-major. */
  position: Float32Array;
  n: number;
  d: number;
  /** Steps taken. */
  t: number;
  energy: Float32Array;
  grad: Float32Array;
  logRatio: Float32Array;
}

/** Anything that evaluates E, grad E and logRatio on a batch of latents. */
export interface LatentEnergy {
  evaluate(z: Tensor): Promise<LatentEvaluation>;
}

export function validateDdls(o: DdlsOptions, prior: LatentPrior): void {
  if (!(o.stepSize > 0) || !Number.isFinite(o.stepSize)) fail('invalid_argument', 'stepSize', 'a positive number', String(o.stepSize));
  if (!(o.noise >= 0)) fail('invalid_argument', 'noise', 'a non-negative number', String(o.noise));
  if (!(o.decay > 0 && o.decay <= 1)) fail('invalid_argument', 'decay', 'a number in (0, 1]', String(o.decay));
  if (o.metropolis && o.noise !== 1) fail('invalid_argument', 'noise', '1 when --metropolis is set (MALA needs the exact Langevin noise)', String(o.noise));
  void prior;
}

export async function ddlsInit(target: LatentEnergy, z: Tensor): Promise<DdlsState> {
  const ev = await target.evaluate(z);
  return { position: Float32Array.from(z.data), n: z.shape[0], d: z.shape[1], t: 0, energy: ev.energy, grad: ev.grad, logRatio: ev.logRatio };
}

function reflect(v: number): number {
  // Fold onto [-1, 1] (period 4).
  let y = (((v + 1) % 4) + 4) % 4;
  if (y > 2) y = 4 - y;
  return y - 1;
}

export function ddlsKernel(target: LatentEnergy, prior: LatentPrior, options: DdlsOptions): Kernel<DdlsState> {
  validateDdls(options, prior);
  const box = prior === 'uniform[-1,1]';
  return {
    name: 'ddls',
    async step(s, rows: RowStreams) {
      const { n, d } = s;
      const eps = options.stepSize * options.decay ** s.t;
      const sd = options.noise * Math.sqrt(eps);
      const prop = new Float32Array(n * d);
      const outside = new Uint8Array(n);
      // Row r's noise, then its MALA uniform, come from its own stream.
      const streams = Array.from({ length: n }, (_, r) => rows.row(r));
      for (let i = 0; i < n * d; i++) {
        let v = s.position[i] - 0.5 * eps * s.grad[i] + sd * streams[Math.floor(i / d)].normal();
        if (box && (v < -1 || v > 1)) {
          if (options.metropolis) outside[Math.floor(i / d)] = 1;
          else v = reflect(v);
        }
        prop[i] = v;
      }
      const ev = await target.evaluate({ data: prop, shape: [n, d] });
      const position = Float32Array.from(s.position);
      const energy = Float32Array.from(s.energy);
      const grad = Float32Array.from(s.grad);
      const logRatio = Float32Array.from(s.logRatio);
      let accepted = 0;
      let nonFinite = 0;
      let gradNorm = 0;
      let meanEnergy = 0;
      for (let r = 0; r < n; r++) {
        let finite = Number.isFinite(ev.energy[r]);
        let g2 = 0;
        for (let k = 0; k < d; k++) {
          const gk = ev.grad[r * d + k];
          if (!Number.isFinite(gk)) finite = false;
          g2 += gk * gk;
        }
        let accept = finite && !outside[r];
        if (!finite) nonFinite++;
        if (accept && options.metropolis) {
          // log q(z | z') - log q(z' | z) for the Langevin proposal.
          let fwd = 0;
          let bwd = 0;
          for (let k = 0; k < d; k++) {
            const i = r * d + k;
            const a = prop[i] - s.position[i] + 0.5 * eps * s.grad[i];
            const b = s.position[i] - prop[i] + 0.5 * eps * ev.grad[i];
            fwd += a * a;
            bwd += b * b;
          }
          // A non-finite current energy counts as +Inf, so a row that starts at NaN can still move.
          const logAlpha = (Number.isFinite(s.energy[r]) ? s.energy[r] : Infinity) - ev.energy[r] + (fwd - bwd) / (2 * eps);
          accept = Math.log(streams[r].uniform()) < logAlpha;
        }
        if (accept) {
          accepted++;
          position.set(prop.subarray(r * d, (r + 1) * d), r * d);
          grad.set(ev.grad.subarray(r * d, (r + 1) * d), r * d);
          energy[r] = ev.energy[r];
          logRatio[r] = ev.logRatio[r];
          gradNorm += Math.sqrt(g2);
        } else {
          let o2 = 0;
          for (let k = 0; k < d; k++) o2 += grad[r * d + k] ** 2;
          gradNorm += Math.sqrt(o2);
        }
        meanEnergy += energy[r];
      }
      const info: StepInfo = { acceptance: accepted / n, gradNorm: gradNorm / n, nonFinite, energy: meanEnergy / n, stepSize: eps };
      return { state: { position, n, d, t: s.t + 1, energy, grad, logRatio }, info };
    },
  };
}
