/** Drawing latents from the prior and refining them with DDLS in chunks (the driver's batch loop). */
import type { LatentPrior } from '../models/meta.js';
import type { ModelPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { GeneratorRunner } from '../targets/generator.js';
import { LatentTarget } from '../targets/latent.js';
import { type DdlsOptions, ddlsInit, ddlsKernel } from '../methods/dynamics/ddls.js';
import { type DriverHooks, runChain, summarize, type InfoSummary } from './driver.js';
import type { StepInfo } from './kernel.js';
import type { MethodRunner } from './types.js';

export function samplePrior(prior: LatentPrior, n: number, d: number, rng: Rng): Float32Array {
  const out = new Float32Array(n * d);
  return prior === 'normal' ? rng.fillNormal(out) : rng.fillUniform(out, -1, 1);
}

export interface LatentRefineOptions {
  n: number;
  seed: number;
  /** Rows per chain batch (memory bound); results depend on it only through the chunking of seeds. */
  batchSize: number;
  numSteps: number;
  ddls: DdlsOptions;
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

/** Chunk c draws its initial latents from Rng(seed, 0, c) and runs its chain on Rng(seed, 1, c, t). */
export async function refineLatentDdls(
  pair: ModelPair,
  o: LatentRefineOptions,
  hooks: DriverHooks & { onChunk?: (done: number, total: number) => void } = {},
): Promise<LatentRefineResult> {
  const d = pair.meta.latentDim;
  const dataSize = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const target = await LatentTarget.create(pair);
  const gen = await GeneratorRunner.create(pair);
  const kernel = ddlsKernel(target, pair.meta.latentPrior, o.ddls);
  const before = new Float32Array(o.n * dataSize);
  const samples = new Float32Array(o.n * dataSize);
  const latents = new Float32Array(o.n * d);
  const infos: StepInfo[] = [];
  const t0 = performance.now();
  try {
    for (let c = 0, start = 0; start < o.n; c++, start += o.batchSize) {
      const rows = Math.min(o.batchSize, o.n - start);
      const z0 = samplePrior(pair.meta.latentPrior, rows, d, new Rng(o.seed, 0, c));
      before.set((await gen.generate({ data: z0, shape: [rows, d] })).data, start * dataSize);
      const init = await ddlsInit(target, { data: z0, shape: [rows, d] });
      const { state, infos: chunkInfos } = await runChain(kernel, init, o.numSteps, [o.seed, 1, c], hooks);
      infos.push(...chunkInfos);
      latents.set(state.position, start * d);
      samples.set((await gen.generate({ data: state.position, shape: [rows, d] })).data, start * dataSize);
      hooks.onChunk?.(start + rows, o.n);
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
    { n: ctx.n, seed: ctx.seed, batchSize: ctx.batchSize, numSteps, ddls },
    {
      signal: ctx.hooks?.signal,
      onStep: (t, info) => {
        ctx.hooks?.onStep?.(t, info);
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
