/**
 * Runners of the selection methods (DRS, MH-GAN, SIR): they only score generator proposals with
 * logRatio (no gradients) and choose among them. Each runner draws latents z ~ p0, scores
 * s = logRatio(G(z)) (LatentScorer: G then D in one session, or G then the `score` override, e.g.
 * a calibrated or DRE-F-SP critic), and hands the scores to the pure method code in
 * methods/selection/; it keeps the chosen latents and generates their samples (G's output is
 * the same row by row whatever the batch). Rows whose x or score is NaN/Inf are rejections:
 * never accepted or selected, counted in summary.nonFinite.
 *
 * Random streams, keyed by the index of what they draw, so that output row i depends only on
 * (seed, i) and never on how the run is cut into batches, chunks or shards:
 *   DRS  burn-in proposal j: Rng(seed, 0, j) (the same for every part of a run: M and gamma are
 *        fixed by the burn-in, not raised as proposals come); output row i, attempt a: its latent
 *        and its uniform from Rng(seed, 1, i, a)
 *   MH   chain i: start Rng(seed, 0, i); step t Rng(seed, 1, i, t); restart round k: start
 *        Rng(seed, 2, i, k), step t Rng(seed, 3, i, k, t)
 *   SIR  output row i: pool member k from Rng(seed, 0, i, k), resampling uniform Rng(seed, 1, i)
 */
import { RefineryError, fail } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { RowStreams, Rng } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import { LatentScorer } from '../targets/scorer.js';
import type { Tensor } from '../tensor.js';
import { autoBurnIn, DRS_DEFAULTS, type DrsOptions, drsAcceptProbability, drsCalibrate, validateDrs } from '../methods/selection/drs.js';
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
import { batchesOf, fillLatent } from './latent.js';
import { once, type RefineOutput, type RunContext } from './types.js';
import { chainWatch, headRows } from './watch.js';

/** Scores a batch x [rows, ...dataShape]: one logRatio estimate per row. */
export type ScoreFn = (x: Tensor) => Promise<Float32Array>;

export interface SelectionScoreOption {
  /** Replaces logRatio(x) from the pair's discriminator (calibrated D, DRE-F-SP critic, ...). */
  score?: ScoreFn;
}

export type DrsRunOptions = Partial<DrsOptions> & SelectionScoreOption;
export type MhRunOptions = Partial<MhOptions> & SelectionScoreOption;
export type SirRunOptions = Partial<SirOptions> & SelectionScoreOption;

/** A Proposer over a model pair that also scores arbitrary data and generates x from z. */
export interface PairProposer extends Proposer {
  readonly dataSize: number;
  scoreData(x: Float32Array, rows: number): Promise<Float32Array>;
  generate(z: Float32Array, rows: number): Promise<Float32Array>;
  /** The samples of latents z [rows, latentDim], generated `batchSize` rows per call. */
  samplesOf(z: Float32Array, batchSize: number): Promise<Float32Array>;
  release(): Promise<void>;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/**
 * Proposals from a pair: z ~ p0 (row r's latent from streams[r]) and s = score(G(z)), where
 * score defaults to logRatio (LatentScorer, one session) and an override scores G's output. A
 * row with a non-finite x gets score NaN. scoreData (real starts) opens a DataTarget when first
 * called.
 */
export async function createProposer(pair: ModelPair, score?: ScoreFn): Promise<PairProposer> {
  const latentDim = pair.meta.latentDim;
  const dataShape = pair.meta.dataShape;
  const dataSize = sizeOf(dataShape);
  const gen = await GeneratorRunner.create(pair);
  let scorer: LatentScorer | undefined;
  try {
    if (score === undefined) scorer = await LatentScorer.create(pair);
  } catch (e) {
    await gen.release();
    throw e;
  }
  let target: Promise<DataTarget> | undefined;
  const scoreFn: ScoreFn =
    score ??
    (async (x) => {
      target ??= DataTarget.create(pair, false);
      return (await target).logRatio(x);
    });
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
    async propose(streams: Rng[]): Promise<ProposalBatch> {
      const rows = streams.length;
      const z = new Float32Array(rows * latentDim);
      for (let r = 0; r < rows; r++) fillLatent(pair.meta.latentPrior, streams[r], z.subarray(r * latentDim, (r + 1) * latentDim));
      if (scorer === undefined) return { z, score: await scoreData(await generate(z, rows), rows) };
      const s = await scorer.score({ data: z, shape: [rows, latentDim] });
      if (s.length !== rows) fail('shape_mismatch', 'discriminator output', `${rows} scores (one per row)`, `${s.length}`);
      return { z, score: s };
    },
    scoreData,
    generate,
    async samplesOf(z: Float32Array, batchSize: number): Promise<Float32Array> {
      const rows = z.length / latentDim;
      const out = new Float32Array(rows * dataSize);
      for (let s = 0; s < rows; s += batchSize) {
        const k = Math.min(batchSize, rows - s);
        out.set(await generate(z.subarray(s * latentDim, (s + k) * latentDim), k), s * dataSize);
      }
      return out;
    },
    async release() {
      await gen.release();
      await scorer?.release();
      await target?.then(
        (t) => t.release(),
        () => undefined,
      );
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
 * Discriminator rejection sampling (methods/selection/drs.ts). Burn-in: score `burnIn` proposals
 * (default autoBurnIn of the whole run's size, ctx.total, so every chunk and shard of a run uses
 * the same; proposal j from Rng(seed, 0, j)), M = their max logRatio, gamma from --gamma or
 * --gamma-percentile; M and gamma then stay fixed (a proposal above M is accepted with the
 * probability at M), so every part of a run decides alike. Output row i draws its attempt a from
 * Rng(seed, 1, i, a) (the latent, then the uniform) until one is accepted; the rows still waiting
 * are proposed together in batches of ctx.batchSize. More than maxProposals (default 100 n)
 * proposals after the burn-in is an error naming maxProposals.
 *
 * summary: { method: 'drs', mode, acceptance, proposals (after the burn-in), burnIn,
 * burnInNonFinite, accepted, M, gamma, gammaPercentile, epsilon, nonFinite (after the burn-in) }.
 */
export async function runDrs(ctx: RunContext, options: DrsRunOptions = {}): Promise<RefineOutput> {
  validateContext(ctx);
  const { score, ...rest } = options;
  const o = withDefaults(DRS_DEFAULTS, rest);
  validateDrs(o);
  const maxProposals = o.maxProposals ?? 100 * ctx.n;
  const first = ctx.start ?? 0;
  const burnIn = o.burnIn ?? autoBurnIn(ctx.total ?? first + ctx.n);
  const t0 = performance.now();
  const proposer = await createProposer(ctx.pair, score);
  const d = proposer.latentDim;
  const latents = new Float32Array(ctx.n * d);
  try {
    // M and gamma: a global quantity of the run, from its own burn-in pool, computed once.
    const key = `drs-burn-in-${burnIn}-${o.exact}-${o.gamma}-${o.gammaPercentile}-${o.epsilon}`;
    const params = await once(ctx, key, async () => {
      const burn = new Float32Array(burnIn);
      for (let done = 0; done < burnIn; ) {
        checkCancelled(ctx, 'drs', `${done} burn-in proposals`);
        const rows = Math.min(ctx.batchSize, burnIn - done);
        burn.set((await proposer.propose(RowStreams.range([ctx.seed, 0], done).rowsOf(rows))).score, done);
        done += rows;
      }
      return drsCalibrate(burn, o);
    });
    let nonFinite = 0;
    let proposals = 0;
    const attempts = new Int32Array(ctx.n);
    let pending = Array.from({ length: ctx.n }, (_, r) => r);
    const watch = ctx.hooks?.watch;
    const watched = Math.min(watch?.rows ?? 0, ctx.n);
    for (let round = 1; pending.length > 0; round++) {
      checkCancelled(ctx, 'drs', `${ctx.n - pending.length} accepted samples`);
      const batch = pending.slice(0, ctx.batchSize);
      if (proposals + batch.length > maxProposals) {
        fail(
          'invalid_argument',
          'maxProposals',
          `enough proposals to accept ${ctx.n} samples (raise maxProposals${o.exact ? '' : ', or lower gamma / gammaPercentile'})`,
          `${maxProposals} proposals gave ${ctx.n - pending.length} acceptances`,
        );
      }
      const streams = batch.map((r) => new Rng(ctx.seed, 1, first + r, attempts[r]++));
      const b = await proposer.propose(streams);
      proposals += batch.length;
      const accepted = new Set<number>();
      batch.forEach((r, k) => {
        const u = streams[k].uniform();
        const s = b.score[k];
        if (!Number.isFinite(s)) {
          nonFinite++;
          return;
        }
        if (u < drsAcceptProbability(s, params)) {
          latents.set(b.z.subarray(k * d, (k + 1) * d), r * d);
          accepted.add(r);
        }
      });
      pending = pending.filter((r) => !accepted.has(r));
      if (watch && batch[0] < watched) {
        // This round's proposals for the watched rows (pending is sorted: they lead the batch).
        let k = 0;
        while (k < batch.length && batch[k] < watched) k++;
        await watch.onFrame({
          method: 'drs',
          kind: 'proposals',
          step: round,
          numSteps: 0,
          rows: k,
          samples: await proposer.generate(headRows(b.z, k, d), k),
          index: Int32Array.from(batch.slice(0, k)),
          accepted: Uint8Array.from(batch.slice(0, k), (r) => (accepted.has(r) ? 1 : 0)),
        });
      }
      ctx.hooks?.onProgress?.(ctx.n - pending.length, ctx.n);
    }
    return {
      samples: await proposer.samplesOf(latents, ctx.batchSize),
      latents,
      summary: {
        method: 'drs',
        mode: o.exact ? 'exact' : 'shifted',
        acceptance: ctx.n / proposals,
        proposals,
        burnIn,
        burnInNonFinite: burnIn - params.finite,
        accepted: ctx.n,
        M: params.M,
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
    const first = ctx.start ?? 0;
    for (const b of batchesOf(first, ctx.n, ctx.batchSize)) {
      const start = b.start - first;
      const rows = b.rows;
      let init: MhState;
      // The real starts (chain i at the sample Rng(seed, 0, i) picks), when chains start there.
      let x0: Float32Array | undefined;
      if (useReal) {
        x0 = new Float32Array(rows * m);
        for (let i = 0; i < rows; i++) {
          const r = new Rng(ctx.seed, 0, b.start + i).int(realRows);
          x0.set(ctx.real!.subarray(r * m, (r + 1) * m), i * m);
        }
        init = mhInitFromReal(await proposer.scoreData(x0, rows), d);
      } else {
        init = mhInitFromProposals(await proposer.propose(RowStreams.range([ctx.seed, 0], b.start).rowsOf(rows)), d);
        proposals += rows;
      }
      // The samples of the first k chains' states: their real start, or their latent's sample.
      const statesOf = async (s: MhState, k: number): Promise<Float32Array> => {
        const z = s.z.slice(0, k * d);
        for (let i = 0; i < k; i++) if (s.atReal[i]) z.fill(0, i * d, (i + 1) * d);
        const x = await proposer.generate(z, k);
        for (let i = 0; i < k; i++) if (s.atReal[i]) x.set(x0!.subarray(i * m, (i + 1) * m), i * m);
        return x;
      };
      nonFinite += countNonFinite(init.score);
      const hooks = {
        signal: ctx.hooks?.signal,
        onStep: (t: number) => ctx.hooks?.onProgress?.(start * K + rows * t, ctx.n * K),
      };
      let moves: Int32Array | undefined;
      const watch = chainWatch<MhState>(ctx.hooks?.watch, 'mh', start, rows, K, async (s, k) => {
        const before = moves;
        moves = s.moves.slice(0, k);
        return { samples: await statesOf(s, k), ...(before ? { accepted: Uint8Array.from(moves, (v, i) => (v !== before[i] ? 1 : 0)) } : {}) };
      });
      await watch.start(init);
      const run = await runChain(kernel, init, K, RowStreams.range([ctx.seed, 1], b.start), watch.hooks(hooks));
      tally(run.infos, rows);
      proposals += rows * K;
      const state = run.state;
      // Watched rows of this batch (the call's first batch only), for the frame after the restarts.
      const watchedRows = ctx.hooks?.watch && start === 0 ? Math.min(rows, ctx.hooks.watch.rows) : 0;
      const stuckAtEnd = new Set(watchedRows > 0 ? mhStuckChains(state) : []);
      for (let round = 1; round <= o.maxRestarts; round++) {
        const stuck = mhStuckChains(state);
        if (stuck.length === 0) break;
        restarted += stuck.length;
        const sub0 = mhInitFromProposals(await proposer.propose(stuck.map((i) => new Rng(ctx.seed, 2, b.start + i, round))), d);
        nonFinite += countNonFinite(sub0.score);
        const subRun = await runChain(kernel, sub0, K, new RowStreams([ctx.seed, 3], (r) => b.start + stuck[r], [round]), { signal: ctx.hooks?.signal });
        tally(subRun.infos, stuck.length);
        const sub = subRun.state;
        proposals += stuck.length * (K + 1);
        stuck.forEach((i, k) => {
          state.z.set(sub.z.subarray(k * d, (k + 1) * d), i * d);
          state.score[i] = sub.score[k];
          state.atReal[i] = sub.atReal[k];
          state.moves[i] = sub.moves[k];
        });
      }
      if ([...stuckAtEnd].some((i) => i < watchedRows)) {
        // Watched chains were restarted: one more frame with where they ended, marking them.
        const k = watchedRows;
        await ctx.hooks!.watch!.onFrame({
          method: 'mh',
          kind: 'chain',
          step: K,
          numSteps: K,
          rows: k,
          samples: await statesOf(state, k),
          index: Int32Array.from({ length: k }, (_, i) => i),
          accepted: Uint8Array.from({ length: k }, (_, i) => (stuckAtEnd.has(i) ? 1 : 0)),
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
      samples.set(await proposer.samplesOf(state.z, ctx.batchSize), start * m);
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
 * Sampling importance resampling (methods/selection/sir.ts) in groups: rows [jG, (j+1)G) of the
 * run (G = groupSize; the last group ends at the run's last row) share one pool of g K proposals
 * (g the group's rows, K = poolMultiplier), member k drawn from Rng(seed, 0, j, k), resampled g
 * times multinomially with weights exp(s - max s) and the uniforms of Rng(seed, 1, j). A group is
 * fixed by the row indices alone, so a chunk or shard that holds part of a group computes the
 * group's pool and keeps its own rows: the samples never depend on how the run is cut. The pool's
 * latents and scores are kept; the chosen samples are regenerated x = G(z) (the generator's rows
 * do not depend on their batch), so the pool's samples are never held.
 *
 * summary: { method: 'sir', poolMultiplier, groupSize, proposals (pools computed, in full for
 * groups cut by a chunk), essPerSample (the pool's Kong ESS per output sample of its group),
 * essFraction (ESS / pool size), uniqueFraction (distinct pool members among a group's draws, per
 * draw), acceptance (distinct selected / pool size), nonFinite (pool members with a non-finite
 * score) }: per-sample rates are averaged over the returned rows, so merged parts stay correct.
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
  const K = o.poolMultiplier;
  const G = o.groupSize;
  const first = ctx.start ?? 0;
  const end = first + ctx.n;
  const total = ctx.total ?? end;
  let proposals = 0;
  let nonFinite = 0;
  // Row-weighted sums of the per-sample rates.
  let ess = 0;
  let essFraction = 0;
  let unique = 0;
  try {
    for (let j = Math.floor(first / G); j * G < end; j++) {
      checkCancelled(ctx, 'sir', `${Math.max(0, j * G - first)} samples`);
      const gStart = j * G;
      const g = Math.min(G, total - gStart);
      const P = g * K;
      const z = new Float32Array(P * d);
      const scores = new Float32Array(P);
      for (let s = 0; s < P; s += ctx.batchSize) {
        const rows = Math.min(ctx.batchSize, P - s);
        const b = await proposer.propose(RowStreams.range([ctx.seed, 0, j], s).rowsOf(rows));
        z.set(b.z, s * d);
        scores.set(b.score, s);
      }
      proposals += P;
      const sel = sirSelect(scores, g, new Rng(ctx.seed, 1, j), o.replace);
      nonFinite += sel.nonFinite;
      const watch = ctx.hooks?.watch;
      if (watch && j === Math.floor(first / G)) {
        // The first group's pool (its first members, K per watched row) and which were resampled.
        const shown = Math.min(P, watch.rows * K);
        const chosen = new Uint8Array(shown);
        for (const i of sel.indices) if (i < shown) chosen[i] = 1;
        const x = await proposer.samplesOf(z.subarray(0, shown * d), ctx.batchSize);
        await watch.onFrame({
          method: 'sir',
          kind: 'proposals',
          step: 1,
          numSteps: 1,
          rows: shown,
          samples: x,
          index: Int32Array.from({ length: shown }, (_, i) => i),
          accepted: chosen,
        });
      }
      // This part's rows of the group: regenerate their samples from the chosen latents.
      const lo = Math.max(first, gStart);
      const hi = Math.min(end, gStart + g);
      for (let r = lo; r < hi; r++) {
        const k = sel.indices[r - gStart];
        latents.set(z.subarray(k * d, (k + 1) * d), (r - first) * d);
      }
      samples.set(await proposer.samplesOf(latents.subarray((lo - first) * d, (hi - first) * d), ctx.batchSize), (lo - first) * m);
      const w = hi - lo;
      ess += (sel.ess / g) * w;
      essFraction += (sel.ess / P) * w;
      unique += (sel.unique / g) * w;
      ctx.hooks?.onProgress?.(hi - first, ctx.n);
    }
    return {
      samples,
      latents,
      summary: {
        method: 'sir',
        poolMultiplier: K,
        groupSize: G,
        proposals,
        essPerSample: ess / ctx.n,
        essFraction: essFraction / ctx.n,
        uniqueFraction: unique / ctx.n,
        acceptance: unique / ctx.n / K,
        nonFinite,
      },
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await proposer.release();
  }
}
