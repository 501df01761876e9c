/**
 * Runner of DOT (Tanaka 2019) in target space ('data': move y = G(z) to
 * argmin_x |x - y|_safe - logRatio(x) / K_eff) and in latent space ('latent', CLI dot-latent: move
 * z_y to argmin_z |z - z_y|_safe - logRatio(G(z)) / K_eff and return G(z*)). See
 * src/methods/dynamics/dot.ts for the objective and the Adam update.
 *
 * K_eff (unless given) by `kEffEstimator`:
 *  - 'paper' (default, as the authors' code): `kEffTrials` times, draw `kEffPairs` independent
 *    pairs of prior latents (a from Rng(seed, 3, t), b from Rng(seed, 4, t)) and take the max of
 *    |logRatio(G(a)) - logRatio(G(b))| / |G(a) - G(b)| (data space) or / |a - b| (latent space);
 *    K_eff is the mean of the maxima.
 *  - 'quantile': the `kEffQuantile` quantile (default 0.9) of the slopes over the same
 *    kEffTrials * kEffPairs random pairs: robust to the few steep pairs a sharp logit D has.
 *  - 'pool': the max of that ratio over all pairs of a pool of `kEffPool` generator samples drawn
 *    from Rng(seed, 2), with up to `kEffPool` rows of ctx.real when given (data space), or of
 *    `kEffPool` prior latents (latent space). The largest slope seen: smaller moves.
 *
 * K_eff is a global quantity of the run: computed once (ctx.shared) before any row moves. Row i
 * starts at the latent of `sample` (Rng(seed, SAMPLE_STREAM, i)); its steps draw from Rng(seed, 1, i, t).
 */
import { fail } from '../errors.js';
import {
  DOT_DEFAULTS,
  type DotCost,
  type DotState,
  dotInit,
  dotKernel,
  estimateKEff,
  estimateKEffPaper,
  estimateKEffQuantile,
  transportCosts,
  validateDot,
} from '../methods/dynamics/dot.js';
import type { RatioField } from '../methods/dynamics/dcd.js';
import type { ModelPair } from '../models/pair.js';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import type { Graph } from '../onnx/graph.js';
import { Session, type SessionOptions } from '../onnx/session.js';
import { Rng, RowStreams } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import { latentLogRatio } from '../targets/logratio.js';
import type { Tensor } from '../tensor.js';
import { finiteMean, validateNumSteps, validateRunContext, withDefaults } from './dcd.js';
import { runChain, summarize } from './driver.js';
import type { StepInfo } from './kernel.js';
import { batchesOf, startLatents, samplePrior } from './latent.js';
import { batchChainHooks, once, type RefineOutput, type RunContext } from './types.js';
import { chainWatch, latentView, positionView } from './watch.js';

export type DotSpace = 'data' | 'latent';

export interface DotRunOptions {
  /** 'data' (CLI --method dot) or 'latent' (--method dot-latent). */
  space: DotSpace;
  /** Adam learning rate (--step-size, default 0.01 as in the paper). */
  stepSize: number;
  /** Adam steps (--num-steps, default 100). */
  numSteps: number;
  /** K_eff; estimated from samples when absent (--k-eff). */
  kEff?: number;
  /** How K_eff is estimated when not given (--k-eff-estimator paper|pool, default paper). */
  kEffEstimator: KEffEstimator;
  /** 'paper' and 'quantile': sets of pairs (--k-eff-trials, default 10) and pairs per set (--k-eff-pairs, default 100). */
  kEffTrials: number;
  kEffPairs: number;
  /** 'quantile': the quantile of the slopes (--k-eff-quantile, default 0.9). */
  kEffQuantile: number;
  /** 'pool': points drawn (--k-eff-pool, default 256; all pairs are used). */
  kEffPool: number;
  /** The transport cost (--dot-cost paper|smooth, default paper) and its delta (--dot-delta, default 1e-3). */
  cost: DotCost;
  delta: number;
  /** Adam decays (--beta1 default 0, --beta2 default 0.9). */
  beta1: number;
  beta2: number;
  /**
   * Data space only: clamp into [lo, hi] after each update (--box lo,hi | none); default
   * meta.outputRange when recorded. Latent space always keeps a uniform prior's z in [-1, 1].
   */
  box?: [number, number] | 'none';
}

/** The K_eff estimators (see the module doc). */
export const K_EFF_ESTIMATORS = ['paper', 'quantile', 'pool'] as const;
export type KEffEstimator = (typeof K_EFF_ESTIMATORS)[number];

export const DOT_RUN_DEFAULTS: DotRunOptions = {
  space: 'data',
  numSteps: 100,
  kEffEstimator: 'paper',
  kEffTrials: 10,
  kEffPairs: 100,
  kEffQuantile: 0.9,
  kEffPool: 256,
  ...DOT_DEFAULTS,
};

/** The graph z -> (logRatio(G(z)) [batch], d logRatio(G(z)) / dz [batch, latentDim]). */
export function latentRatioGraph(pair: Pick<ModelPair, 'generator' | 'discriminator' | 'meta'>): Graph {
  const { g, z, logRatio } = latentLogRatio(pair);
  const grad = differentiate(g, { [logRatio]: onesLike(g, logRatio) }, [z]).get(z)!;
  g.outputs = [g.op('Identity', [logRatio]), g.op('Identity', [grad])];
  return g;
}

/** logRatio(G(z)) and its gradient in z, as a RatioField over latents. */
export class LatentRatioField implements RatioField {
  private constructor(
    private readonly session: Session,
    private readonly names: string[],
  ) {}

  static async create(pair: Pick<ModelPair, 'generator' | 'discriminator' | 'meta' | 'device'>, options: SessionOptions = {}): Promise<LatentRatioField> {
    const g = latentRatioGraph(pair);
    return new LatentRatioField(await Session.create(g, { device: pair.device, ...options }), g.outputs);
  }

  async logRatio(z: Tensor): Promise<Float32Array> {
    return (await this.session.runRows({ z }, [this.names[0]]))[this.names[0]].data;
  }

  async logRatioAndGrad(z: Tensor): Promise<{ logRatio: Float32Array; grad: Float32Array }> {
    const out = await this.session.runRows({ z });
    return { logRatio: out[this.names[0]].data, grad: out[this.names[1]].data };
  }

  release(): Promise<void> {
    return this.session.release();
  }
}

function validateDotRun(o: DotRunOptions): void {
  if (o.space !== 'data' && o.space !== 'latent') fail('invalid_argument', 'method', 'dot or dot-latent', String(o.space));
  validateNumSteps(o.numSteps);
  if (!Number.isInteger(o.kEffPool) || o.kEffPool < 2) fail('invalid_argument', 'kEffPool', 'an integer >= 2', String(o.kEffPool));
  if (!K_EFF_ESTIMATORS.includes(o.kEffEstimator)) fail('invalid_argument', 'kEffEstimator', `one of ${K_EFF_ESTIMATORS.join(', ')}`, String(o.kEffEstimator));
  if (!Number.isInteger(o.kEffTrials) || o.kEffTrials < 1) fail('invalid_argument', 'kEffTrials', 'an integer >= 1', String(o.kEffTrials));
  if (!Number.isInteger(o.kEffPairs) || o.kEffPairs < 1) fail('invalid_argument', 'kEffPairs', 'an integer >= 1', String(o.kEffPairs));
  if (!(o.kEffQuantile > 0 && o.kEffQuantile <= 1)) fail('invalid_argument', 'kEffQuantile', 'a number in (0, 1]', String(o.kEffQuantile));
  if (o.kEff !== undefined && !(o.kEff > 0 && Number.isFinite(o.kEff))) fail('invalid_argument', 'kEff', 'a positive finite number', String(o.kEff));
  if (o.space === 'latent' && o.box !== undefined)
    fail('invalid_argument', 'box', 'no --box with dot-latent (a uniform prior keeps z in [-1, 1])', String(o.box));
}

/**
 * DOT over ctx.n samples. Data space returns the transported samples x*; latent space returns
 * G(z*) and the latents z*. The summary records K_eff and how it was obtained.
 */
export async function runDot(ctx: RunContext, options: Partial<DotRunOptions> = {}): Promise<RefineOutput> {
  validateRunContext(ctx);
  const o = withDefaults(DOT_RUN_DEFAULTS, options);
  validateDotRun(o);
  const { pair, n, seed, batchSize } = ctx;
  const latent = o.space === 'latent';
  const d = pair.meta.latentDim;
  const dataShape = pair.meta.dataShape;
  const size = dataShape.reduce((a, b) => a * b, 1);
  const box: [number, number] | undefined = latent
    ? pair.meta.latentPrior === 'uniform[-1,1]'
      ? [-1, 1]
      : undefined
    : o.box === 'none'
      ? undefined
      : (o.box ?? pair.meta.outputRange);
  // Validate the kernel options early (kEff placeholder when it will be estimated).
  validateDot({ stepSize: o.stepSize, kEff: o.kEff ?? 1, cost: o.cost, delta: o.delta, beta1: o.beta1, beta2: o.beta2, box });
  if (ctx.real !== undefined && !latent && ctx.real.length % size !== 0) {
    fail('shape_mismatch', 'real', `rows of ${size} values (data shape [${dataShape.join(', ')}])`, `${ctx.real.length} values`);
  }

  const samples = new Float32Array(n * size);
  const latents = latent ? new Float32Array(n * d) : undefined;
  const costs = new Float64Array(n);
  const lrBefore = new Float32Array(n);
  const lrAfter = new Float32Array(n);
  const infos: StepInfo[] = [];
  const total = n * Math.max(o.numSteps, 1);
  const t0 = performance.now();
  const gen = await GeneratorRunner.create(pair);
  let field: (RatioField & { logRatio(x: Tensor): Promise<Float32Array>; release(): Promise<void> }) | undefined;
  let kEff = o.kEff;
  let kEffSource = 'given';
  try {
    field = latent ? await LatentRatioField.create(pair) : await DataTarget.create(pair, true);
    if (kEff === undefined) {
      const f = field;
      // Points for the estimate: latents themselves (latent space) or their samples (data space).
      const pointsOf = async (z: Float32Array, count: number): Promise<Float32Array> => {
        if (latent) return z;
        const out = new Float32Array(count * size);
        for (let s = 0; s < count; s += batchSize) {
          const rows = Math.min(batchSize, count - s);
          out.set((await gen.generate({ data: z.subarray(s * d, (s + rows) * d), shape: [rows, d] })).data, s * size);
        }
        return out;
      };
      const width = latent ? d : size;
      const valuesOf = async (points: Float32Array, count: number): Promise<Float32Array> => {
        const values = new Float32Array(count);
        for (let s = 0; s < count; s += batchSize) {
          const rows = Math.min(batchSize, count - s);
          const shape = latent ? [rows, d] : [rows, ...dataShape];
          values.set(await f.logRatio({ data: points.subarray(s * width, (s + rows) * width), shape }), s);
        }
        return values;
      };
      const key = `dot-k-eff-${latent ? 'latent' : 'data'}-${o.kEffEstimator}-${o.kEffTrials}-${o.kEffPairs}-${o.kEffQuantile}-${o.kEffPool}`;
      const est = await once(ctx, key, async () => {
        if (o.kEffEstimator !== 'pool') {
          const m = o.kEffTrials * o.kEffPairs;
          const draw = (stream: number) => {
            const z = new Float32Array(m * d);
            for (let t = 0; t < o.kEffTrials; t++) {
              z.set(samplePrior(pair.meta.latentPrior, o.kEffPairs, d, new Rng(seed, stream, t)), t * o.kEffPairs * d);
            }
            return z;
          };
          const a = await pointsOf(draw(3), m);
          const b = await pointsOf(draw(4), m);
          const [va, vb] = [await valuesOf(a, m), await valuesOf(b, m)];
          const inZ = latent ? ', D o G in z' : '';
          if (o.kEffEstimator === 'quantile') {
            return {
              kEff: estimateKEffQuantile(a, b, va, vb, m, width, o.kEffQuantile),
              source: `${o.kEffQuantile} quantile of the slopes over ${m} random pairs${inZ}`,
            };
          }
          const kEff = estimateKEffPaper(a, b, va, vb, o.kEffTrials, o.kEffPairs, width);
          return { kEff, source: `mean over ${o.kEffTrials} sets of the max over ${o.kEffPairs} random pairs (the authors' estimator${inZ})` };
        }
        // The pool: prior latents (latent space) or generator samples plus real rows (data space).
        const m = o.kEffPool;
        const zPool = samplePrior(pair.meta.latentPrior, m, d, new Rng(seed, 2));
        let points = await pointsOf(zPool, m);
        let count = m;
        if (!latent && ctx.real) {
          const realRows = Math.min(m, ctx.real.length / size);
          count = m + realRows;
          const joined = new Float32Array(count * size);
          joined.set(points);
          joined.set(ctx.real.subarray(0, realRows * size), m * size);
          points = joined;
        }
        const pairs = (count * (count - 1)) / 2;
        return {
          kEff: estimateKEff(points, await valuesOf(points, count), count, width),
          source: latent
            ? `max over ${pairs} pairs of ${m} prior latents (D o G)`
            : `max over ${pairs} pairs of generated${count > m ? ' and real' : ''} samples`,
        };
      });
      kEff = est.kEff;
      kEffSource = est.source;
      if (!(kEff > 0) || !Number.isFinite(kEff)) {
        fail('invalid_model', 'K_eff estimate', 'a positive finite max |D(a) - D(b)| / |a - b| over sample pairs (or pass --k-eff)', String(kEff));
      }
    }
    const kernel = dotKernel(field, { stepSize: o.stepSize, kEff, cost: o.cost, delta: o.delta, beta1: o.beta1, beta2: o.beta2, box });
    const first = ctx.start ?? 0;
    for (const b of batchesOf(first, n, batchSize)) {
      const start = b.start - first;
      const rows = b.rows;
      const z = startLatents(pair.meta.latentPrior, seed, b.start, rows, d, ctx.latents);
      let init: DotState;
      if (latent) init = dotInit({ data: z, shape: [rows, d] });
      else {
        const y = await gen.generate({ data: z, shape: [rows, d] });
        init = dotInit({ data: y.data, shape: [rows, ...dataShape] });
      }
      const rowShape = latent ? [rows, d] : [rows, ...dataShape];
      lrBefore.set(await field.logRatio({ data: init.position, shape: rowShape }), start);
      const watch = chainWatch(ctx.hooks?.watch, latent ? 'dot-latent' : 'dot', start, rows, o.numSteps, latent ? latentView(gen, d) : positionView(size));
      await watch.start(init);
      const hooks = batchChainHooks(ctx, start, rows, o.numSteps, total);
      const { state, infos: chunkInfos } = await runChain(kernel, init, o.numSteps, RowStreams.range([seed, 1], b.start), watch.hooks(hooks));
      infos.push(...chunkInfos);
      costs.set(transportCosts(state), start);
      lrAfter.set(await field.logRatio({ data: state.position, shape: rowShape }), start);
      if (latent) {
        latents!.set(state.position, start * d);
        samples.set((await gen.generate({ data: state.position, shape: [rows, d] })).data, start * size);
      } else samples.set(state.position, start * size);
      ctx.hooks?.onProgress?.((start + rows) * Math.max(o.numSteps, 1), total);
    }
  } finally {
    await field?.release();
    await gen.release();
  }
  const s = summarize(infos);
  return {
    samples,
    latents,
    summary: {
      method: latent ? 'dot-latent' : 'dot',
      space: o.space,
      numSteps: o.numSteps,
      stepSize: o.stepSize,
      kEff,
      kEffSource,
      cost: o.cost,
      delta: o.delta,
      beta1: o.beta1,
      beta2: o.beta2,
      box: box ?? null,
      acceptance: 1,
      gradNorm: s.mean.gradNorm ?? 0,
      nonFinite: s.nonFinite,
      logRatioBefore: finiteMean(lrBefore),
      logRatioAfter: finiteMean(lrAfter),
      transportCost: finiteMean(costs),
    },
    seconds: (performance.now() - t0) / 1000,
  };
}
