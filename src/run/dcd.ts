/**
 * Runner of DCD (Song et al. 2020): draw x_0 = G(z) and run sample-space Langevin dynamics on
 * logRatio (see src/methods/dynamics/dcd.ts for the update and its approximation: grad log p_g
 * is dropped, so the chain targets exp(logRatio(x)) / Z rather than p_g(x) exp(logRatio(x)) / Z).
 *
 * Row i starts at the sample of `sample` (latent from Rng(seed, SAMPLE_STREAM, i), the same
 * starting samples as the other generator-driven runners) and draws its noise at step t from
 * Rng(seed, DCD_STREAM, i, t).
 */
import { fail } from '../errors.js';
import { type DcdOptions, DCD_DEFAULTS, dcdInit, dcdKernel, validateDcd } from '../methods/dynamics/dcd.js';
import { RowStreams } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import { runChain, summarize } from './driver.js';
import type { StepInfo } from './kernel.js';
import { batchesOf, startLatents } from './latent.js';
import { batchChainHooks, type RefineOutput, type RunContext } from './types.js';
import { chainWatch, positionView } from './watch.js';

/** Stream label of DCD's chains. */
export const DCD_STREAM = 1;

export interface DcdRunOptions {
  /** Langevin step size eps (--step-size, default 0.01). */
  stepSize: number;
  /** Noise multiplier (--noise, default 1; 0 = gradient ascent on logRatio). */
  noise: number;
  /** Per-row gradient-norm clip (--clip, default 10; Infinity = off). */
  clip: number;
  /** Steps per chain (--num-steps, default 100; 0 returns G(z)). */
  numSteps: number;
  /**
   * Clamp samples into [lo, hi] after each step (--box lo,hi | none). Default: meta.outputRange
   * when the pair records one, else no clamping.
   */
  box?: [number, number] | 'none';
}

export const DCD_RUN_DEFAULTS: DcdRunOptions = { stepSize: DCD_DEFAULTS.stepSize, noise: DCD_DEFAULTS.noise, clip: DCD_DEFAULTS.clip, numSteps: 100 };

/** Check the run-level fields every runner shares. */
export function validateRunContext(ctx: RunContext): void {
  if (!Number.isInteger(ctx.n) || ctx.n < 1) fail('invalid_argument', 'n', 'a positive integer', String(ctx.n));
  if (!Number.isInteger(ctx.batchSize) || ctx.batchSize < 1) fail('invalid_argument', 'batchSize', 'a positive integer', String(ctx.batchSize));
  if (!Number.isInteger(ctx.seed)) fail('invalid_argument', 'seed', 'an integer', String(ctx.seed));
}

export function validateNumSteps(numSteps: number): void {
  if (!Number.isInteger(numSteps) || numSteps < 0) fail('invalid_argument', 'numSteps', 'a non-negative integer', String(numSteps));
}

/** `defaults` overridden by the fields of `options` that are not undefined (CLI options left unset). */
export function withDefaults<T extends object>(defaults: T, options: Partial<T>): T {
  const out = { ...defaults };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** Mean of the finite entries (NaN when there are none). */
export function finiteMean(a: ArrayLike<number>): number {
  let s = 0;
  let c = 0;
  for (let i = 0; i < a.length; i++) {
    if (Number.isFinite(a[i])) {
      s += a[i];
      c++;
    }
  }
  return c > 0 ? s / c : Number.NaN;
}

/**
 * DCD over ctx.n samples: x_0 = G(z), z ~ prior; x_{t+1} = clamp(x_t + (eps/2) clip(grad logRatio(x_t)) + noise sqrt(eps) xi).
 * Returns the final x (no latents: the method works in sample space).
 */
export async function runDcd(ctx: RunContext, options: Partial<DcdRunOptions> = {}): Promise<RefineOutput> {
  validateRunContext(ctx);
  const o = withDefaults(DCD_RUN_DEFAULTS, options);
  validateNumSteps(o.numSteps);
  const box = o.box === 'none' ? undefined : (o.box ?? ctx.pair.meta.outputRange);
  const kernelOptions: DcdOptions = { stepSize: o.stepSize, noise: o.noise, clip: o.clip, box };
  validateDcd(kernelOptions);
  const { pair, n, seed, batchSize } = ctx;
  const d = pair.meta.latentDim;
  const dataShape = pair.meta.dataShape;
  const size = dataShape.reduce((a, b) => a * b, 1);
  const samples = new Float32Array(n * size);
  const infos: StepInfo[] = [];
  const before: Float32Array[] = [];
  const after: Float32Array[] = [];
  const total = n * Math.max(o.numSteps, 1);
  const t0 = performance.now();
  const gen = await GeneratorRunner.create(pair);
  let field: DataTarget | undefined;
  try {
    field = await DataTarget.create(pair, true);
    const kernel = dcdKernel(field, kernelOptions);
    const first = ctx.start ?? 0;
    for (const b of batchesOf(first, n, batchSize)) {
      const start = b.start - first;
      const rows = b.rows;
      const z = startLatents(pair.meta.latentPrior, seed, b.start, rows, d, ctx.latents);
      const x0 = await gen.generate({ data: z, shape: [rows, d] });
      const init = await dcdInit(field, { data: x0.data, shape: [rows, ...dataShape] });
      before.push(init.logRatio);
      const watch = chainWatch(ctx.hooks?.watch, 'dcd', start, rows, o.numSteps, positionView(size));
      await watch.start(init);
      const hooks = batchChainHooks(ctx, start, rows, o.numSteps, total);
      const { state, infos: chunkInfos } = await runChain(kernel, init, o.numSteps, RowStreams.range([seed, DCD_STREAM], b.start), watch.hooks(hooks));
      infos.push(...chunkInfos);
      after.push(state.logRatio);
      samples.set(state.position, start * size);
      ctx.hooks?.onProgress?.((start + rows) * Math.max(o.numSteps, 1), total);
    }
  } finally {
    await field?.release();
    await gen.release();
  }
  const s = summarize(infos);
  const cat = (parts: Float32Array[]) => {
    const out = new Float32Array(n);
    let off = 0;
    for (const p of parts) {
      out.set(p, off);
      off += p.length;
    }
    return out;
  };
  return {
    samples,
    summary: {
      method: 'dcd',
      numSteps: o.numSteps,
      stepSize: o.stepSize,
      noise: o.noise,
      clip: o.clip,
      box: box ?? null,
      acceptance: 1,
      gradNorm: s.mean.gradNorm ?? 0,
      clipped: s.mean.clipped ?? 0,
      nonFinite: s.nonFinite,
      logRatioBefore: finiteMean(cat(before)),
      logRatioAfter: finiteMean(cat(after)),
      approximation: 'grad log p_g dropped: the chain targets exp(logRatio(x))/Z, not p_g(x) exp(logRatio(x))/Z',
    },
    seconds: (performance.now() - t0) / 1000,
  };
}
