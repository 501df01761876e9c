/**
 * Runners of the selection methods (DRS, MH-GAN, SIR): they only score generator proposals with
 * logRatio (no gradients) and choose among them. Each runner draws latents z ~ p0, x = G(z),
 * scores s = logRatio(x) (DataTarget, or the `score` override, e.g. a calibrated or DRE-F-SP
 * critic), and hands the scores to the pure method code in methods/selection/. Rows whose x or
 * score is NaN/Inf are rejections: never accepted or selected, counted in summary.nonFinite.
 *
 * Random streams (results depend on seed, options and batchSize only):
 *   DRS  burn-in batch b: Rng(seed, 0, b); proposal batch j: Rng(seed, 1, j); its uniforms Rng(seed, 2, j)
 *   MH   chunk c: start Rng(seed, 0, c), steps Rng(seed, 1, c, t); restart round k: Rng(seed, 2, c, k), Rng(seed, 3, c, k, t)
 *   SIR  chunk c: pool batch b Rng(seed, 0, c, b); resampling Rng(seed, 1, c)
 */
import { RefineryError, fail } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import type { Tensor } from '../tensor.js';
import { DRS_DEFAULTS, type DrsOptions, drsCalibrate, drsDecide, percentileGamma, validateDrs } from '../methods/selection/drs.js';
import {
  MH_DEFAULTS,
  type MhOptions,
  type MhState,
  type ProposalBatch,
  type Proposer,
  mhInitFromProposals,
  mhInitFromReal,
  mhKernel,
  mhStuckChains,
  validateMh,
} from '../methods/selection/mh.js';
import { SIR_DEFAULTS, type SirOptions, sirSelect, validateSir } from '../methods/selection/sir.js';
import { runChain } from './driver.js';
import type { StepInfo } from './kernel.js';
import { samplePrior } from './latent.js';
import type { RefineOutput, RunContext } from './types.js';

/** Scores a batch x [rows, ...dataShape]: one logRatio estimate per row. */
export type ScoreFn = (x: Tensor) => Promise<Float32Array>;

export interface SelectionScoreOption {
  /** Replaces logRatio(x) from the pair's discriminator (calibrated D, DRE-F-SP critic, ...). */
  score?: ScoreFn;
}

export type DrsRunOptions = Partial<DrsOptions> & SelectionScoreOption;
export type MhRunOptions = Partial<MhOptions> & SelectionScoreOption;
export type SirRunOptions = Partial<SirOptions> & SelectionScoreOption;

/** A Proposer over a model pair that also scores arbitrary data and regenerates x from z. */
export interface PairProposer extends Proposer {
  scoreData(x: Float32Array, rows: number): Promise<Float32Array>;
  generate(z: Float32Array, rows: number): Promise<Float32Array>;
  release(): Promise<void>;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Proposals from a pair: z ~ p0 (samplePrior with the given rng), x = G(z), s = score(x) where
 * score defaults to DataTarget(pair).logRatio. A row with a non-finite x gets score NaN.
 */
export async function createProposer(pair: ModelPair, score?: ScoreFn): Promise<PairProposer> {
  const latentDim = pair.meta.latentDim;
  const dataShape = pair.meta.dataShape;
  const dataSize = sizeOf(dataShape);
  const gen = await GeneratorRunner.create(pair);
  let target: DataTarget | undefined;
  try {
    if (score === undefined) target = await DataTarget.create(pair, false);
  } catch (e) {
    await gen.release();
    throw e;
  }
  const scoreFn: ScoreFn = score ?? ((x) => target!.logRatio(x));
  const scoreData = async (x: Float32Array, rows: number): Promise<Float32Array> => {
    const raw = await scoreFn({ data: x, shape: [rows, ...dataShape] });
    if (raw.length !== rows) fail('shape_mismatch', 'score', `${rows} scores (one per row)`, `${raw.length}`);
    const s = Float32Array.from(raw);
    for (let i = 0; i < rows; i++) {
      for (let k = i * dataSize; k < (i + 1) * dataSize; k++) {
        if (!Number.isFinite(x[k])) {
          s[i] = NaN;
          break;
        }
      }
    }
    return s;
  };
  const generate = async (z: Float32Array, rows: number): Promise<Float32Array> => {
    const out = await gen.generate({ data: z, shape: [rows, latentDim] });
    if (out.data.length !== rows * dataSize) fail('shape_mismatch', 'generator output', `${rows * dataSize} values`, `${out.data.length}`);
    return out.data;
  };
  return {
    latentDim,
    dataSize,
    async propose(rows: number, rng: Rng): Promise<ProposalBatch> {
      const z = samplePrior(pair.meta.latentPrior, rows, latentDim, rng);
      const x = await generate(z, rows);
      return { z, x, score: await scoreData(x, rows) };
    },
    scoreData,
    generate,
    async release() {
      await gen.release();
      await target?.release();
    },
  };
}

function countNonFinite(s: ArrayLike<number>): number {
  let k = 0;
  for (let i = 0; i < s.length; i++) if (!Number.isFinite(s[i])) k++;
  return k;
}

function validateContext(ctx: RunContext): void {
  if (!Number.isInteger(ctx.n) || ctx.n < 1) fail('invalid_argument', 'n', 'a positive integer', String(ctx.n));
  if (!Number.isInteger(ctx.batchSize) || ctx.batchSize < 1) fail('invalid_argument', 'batchSize', 'a positive integer', String(ctx.batchSize));
  if (!Number.isInteger(ctx.seed)) fail('invalid_argument', 'seed', 'an integer', String(ctx.seed));
}

function checkCancelled(ctx: RunContext, method: string, done: string): void {
  if (ctx.hooks?.signal?.aborted) throw new RefineryError('cancelled', [{ path: method, expected: 'a finished run', received: `a stop after ${done}` }]);
}

/** Fill defaults (undefined entries of `given` do not override them). */
function withDefaults<T extends object>(defaults: T, given: Partial<T>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const [k, v] of Object.entries(given)) if (v !== undefined) out[k] = v;
  return out as T;
}

/**
 * Discriminator rejection sampling (methods/selection/drs.ts). Burn-in: score `burnIn` proposals,
 * M = their max logRatio, gamma from --gamma or --gamma-percentile. Then propose in batches of
 * ctx.batchSize, raising M to each batch's max (re-deriving a percentile gamma under the new M),
 * accepting with sigmoid(F - gamma) (or exp(s - M)
 * with `exact`), until n are accepted (the first n in proposal order are returned). More than
 * maxProposals (default 100 n) proposals after the burn-in is an error naming --max-proposals.
 *
 * summary: { method: 'drs', mode, acceptance, proposals, burnIn, accepted, M, burnInM,
 * gamma, gammaPercentile, epsilon, nonFinite }.
 */
export async function runDrs(ctx: RunContext, options: DrsRunOptions = {}): Promise<RefineOutput> {
  validateContext(ctx);
  const { score, ...rest } = options;
  const o = withDefaults(DRS_DEFAULTS, rest);
  validateDrs(o);
  const maxProposals = o.maxProposals ?? 100 * ctx.n;
  const t0 = performance.now();
  const proposer = await createProposer(ctx.pair, score);
  const { latentDim: d, dataSize: m } = proposer;
  const samples = new Float32Array(ctx.n * m);
  const latents = new Float32Array(ctx.n * d);
  try {
    const burn = new Float32Array(o.burnIn);
    for (let b = 0, done = 0; done < o.burnIn; b++) {
      checkCancelled(ctx, 'drs', `${done} burn-in proposals`);
      const rows = Math.min(ctx.batchSize, o.burnIn - done);
      burn.set((await proposer.propose(rows, new Rng(ctx.seed, 0, b))).score, done);
      done += rows;
    }
    const calib = drsCalibrate(burn, o);
    let params = { M: calib.M, gamma: calib.gamma, epsilon: calib.epsilon, exact: calib.exact };
    let nonFinite = o.burnIn - calib.finite;
    let proposals = 0;
    let acceptedTotal = 0;
    let filled = 0;
    for (let j = 0; filled < ctx.n; j++) {
      checkCancelled(ctx, 'drs', `${filled} accepted samples`);
      const rows = Math.min(ctx.batchSize, maxProposals - proposals);
      if (rows <= 0) {
        fail(
          'invalid_argument',
          'maxProposals',
          `enough proposals to accept ${ctx.n} samples (raise --max-proposals${o.exact ? '' : ', or lower --gamma / --gamma-percentile'})`,
          `${maxProposals} proposals gave ${acceptedTotal} acceptances`,
        );
      }
      const b = await proposer.propose(rows, new Rng(ctx.seed, 1, j));
      if (!o.exact && o.gamma === undefined) {
        let top = params.M;
        for (const v of b.score) if (Number.isFinite(v) && v > top) top = v;
        if (top > params.M) params = { ...params, M: top, gamma: percentileGamma(burn, top, o) };
      }
      const dec = drsDecide(b.score, params, new Rng(ctx.seed, 2, j));
      params = dec.params;
      proposals += rows;
      acceptedTotal += dec.accepted;
      nonFinite += dec.nonFinite;
      for (let i = 0; i < rows && filled < ctx.n; i++) {
        if (!dec.accept[i]) continue;
        samples.set(b.x.subarray(i * m, (i + 1) * m), filled * m);
        latents.set(b.z.subarray(i * d, (i + 1) * d), filled * d);
        filled++;
      }
      ctx.hooks?.onProgress?.(filled, ctx.n);
    }
    return {
      samples,
      latents,
      summary: {
        method: 'drs',
        mode: o.exact ? 'exact' : 'shifted',
        acceptance: acceptedTotal / proposals,
        proposals,
        burnIn: o.burnIn,
        accepted: acceptedTotal,
        M: params.M,
        burnInM: calib.M,
        gamma: params.gamma ?? null,
        gammaPercentile: o.exact || o.gamma !== undefined ? null : o.gammaPercentile,
        epsilon: o.exact ? null : o.epsilon,
        nonFinite,
      },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await proposer.release();
  }
}

/**
 * MH-GAN (methods/selection/mh.ts): one independence-MH chain of `chainLength` steps per output
 * sample, ctx.batchSize chains at a time. With real data (init 'auto' + ctx.real, or 'real') each
 * chain starts at a real sample drawn uniformly with replacement from ctx.real; chains that never
 * leave it (or never hold a finite score) are restarted from a generator draw for another
 * `chainLength` steps, up to maxRestarts rounds, so real samples are never returned. Chains still
 * stuck after that are an invalid_model error (the scores are not finite).
 *
 * summary: { method: 'mh', init, chainLength, acceptance (accepted / chain steps, restarts
 * included), proposals, restarts (chains restarted), neverMovedFraction (of returned chains that
 * kept their generator start), meanScore (of the returned samples), nonFinite (starts and proposals with a non-finite score) }.
 */
export async function runMh(ctx: RunContext, options: MhRunOptions = {}): Promise<RefineOutput> {
  validateContext(ctx);
  const { score, ...rest } = options;
  const o = withDefaults(MH_DEFAULTS, rest);
  validateMh(o);
  const dataSize = sizeOf(ctx.pair.meta.dataShape);
  const useReal = o.init === 'real' || (o.init === 'auto' && ctx.real !== undefined && ctx.real.length > 0);
  let realRows = 0;
  if (useReal) {
    if (ctx.real === undefined || ctx.real.length === 0) fail('invalid_argument', 'real', 'held-out real samples when --mh-init real', 'none');
    if (ctx.real.length % dataSize !== 0)
      fail('shape_mismatch', 'real', `rows of ${ctx.pair.meta.dataShape.join('x')} = ${dataSize} values`, `${ctx.real.length} values`);
    realRows = ctx.real.length / dataSize;
  }
  const K = o.chainLength;
  const t0 = performance.now();
  const proposer = await createProposer(ctx.pair, score);
  const { latentDim: d, dataSize: m } = proposer;
  const kernel = mhKernel(proposer);
  const samples = new Float32Array(ctx.n * m);
  const latents = new Float32Array(ctx.n * d);
  let steps = 0;
  let accepted = 0;
  let nonFinite = 0;
  const tally = (infos: StepInfo[], chains: number) => {
    for (const info of infos) {
      accepted += info.accepted;
      nonFinite += info.nonFinite;
    }
    steps += infos.length * chains;
  };
  let proposals = 0;
  let restarted = 0;
  let neverMoved = 0;
  let scoreSum = 0;
  try {
    for (let c = 0, start = 0; start < ctx.n; c++, start += ctx.batchSize) {
      const rows = Math.min(ctx.batchSize, ctx.n - start);
      let init: MhState;
      if (useReal) {
        const rng = new Rng(ctx.seed, 0, c);
        const x0 = new Float32Array(rows * m);
        for (let i = 0; i < rows; i++) {
          const r = rng.int(realRows);
          x0.set(ctx.real!.subarray(r * m, (r + 1) * m), i * m);
        }
        init = mhInitFromReal(x0, await proposer.scoreData(x0, rows), d, m);
      } else {
        init = mhInitFromProposals(await proposer.propose(rows, new Rng(ctx.seed, 0, c)), d, m);
        proposals += rows;
      }
      nonFinite += countNonFinite(init.score);
      const hooks = {
        signal: ctx.hooks?.signal,
        onStep: (t: number) => ctx.hooks?.onProgress?.(start * K + rows * t, ctx.n * K),
      };
      const run = await runChain(kernel, init, K, [ctx.seed, 1, c], hooks);
      tally(run.infos, rows);
      proposals += rows * K;
      const state = run.state;
      for (let round = 1; round <= o.maxRestarts; round++) {
        const stuck = mhStuckChains(state);
        if (stuck.length === 0) break;
        restarted += stuck.length;
        const sub0 = mhInitFromProposals(await proposer.propose(stuck.length, new Rng(ctx.seed, 2, c, round)), d, m);
        nonFinite += countNonFinite(sub0.score);
        const subRun = await runChain(kernel, sub0, K, [ctx.seed, 3, c, round], { signal: ctx.hooks?.signal });
        tally(subRun.infos, stuck.length);
        const sub = subRun.state;
        proposals += stuck.length * (K + 1);
        stuck.forEach((i, k) => {
          state.x.set(sub.x.subarray(k * m, (k + 1) * m), i * m);
          state.z.set(sub.z.subarray(k * d, (k + 1) * d), i * d);
          state.score[i] = sub.score[k];
          state.atReal[i] = sub.atReal[k];
          state.moves[i] = sub.moves[k];
        });
      }
      const left = mhStuckChains(state);
      if (left.length > 0) {
        fail(
          'invalid_model',
          'discriminator',
          `finite logRatio scores (needed to leave ${useReal ? 'real starts' : 'the start'})`,
          `${left.length} chains without a finite generated state after ${K} steps and ${o.maxRestarts} restarts`,
        );
      }
      for (let i = 0; i < rows; i++) {
        if (state.moves[i] === 0) neverMoved++;
        scoreSum += state.score[i];
      }
      samples.set(state.x, start * m);
      latents.set(state.z, start * d);
    }
    return {
      samples,
      latents,
      summary: {
        method: 'mh',
        init: useReal ? 'real' : 'generator',
        chainLength: K,
        acceptance: accepted / steps,
        proposals,
        restarts: restarted,
        neverMovedFraction: neverMoved / ctx.n,
        meanScore: scoreSum / ctx.n,
        nonFinite,
      },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await proposer.release();
  }
}

/**
 * Sampling importance resampling (methods/selection/sir.ts): for each chunk of r <= ctx.batchSize
 * outputs, score a pool of r * poolMultiplier proposals (in batches of ctx.batchSize, keeping
 * their latents and scores), resample r pool members multinomially with weights exp(s - max s),
 * and return x = G(z) of the chosen latents (regenerated, so the pool's samples are never held).
 *
 * summary: { method: 'sir', poolMultiplier, proposals, essPerSample (pool ESS, summed over chunks,
 * per output sample), essFraction (ESS / proposals), uniqueFraction (distinct pool members per
 * output sample), acceptance (distinct selected / proposals), nonFinite }. Counts that add up
 * over runs (proposals, accepted, restarts, nonFinite) are counts; the rest are per-sample rates,
 * so a row-weighted average over chunked runs (run/stream.ts) stays correct.
 */
export async function runSir(ctx: RunContext, options: SirRunOptions = {}): Promise<RefineOutput> {
  validateContext(ctx);
  const { score, ...rest } = options;
  const o = withDefaults(SIR_DEFAULTS, rest);
  validateSir(o);
  const t0 = performance.now();
  const proposer = await createProposer(ctx.pair, score);
  const { latentDim: d, dataSize: m } = proposer;
  const samples = new Float32Array(ctx.n * m);
  const latents = new Float32Array(ctx.n * d);
  let proposals = 0;
  let ess = 0;
  let unique = 0;
  let nonFinite = 0;
  try {
    for (let c = 0, start = 0; start < ctx.n; c++, start += ctx.batchSize) {
      const rows = Math.min(ctx.batchSize, ctx.n - start);
      const poolSize = rows * o.poolMultiplier;
      const poolZ = new Float32Array(poolSize * d);
      const poolS = new Float32Array(poolSize);
      for (let b = 0, done = 0; done < poolSize; b++) {
        checkCancelled(ctx, 'sir', `${start} samples`);
        const k = Math.min(ctx.batchSize, poolSize - done);
        const batch = await proposer.propose(k, new Rng(ctx.seed, 0, c, b));
        poolZ.set(batch.z, done * d);
        poolS.set(batch.score, done);
        done += k;
      }
      proposals += poolSize;
      const sel = sirSelect(poolS, rows, new Rng(ctx.seed, 1, c));
      ess += sel.ess;
      unique += sel.unique;
      nonFinite += sel.nonFinite;
      const z = new Float32Array(rows * d);
      sel.indices.forEach((j, i) => {
        z.set(poolZ.subarray(j * d, (j + 1) * d), i * d);
      });
      latents.set(z, start * d);
      samples.set(await proposer.generate(z, rows), start * m);
      ctx.hooks?.onProgress?.(start + rows, ctx.n);
    }
    return {
      samples,
      latents,
      summary: {
        method: 'sir',
        poolMultiplier: o.poolMultiplier,
        proposals,
        essPerSample: ess / ctx.n,
        essFraction: ess / proposals,
        uniqueFraction: unique / ctx.n,
        acceptance: unique / proposals,
        nonFinite,
      },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await proposer.release();
  }
}
