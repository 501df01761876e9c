/** Drawing latents from the prior and refining them with DDLS in chunks (the driver's batch loop). */
import type { LatentPrior } from '../models/meta.js';
import { NONPARAMETRIC_PRIOR, fillMixture } from '../models/prior.js';
import type { ModelPair } from '../models/pair.js';
import { Rng, RowStreams } from '../rng.js';
import { GeneratorRunner } from '../targets/generator.js';
import { LatentTarget } from '../targets/latent.js';
import { type DdlsOptions, ddlsInit, ddlsKernel } from '../methods/dynamics/ddls.js';
import { type DriverHooks, runChain, summarize, type InfoSummary } from './driver.js';
import type { StepInfo } from './kernel.js';
import type { MethodRunner } from './types.js';
import { chainWatch, latentView, type Watch } from './watch.js';

export function samplePrior(prior: LatentPrior, n: number, d: number, rng: Rng): Float32Array {
  return fillLatent(prior, rng, new Float32Array(n * d));
}

/** Stream label of the initial latents (and of `sample`): latent i from Rng(seed, SAMPLE_STREAM, i). */
export const SAMPLE_STREAM = 0x5a4d;

/** Fill `row` with one draw of the prior from `rng`. */
export function fillLatent(prior: LatentPrior, rng: Rng, row: Float32Array): Float32Array {
  if (prior === 'normal') return rng.fillNormal(row);
  if (prior === 'nonparametric') return fillMixture(NONPARAMETRIC_PRIOR, rng, row);
  return rng.fillUniform(row, -1, 1);
}

/** Latents of rows start..start+rows-1, row j from Rng(...words, j) alone. */
export function keyedLatents(prior: LatentPrior, words: readonly number[], start: number, rows: number, d: number): Float32Array {
  const z = new Float32Array(rows * d);
  for (let i = 0; i < rows; i++) fillLatent(prior, new Rng(...words, start + i), z.subarray(i * d, (i + 1) * d));
  return z;
}

/** Latents of rows start..start+rows-1 of a run with `seed`: row i from Rng(seed, SAMPLE_STREAM, i). */
export function sampleLatents(prior: LatentPrior, seed: number, start: number, rows: number, d: number): Float32Array {
  return keyedLatents(prior, [seed, SAMPLE_STREAM], start, rows, d);
}

/**
 * The start latents of rows start..start+rows-1 of a run: rows of `given` (the run's start latents,
 * [total, d], e.g. codes of real data from an encoder, to refine reconstructions) when there are,
 * else the prior draws of `sampleLatents`.
 */
export function startLatents(prior: LatentPrior, seed: number, start: number, rows: number, d: number, given?: Float32Array): Float32Array {
  if (given === undefined) return sampleLatents(prior, seed, start, rows, d);
  return given.slice(start * d, (start + rows) * d);
}

/**
 * The batches of rows [start, start + n) of a run: cut at multiples of `batchSize` counted from row
 * 0, so that a chunk or a shard starting on such a multiple sees the batches a whole run sees.
 */
export function batchesOf(start: number, n: number, batchSize: number): { start: number; rows: number }[] {
  const out: { start: number; rows: number }[] = [];
  for (let s = start; s < start + n; ) {
    const end = Math.min(start + n, (Math.floor(s / batchSize) + 1) * batchSize);
    out.push({ start: s, rows: end - s });
    s = end;
  }
  return out;
}

/** Stream label of DDLS's chains: row i at step t draws from Rng(seed, DDLS_STREAM, i, t). */
export const DDLS_STREAM = 1;

export interface LatentRefineOptions {
  n: number;
  /** Absolute index of the first row (default 0). */
  start?: number;
  seed: number;
  /** Rows per chain batch (memory bound); results depend on it only through the chunking of seeds. */
  batchSize: number;
  numSteps: number;
  ddls: DdlsOptions;
  /** Start latents of the run's rows [total, d] (default: draws of the prior). */
  latents?: Float32Array;
}

export interface LatentRefineResult {
  /** Generator samples at the initial latents (the unrefined baseline), [n, ...dataShape]. */
  before: Float32Array;
  /** Samples at the refined latents. */
  samples: Float32Array;
  latents: Float32Array;
  summary: InfoSummary;
  seconds: number;
}

/**
 * Refine rows start..start+n-1 with DDLS: row i starts at `latents` row i when given, else at the
 * latent of `sample` (Rng(seed, SAMPLE_STREAM, i)), and draws its Langevin noise at step t from Rng(seed, DDLS_STREAM, i, t).
 */
export async function refineLatentDdls(
  pair: ModelPair,
  o: LatentRefineOptions,
  hooks: DriverHooks & { onChunk?: (done: number, total: number) => void; watch?: Watch } = {},
): Promise<LatentRefineResult> {
  const d = pair.meta.latentDim;
  const dataSize = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const first = o.start ?? 0;
  const target = await LatentTarget.create(pair);
  const gen = await GeneratorRunner.create(pair);
  const kernel = ddlsKernel(target, pair.meta.latentPrior, o.ddls);
  const before = new Float32Array(o.n * dataSize);
  const samples = new Float32Array(o.n * dataSize);
  const latents = new Float32Array(o.n * d);
  const infos: StepInfo[] = [];
  const t0 = performance.now();
  try {
    for (const b of batchesOf(first, o.n, o.batchSize)) {
      const local = b.start - first;
      const z0 = startLatents(pair.meta.latentPrior, o.seed, b.start, b.rows, d, o.latents);
      before.set((await gen.generate({ data: z0, shape: [b.rows, d] })).data, local * dataSize);
      const init = await ddlsInit(target, { data: z0, shape: [b.rows, d] });
      const watch = chainWatch(hooks.watch, 'ddls', local, b.rows, o.numSteps, latentView(gen, d));
      await watch.start(init);
      const { state, infos: chunkInfos } = await runChain(kernel, init, o.numSteps, RowStreams.range([o.seed, DDLS_STREAM], b.start), watch.hooks(hooks));
      infos.push(...chunkInfos);
      latents.set(state.position, local * d);
      samples.set((await gen.generate({ data: state.position, shape: [b.rows, d] })).data, local * dataSize);
      hooks.onChunk?.(local + b.rows, o.n);
    }
  } finally {
    await target.release();
    await gen.release();
  }
  return { before, samples, latents, summary: summarize(infos), seconds: (performance.now() - t0) / 1000 };
}

export interface DdlsRunOptions extends DdlsOptions {
  numSteps: number;
}

/** The DDLS method runner (see `refineLatentDdls`). */
export const runDdls: MethodRunner<DdlsRunOptions> = async (ctx, o) => {
  const { numSteps, ...ddls } = o;
  let chunk = 0;
  const chunks = Math.ceil(ctx.n / ctx.batchSize);
  const r = await refineLatentDdls(
    ctx.pair,
    { n: ctx.n, start: ctx.start, seed: ctx.seed, batchSize: ctx.batchSize, numSteps, ddls, latents: ctx.latents },
    {
      signal: ctx.hooks?.signal,
      watch: ctx.hooks?.watch,
      onStep: async (t, info, state) => {
        await ctx.hooks?.onStep?.(t, info, state);
        ctx.hooks?.onProgress?.(chunk * numSteps + t, chunks * numSteps);
      },
      onChunk: () => chunk++,
    },
  );
  return {
    samples: r.samples,
    latents: r.latents,
    summary: {
      method: 'ddls',
      ...ddls,
      numSteps,
      acceptance: r.summary.mean.acceptance,
      gradNorm: r.summary.mean.gradNorm,
      energy: r.summary.mean.energy,
      nonFinite: r.summary.nonFinite,
    },
    seconds: r.seconds,
  };
};
