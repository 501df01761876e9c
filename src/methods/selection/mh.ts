/**
 * MH-GAN (Turner et al. 2019, "Metropolis-Hastings Generative Adversarial Networks"): an
 * independence Metropolis-Hastings chain whose proposals are generator draws x' = G(z), z ~ p0,
 * targeting p_g(x) r(x) with r = exp(logRatio) (= D/(1-D) for a calibrated D). The proposal law
 * is p_g itself, so the Hastings ratio is
 *
 *   alpha(x -> x') = min(1, [p_g(x') r(x') p_g(x)] / [p_g(x) r(x) p_g(x')]) = min(1, r(x') / r(x))
 *                  = min(1, exp(s(x') - s(x))).
 *
 * When r is exact, p_g r = p_data. One chain per output sample, batched across chains; each step
 * draws one proposal per chain. A state whose score is non-finite (only possible at the start) is
 * left at the first finite proposal; a proposal with a non-finite score is always rejected.
 *
 * The kernel is pure (init + step); the driver (run/driver.ts runChain) loops over steps. States
 * are latents and scores: the driver generates the samples of the chains it returns.
 */
import { fail } from '../../errors.js';
import type { Rng } from '../../rng.js';
import type { Kernel, StepInfo } from '../../run/kernel.js';

/** One batch of generator proposals: latents and the scores of their samples (non-finite = unusable). */
export interface ProposalBatch {
  /** [rows, latentDim]. */
  z: Float32Array;
  /** logRatio(G(z)) per row (float32 from the model; NaN/Inf mark rows that must never be selected). */
  score: Float32Array;
}

/** Draws latents from the prior and scores their samples. */
export interface Proposer {
  readonly latentDim: number;
  /** One proposal per stream: row r's latent drawn from streams[r] (which advances). */
  propose(streams: Rng[]): Promise<ProposalBatch>;
}

export interface MhOptions {
  /** Steps (proposals) per chain, K (CLI --chain-length). */
  chainLength: number;
  /**
   * Where chains start (CLI --mh-init): 'real' (held-out real samples, the paper's trick; needs
   * real data), 'generator' (a generator draw), 'auto' (real when real data is given).
   */
  init: 'auto' | 'real' | 'generator';
  /** Rounds of restarting chains that never left a real start or never held a finite score (CLI --max-restarts). */
  maxRestarts: number;
}

/**
 * Defaults: K = 100 (the paper uses 640; each output costs K generator + discriminator
 * evaluations, and an independence sampler is within (1 - 1/W)^K of its target in total
 * variation, W = sup r / E_pg r, which is below 1% at K = 100 for W up to ~20).
 */
export const MH_DEFAULTS: MhOptions = { chainLength: 100, init: 'auto', maxRestarts: 3 };

export function validateMh(o: MhOptions): void {
  if (!Number.isInteger(o.chainLength) || o.chainLength < 1) fail('invalid_argument', 'chainLength', 'a positive integer', String(o.chainLength));
  if (!['auto', 'real', 'generator'].includes(o.init)) fail('invalid_argument', 'mhInit', 'one of auto, real, generator', String(o.init));
  if (!Number.isInteger(o.maxRestarts) || o.maxRestarts < 0) fail('invalid_argument', 'maxRestarts', 'a non-negative integer', String(o.maxRestarts));
}

export interface MhState {
  /** Chains. */
  n: number;
  latentDim: number;
  /** Steps taken. */
  t: number;
  /** The current states' latents [n, latentDim] (NaN for a real start). */
  z: Float32Array;
  /** Their scores (float64 copy of the model's float32). */
  score: Float64Array;
  /** 1 while chain i still sits at its real starting sample. */
  atReal: Uint8Array;
  /** Accepted proposals per chain. */
  moves: Int32Array;
}

/** Chains starting at generator draws (a proposal batch). */
export function mhInitFromProposals(b: ProposalBatch, latentDim: number): MhState {
  const n = b.score.length;
  return {
    n,
    latentDim,
    t: 0,
    z: Float32Array.from(b.z),
    score: Float64Array.from(b.score),
    atReal: new Uint8Array(n),
    moves: new Int32Array(n),
  };
}

/** Chains starting at real samples, given their scores (the driver keeps the samples). */
export function mhInitFromReal(score: ArrayLike<number>, latentDim: number): MhState {
  const n = score.length;
  return {
    n,
    latentDim,
    t: 0,
    z: new Float32Array(n * latentDim).fill(NaN),
    score: Float64Array.from(score),
    atReal: new Uint8Array(n).fill(1),
    moves: new Int32Array(n),
  };
}

/**
 * One independence-MH step for every chain: draw x'_i = G(z'_i) from chain i's stream, then accept
 * when log u_i < s(x'_i) - s(x_i) (u_i ~ U[0, 1) from the same stream after the proposal).
 */
export function mhKernel(proposer: Proposer): Kernel<MhState> {
  return {
    name: 'mh',
    async step(s, rows) {
      const { n, latentDim: d } = s;
      const streams = Array.from({ length: n }, (_, r) => rows.row(r));
      const b = await proposer.propose(streams);
      if (b.score.length !== n || b.z.length !== n * d) fail('internal', 'mh proposer', `${n} proposals`, `${b.score.length} scores, ${b.z.length} latents`);
      const z = Float32Array.from(s.z);
      const score = Float64Array.from(s.score);
      const atReal = Uint8Array.from(s.atReal);
      const moves = Int32Array.from(s.moves);
      let accepted = 0;
      let nonFinite = 0;
      let scoreSum = 0;
      let finiteStates = 0;
      for (let i = 0; i < n; i++) {
        const u = streams[i].uniform();
        const prop = b.score[i];
        let accept = false;
        if (!Number.isFinite(prop)) nonFinite++;
        else if (!Number.isFinite(score[i])) accept = true;
        else accept = Math.log(u) < prop - score[i];
        if (accept) {
          accepted++;
          z.set(b.z.subarray(i * d, (i + 1) * d), i * d);
          score[i] = prop;
          atReal[i] = 0;
          moves[i]++;
        }
        if (Number.isFinite(score[i])) {
          scoreSum += score[i];
          finiteStates++;
        }
      }
      // accepted: count of accepted proposals; score: mean logRatio of the chains' current states (over those with a finite one).
      const info: StepInfo = { acceptance: accepted / n, gradNorm: 0, nonFinite, accepted, score: finiteStates > 0 ? scoreSum / finiteStates : 0 };
      return { state: { n, latentDim: d, t: s.t + 1, z, score, atReal, moves }, info };
    },
  };
}

/** Chains to restart: still at their real start, or never holding a finite score. */
export function mhStuckChains(s: MhState): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.n; i++) if (s.atReal[i] || !Number.isFinite(s.score[i])) out.push(i);
  return out;
}
