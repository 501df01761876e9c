/**
 * Sample likelihoods under a GAN (Balaji et al. 2019, "Entropic GANs meet VAEs: A Statistical
 * Approach to Compute Sample Likelihoods in GANs"). In the entropic GAN, the optimal coupling of
 * data y and latent x has the conditional
 *   P*(x | y) ∝ P_X(x) exp(v(y, x) / λ),   v(y, x) = D1(y) - D2(G(x)) - c(y, G(x)),
 * and the paper's surrogate log-likelihood of y (a lower bound of log f_Y(y) up to a constant) is
 *   L(y) = -E_P*[c(y, G(x))] / λ + H(P*(· | y)) + E_P*[log P_X(x)].
 * Substituting log P*(x | y) = log P_X(x) + v / λ - log Z(y) gives L(y) = log Z(y) - E_P*[c + v] / λ,
 * in which D1(y) cancels:
 *   L(y) = log E_{P_X}[exp(-(D(G(x)) + c(y, G(x))) / λ)] + E_P*[D(G(x))] / λ.
 * Refinery estimates both expectations with the same N prior draws x_k (self-normalised importance
 * sampling with weights ∝ exp(-(D(G(x_k)) + c_k) / λ)), so that the estimate converges to the
 * paper's expression as N grows. D is the pair's score as every method reads it (logRatio: a
 * critic as it is, a logit, or the logit of a probability), in the role of the dual potential
 * D2 = D1 of a WGAN critic. With `critic: false` the D terms are dropped and L(y) + log ∫ e^(-c/λ)
 * is the exact log density of the model y = G(x) + noise, noise ∝ exp(-c / λ).
 *
 * Where it departs from the official code: that code treats the prior draws as a grid (weights
 * P_X(x_k) exp(v_k / λ), discrete entropy), which weighs the prior twice; Refinery's estimator is
 * the importance-sampling one above. Defaults follow the official evaluation: the L1 cost
 * c(y, ŷ) = Σ |y - ŷ| and λ = 5.
 */
import { RefineryError, describe, fail, type Issue } from '../errors.js';
import type { ModelPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { samplePrior } from '../run/latent.js';
import { DataTarget } from '../targets/data.js';
import { GeneratorRunner } from '../targets/generator.js';
import type { Tensor } from '../tensor.js';
import { forEachDist2Block } from './gram.js';
import { allFinite } from './linalg.js';

/** Stream of the prior draws (not the samples' stream: a generator's own samples are not among them). */
export const LIKELIHOOD_STREAM = 0x4c4b;

/** Options of `ganLikelihood`. */
export interface LikelihoodOptions {
  /** Entropic regularisation λ > 0. Default 5 (the official evaluation's). */
  lambda?: number;
  /** Prior draws N. Default 2000. */
  samples?: number;
  /** Ground cost: 'l1' (Σ |y - ŷ|, the official code's; default) or 'l2' (½ |y - ŷ|²). */
  cost?: 'l1' | 'l2';
  /** Use D's score as the dual potential (default true); false: the pure noise-model likelihood. */
  critic?: boolean;
  /** Seed of the prior draws. Default 0. */
  seed?: number;
  /** Rows per generator and D call. Default 500. */
  batchSize?: number;
  signal?: AbortSignal;
}

/** Surrogate log-likelihoods of samples, in nats. */
export interface LikelihoodResult {
  /** Mean of L(y) over the samples. */
  mean: number;
  /** Standard deviation of L(y) over the samples. */
  std: number;
  /** L(y) per sample. */
  perSample: Float64Array;
  /** Per sample, the effective number of prior draws behind the estimate (1 / Σ w²; small = unreliable). */
  effectiveSamples: Float64Array;
  lambda: number;
  samples: number;
  cost: 'l1' | 'l2';
  critic: boolean;
}

export const LIKELIHOOD_DEFAULTS = { lambda: 5, samples: 2000, cost: 'l1' as 'l1' | 'l2', critic: true, seed: 0, batchSize: 500 };

/** The costs c(y_i, ŷ_k) of rows i0..i0+rows-1 of y against all N draws, row-major rows x N. */
async function costBlocks(
  y: Float32Array,
  m: number,
  yHat: Float32Array,
  n: number,
  d: number,
  cost: 'l1' | 'l2',
  visit: (i0: number, rows: number, c: Float64Array) => void,
): Promise<void> {
  if (cost === 'l2') {
    await forEachDist2Block(Float64Array.from(y), m, Float64Array.from(yHat), n, d, (i0, rows, d2) => {
      for (let t = 0; t < d2.length; t++) d2[t] *= 0.5;
      visit(i0, rows, d2);
    });
    return;
  }
  const rowsPerBlock = Math.max(1, Math.floor((1 << 20) / n));
  for (let i0 = 0; i0 < m; i0 += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, m - i0);
    const c = new Float64Array(rows * n);
    for (let r = 0; r < rows; r++) {
      const yo = (i0 + r) * d;
      for (let k = 0; k < n; k++) {
        const ko = k * d;
        let s = 0;
        for (let l = 0; l < d; l++) s += Math.abs(y[yo + l] - yHat[ko + l]);
        c[r * n + k] = s;
      }
    }
    visit(i0, rows, c);
  }
}

/**
 * The surrogate log-likelihood L(y) of each row of `x` [m, ...dataShape] under the GAN `pair`
 * (see the module doc), with its mean and spread.
 */
export async function ganLikelihood(pair: ModelPair, x: Tensor, options: LikelihoodOptions = {}): Promise<LikelihoodResult> {
  const o = { ...LIKELIHOOD_DEFAULTS, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as typeof LIKELIHOOD_DEFAULTS & {
    signal?: AbortSignal;
  };
  const issues: Issue[] = [];
  if (!(typeof o.lambda === 'number' && o.lambda > 0 && Number.isFinite(o.lambda)))
    issues.push({ path: 'lambda', expected: 'a positive number', received: describe(o.lambda) });
  if (!(Number.isInteger(o.samples) && o.samples >= 1)) issues.push({ path: 'samples', expected: 'a positive integer', received: describe(o.samples) });
  if (o.cost !== 'l1' && o.cost !== 'l2') issues.push({ path: 'cost', expected: "'l1' or 'l2'", received: describe(o.cost) });
  if (typeof o.critic !== 'boolean') issues.push({ path: 'critic', expected: 'true or false', received: describe(o.critic) });
  if (!Number.isInteger(o.seed)) issues.push({ path: 'seed', expected: 'an integer', received: describe(o.seed) });
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) issues.push({ path: 'batchSize', expected: 'a positive integer', received: describe(o.batchSize) });
  if (issues.length > 0) throw new RefineryError('invalid_argument', issues);
  const shape = pair.meta.dataShape;
  const d = shape.reduce((a, b) => a * b, 1);
  if (x.shape.length < 2 || x.shape.slice(1).join('x') !== shape.join('x')) {
    fail('shape_mismatch', 'samples', `samples [n, ${shape.join(', ')}] (the pair's data shape)`, `[${x.shape.join(', ')}]`);
  }
  const m = x.shape[0];
  const n = o.samples;
  const latentDim = pair.meta.latentDim;

  // The prior draws, G(x_k) and D(G(x_k)), in batches.
  const z = samplePrior(pair.meta.latentPrior, n, latentDim, new Rng(o.seed, LIKELIHOOD_STREAM));
  const yHat = new Float32Array(n * d);
  const score = new Float64Array(n);
  const gen = await GeneratorRunner.create(pair);
  const target = o.critic ? await DataTarget.create(pair, false) : undefined;
  try {
    for (let k0 = 0; k0 < n; k0 += o.batchSize) {
      if (o.signal?.aborted) throw new RefineryError('cancelled', [{ path: 'likelihood', expected: 'to run to the end', received: 'a stop' }]);
      const rows = Math.min(o.batchSize, n - k0);
      const out = await gen.generate({ data: z.subarray(k0 * latentDim, (k0 + rows) * latentDim), shape: [rows, latentDim] });
      yHat.set(out.data, k0 * d);
      if (target) score.set(await target.logRatio({ data: out.data, shape: [rows, ...shape] }), k0);
    }
  } finally {
    await gen.release();
    await target?.release();
  }
  if (!allFinite(score)) fail('internal', 'discriminator', 'finite scores of generated samples', 'a non-finite value');

  const perSample = new Float64Array(m);
  const effectiveSamples = new Float64Array(m);
  const a = new Float64Array(n);
  await costBlocks(x.data, m, yHat, n, d, o.cost, (i0, rows, c) => {
    for (let r = 0; r < rows; r++) {
      let max = -Infinity;
      for (let k = 0; k < n; k++) {
        a[k] = -(score[k] + c[r * n + k]) / o.lambda;
        if (a[k] > max) max = a[k];
      }
      let z0 = 0;
      let z1 = 0;
      let z2 = 0;
      for (let k = 0; k < n; k++) {
        const w = Math.exp(a[k] - max);
        z0 += w;
        z1 += w * score[k];
        z2 += w * w;
      }
      perSample[i0 + r] = max + Math.log(z0 / n) + z1 / z0 / o.lambda;
      effectiveSamples[i0 + r] = (z0 * z0) / z2;
    }
  });
  let mean = 0;
  for (const v of perSample) mean += v / m;
  let ss = 0;
  for (const v of perSample) ss += (v - mean) ** 2;
  return {
    mean,
    std: m > 1 ? Math.sqrt(ss / (m - 1)) : 0,
    perSample,
    effectiveSamples,
    lambda: o.lambda,
    samples: n,
    cost: o.cost,
    critic: o.critic,
  };
}
