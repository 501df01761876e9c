/**
 * The DGflow runner (`refinery refine --method dgflow`): draw latents from the prior, then
 * simulate the frozen DGflow SDE (src/methods/dynamics/dgflow.ts) on the latents (space 'latent':
 * samples are G(z_T)) or on the generated samples themselves (space 'data': x_0 = G(z_0)).
 *
 * Streams: row i starts at the latent of `sample` (Rng(seed, SAMPLE_STREAM, i), as the DDLS
 * runner, so both refine the same generator samples) and draws its noise at step t from
 * Rng(seed, DGFLOW_STREAM, i, t).
 */
import { describe, fail } from '../errors.js';
import type { Graph } from '../onnx/graph.js';
import { RowStreams } from '../rng.js';
import { DIVERGENCES, DgflowField, type Divergence, FLOW_SPACES, type FlowSpace } from '../targets/flow.js';
import { GeneratorRunner } from '../targets/generator.js';
import { dgflowInit, dgflowKernel, validateDgflowKernel } from '../methods/dynamics/dgflow.js';
import { type DriverHooks, runChain, summarize } from './driver.js';
import type { StepInfo } from './kernel.js';
import { batchesOf, startLatents } from './latent.js';
import type { RefineOutput, RunContext } from './types.js';
import { chainWatch, latentView, positionView } from './watch.js';

export interface DgflowOptions {
  /** f-divergence: 'kl' | 'js' | 'logd' (CLI --divergence). */
  divergence: Divergence;
  /** Where the flow runs: 'latent' (z, samples G(z_T)) or 'data' (x) (CLI --space). */
  space: FlowSpace;
  /** Euler-Maruyama step eta (CLI --step-size). */
  stepSize: number;
  /** Entropy regulariser gamma; the noise per step is sqrt(2 gamma eta) (CLI --noise). */
  noise: number;
  /** Steps (CLI --num-steps). */
  numSteps: number;
  /**
   * Latent space only: add grad log p0(z) to the drift (CLI --prior-drift). Not the paper's
   * algorithm; with KL and noise 1 it is DDLS's unadjusted Langevin dynamics (step 2 eta).
   */
  priorDrift: boolean;
  /** Density-ratio corrector x -> [batch, 1], a logit added to logRatio (CLI --corrector FILE.onnx). */
  corrector?: Graph;
}

/** Defaults of the authors' released configurations (CIFAR-10/STL-10): KL, latent space, eta 0.1, gamma 0.01, 25 steps. */
export const DGFLOW_DEFAULTS: DgflowOptions = { divergence: 'kl', space: 'latent', stepSize: 0.1, noise: 0.01, numSteps: 25, priorDrift: false };

/** Stream label of the chains (after the prior's stream 0 and DDLS's 1). */
export const DGFLOW_STREAM = 0xd6f1;

export function validateDgflowOptions(o: DgflowOptions): void {
  if (!(DIVERGENCES as readonly string[]).includes(o.divergence))
    fail('invalid_argument', 'divergence', `one of ${DIVERGENCES.join(', ')}`, describe(o.divergence));
  if (!(FLOW_SPACES as readonly string[]).includes(o.space)) fail('invalid_argument', 'space', `one of ${FLOW_SPACES.join(', ')}`, describe(o.space));
  validateDgflowKernel(o);
  if (!Number.isInteger(o.numSteps) || o.numSteps < 0) fail('invalid_argument', 'numSteps', 'a non-negative integer', describe(o.numSteps));
  if (o.priorDrift && o.space !== 'latent') fail('invalid_argument', 'priorDrift', 'only with --space latent', `--space ${o.space}`);
}

function validateContext(ctx: RunContext): void {
  if (!Number.isInteger(ctx.n) || ctx.n < 1) fail('invalid_argument', 'n', 'a positive integer', describe(ctx.n));
  if (!Number.isInteger(ctx.batchSize) || ctx.batchSize < 1) fail('invalid_argument', 'batchSize', 'a positive integer', describe(ctx.batchSize));
  if (!Number.isInteger(ctx.seed)) fail('invalid_argument', 'seed', 'an integer', describe(ctx.seed));
}

/**
 * Refine ctx.n samples with DGflow. Summary: divergence, space, stepSize, noise, numSteps,
 * priorDrift, corrector (boolean), steps, acceptance (1), gradNorm (mean drift norm), nonFinite
 * (rows kept in place over all steps), logRatioBefore / logRatioAfter (mean over finite rows).
 */
export async function runDgflow(ctx: RunContext, options: Partial<DgflowOptions> = {}): Promise<RefineOutput> {
  const o: DgflowOptions = { ...DGFLOW_DEFAULTS, ...options };
  validateDgflowOptions(o);
  validateContext(ctx);
  const { pair } = ctx;
  const d = pair.meta.latentDim;
  const dataSize = pair.meta.dataShape.reduce((a, b) => a * b, 1);
  const latent = o.space === 'latent';
  const rowShape = latent ? [d] : pair.meta.dataShape;
  const hooks = ctx.hooks ?? {};
  const chunks = Math.ceil(ctx.n / ctx.batchSize);
  const t0 = performance.now();
  const field = await DgflowField.create(pair, { space: o.space, divergence: o.divergence, corrector: o.corrector, priorDrift: o.priorDrift });
  let gen: GeneratorRunner | undefined;
  const samples = new Float32Array(ctx.n * dataSize);
  const latents = latent ? new Float32Array(ctx.n * d) : undefined;
  const infos: StepInfo[] = [];
  let before = 0;
  let after = 0;
  let finiteBefore = 0;
  let finiteAfter = 0;
  try {
    gen = await GeneratorRunner.create(pair);
    const kernel = dgflowKernel(field, { stepSize: o.stepSize, noise: o.noise, box: latent && pair.meta.latentPrior === 'uniform[-1,1]' });
    const first = ctx.start ?? 0;
    let c = 0;
    for (const b of batchesOf(first, ctx.n, ctx.batchSize)) {
      const start = b.start - first;
      const rows = b.rows;
      const z0 = startLatents(pair.meta.latentPrior, ctx.seed, b.start, rows, d, ctx.latents);
      const x0 = latent ? { data: z0, shape: [rows, d] } : { data: (await gen.generate({ data: z0, shape: [rows, d] })).data, shape: [rows, ...rowShape] };
      const init = await dgflowInit(field, x0);
      const step0 = c++ * o.numSteps;
      const watch = chainWatch(hooks.watch, 'dgflow', start, rows, o.numSteps, latent ? latentView(gen, d) : positionView(dataSize));
      await watch.start(init);
      const chainHooks: DriverHooks = {
        signal: hooks.signal,
        onStep: async (t, info, state) => {
          await hooks.onStep?.(t, info, state);
          hooks.onProgress?.(step0 + t, chunks * o.numSteps);
        },
      };
      const { state, infos: chunkInfos } = await runChain(
        kernel,
        init,
        o.numSteps,
        RowStreams.range([ctx.seed, DGFLOW_STREAM], b.start),
        watch.hooks(chainHooks),
      );
      infos.push(...chunkInfos);
      for (const v of init.logRatio) {
        if (!Number.isFinite(v)) continue;
        before += v;
        finiteBefore++;
      }
      for (const v of state.logRatio) {
        if (!Number.isFinite(v)) continue;
        after += v;
        finiteAfter++;
      }
      if (latent) {
        latents!.set(state.position, start * d);
        samples.set((await gen.generate({ data: state.position, shape: [rows, d] })).data, start * dataSize);
      } else {
        samples.set(state.position, start * dataSize);
      }
      if (o.numSteps === 0) hooks.onProgress?.(start + rows, ctx.n);
    }
  } finally {
    await field.release();
    await gen?.release();
  }
  const s = summarize(infos);
  return {
    samples,
    latents,
    summary: {
      method: 'dgflow',
      divergence: o.divergence,
      space: o.space,
      stepSize: o.stepSize,
      noise: o.noise,
      numSteps: o.numSteps,
      priorDrift: o.priorDrift,
      corrector: o.corrector !== undefined,
      steps: s.steps,
      acceptance: 1,
      gradNorm: s.mean.gradNorm ?? 0,
      nonFinite: s.nonFinite,
      logRatioBefore: finiteBefore > 0 ? before / finiteBefore : null,
      logRatioAfter: finiteAfter > 0 ? after / finiteAfter : null,
    },
    seconds: (performance.now() - t0) / 1000,
  };
}
