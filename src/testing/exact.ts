/**
 * Targets whose answer is exact, for statistical tests of refinement methods.
 *
 * The generator is the identity on a N(0, I) latent, so p_g = N(0, I). The "discriminator" outputs
 * the exact log density ratio log p_target(x) - log N(x; 0, I) to an isotropic Gaussian mixture
 * p_target. A method that is correct for an exact logRatio must therefore return draws of
 * p_target, which we can also sample directly.
 */
import { inline } from '../onnx/compose.js';
import { Graph, int } from '../onnx/graph.js';
import type { ModelPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { discriminatorGraph } from '../models/pair.js';

export interface Mixture {
  /** Component means, [k][d]. */
  means: number[][];
  /** Shared isotropic std of every component. */
  std: number;
  /** Mixture weights (sum 1). */
  weights: number[];
}

export const dim = (m: Mixture): number => m.means[0].length;

/** A bimodal 2-D mixture with unequal weights: mass near the prior but clearly not the prior. */
export const BIMODAL: Mixture = {
  means: [
    [-1, 0.5],
    [1.2, -0.4],
  ],
  std: 0.5,
  weights: [0.35, 0.65],
};

/** Exact log p_target(x) - log N(x; 0, I) for one point, in float64. */
export function exactLogRatio(m: Mixture, x: ArrayLike<number>): number {
  const d = dim(m);
  const terms = m.means.map((mu, k) => {
    let s = 0;
    for (let j = 0; j < d; j++) s += (x[j] - mu[j]) ** 2;
    return Math.log(m.weights[k]) - d * Math.log(m.std) - s / (2 * m.std * m.std);
  });
  const top = Math.max(...terms);
  const lse = top + Math.log(terms.reduce((a, t) => a + Math.exp(t - top), 0));
  let xx = 0;
  for (let j = 0; j < d; j++) xx += x[j] * x[j];
  return lse + xx / 2;
}

/** n exact draws of the mixture, [n, d] row-major. */
export function sampleMixture(m: Mixture, n: number, rng: Rng): Float32Array {
  const d = dim(m);
  const out = new Float32Array(n * d);
  const cdf: number[] = [];
  m.weights.reduce((a, w, k) => (cdf[k] = a + w), 0);
  for (let i = 0; i < n; i++) {
    const u = rng.uniform();
    let k = cdf.findIndex((c) => u < c);
    if (k < 0) k = m.weights.length - 1;
    for (let j = 0; j < d; j++) out[i * d + j] = m.means[k][j] + m.std * rng.normal();
  }
  return out;
}

/** Identity generator z -> x on [batch, d]. */
export function identityGenerator(d: number): Graph {
  const g = new Graph();
  g.name = 'identity_generator';
  const z = g.addInput('z', 'float32', ['batch', d]);
  g.add('Identity', [z], {}, ['x']);
  g.outputs = ['x'];
  return g;
}

/**
 * D(x) = log p_target(x) - log N(x; 0, I) as an ONNX graph, output [batch, 1]. `scale` and `shift`
 * turn it into a wrong ratio (for negative controls): scale * exact + shift.
 */
export function exactRatioGraph(m: Mixture, options: { scale?: number; shift?: number } = {}): Graph {
  const d = dim(m);
  const k = m.means.length;
  const s2 = m.std * m.std;
  const g = new Graph();
  g.name = 'exact_log_ratio';
  const x = g.addInput('x', 'float32', ['batch', d]);
  const meansT = g.constant({ dtype: 'float32', dims: [d, k], data: Float32Array.from({ length: d * k }, (_, i) => m.means[i % k][Math.floor(i / k)]) });
  const bias = g.constant({
    dtype: 'float32',
    dims: [1, k],
    data: Float32Array.from(m.means, (mu, c) => Math.log(m.weights[c]) - d * Math.log(m.std) - mu.reduce((a, v) => a + v * v, 0) / (2 * s2)),
  });
  const xx = g.op('ReduceSum', [g.op('Mul', [x, x]), g.int64s([1])], { keepdims: int(1) });
  // a_k = (x.mu_k)/s^2 - |x|^2/(2 s^2) + log w_k - d log s - |mu_k|^2/(2 s^2)
  const a = g.op('Add', [g.op('Sub', [g.op('Mul', [g.op('MatMul', [x, meansT]), g.scalar(1 / s2)]), g.op('Mul', [xx, g.scalar(1 / (2 * s2))])]), bias]);
  // logsumexp_k a_k = a_0 - log softmax(a)_0
  const first = (t: string) => g.op('Slice', [t, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
  const lse = g.op('Sub', [first(a), first(g.op('LogSoftmax', [a], { axis: int(1) }))]);
  let out = g.op('Add', [lse, g.op('Mul', [xx, g.scalar(0.5)])]);
  if (options.scale !== undefined && options.scale !== 1) out = g.op('Mul', [out, g.scalar(options.scale)]);
  if (options.shift) out = g.op('Add', [out, g.scalar(options.shift)]);
  g.add('Identity', [out], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}

/** The identity-generator / exact-ratio pair, as loadPair would return it. */
export function exactPair(m: Mixture, options: { scale?: number; shift?: number } = {}): ModelPair {
  const d = dim(m);
  return {
    generator: identityGenerator(d),
    discriminator: exactRatioGraph(m, options),
    meta: { latentDim: d, latentPrior: 'normal', dataShape: [d], dOutput: 'logit' },
    files: { generator: '<identity>', discriminator: '<exact log ratio>' },
  };
}

/** Mixture mean and covariance (exact), for moment tests. */
export function mixtureMoments(m: Mixture): { mean: number[]; cov: number[][] } {
  const d = dim(m);
  const mean = new Array<number>(d).fill(0);
  m.means.forEach((mu, k) => {
    mu.forEach((v, j) => {
      mean[j] += m.weights[k] * v;
    });
  });
  const cov = Array.from({ length: d }, (_, i) => Array.from({ length: d }, (_, j) => (i === j ? m.std * m.std : 0)));
  m.means.forEach((mu, k) => {
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) cov[i][j] += m.weights[k] * (mu[i] - mean[i]) * (mu[j] - mean[j]);
  });
  return { mean, cov };
}

/**
 * Euler-Maruyama with step eta on a Gaussian of variance s^2 (drift -(x - m)/s^2, noise
 * sqrt(2 eta)) is stationary at variance s^2 / (1 - eta / (2 s^2)). Applying it per component
 * removes the first-order step-size bias of the mixture; what is left is O(eta^2).
 */
export function eulerInflated(m: Mixture, eta: number): Mixture {
  return { ...m, std: m.std / Math.sqrt(1 - eta / (2 * m.std * m.std)) };
}

/** D(x) = -a |x - c|^2 (+ logWeight * log(x_0) when given: NaN where x_0 < 0), output [batch, 1]. */
export function quadraticRatio(c: number[], a: number, logWeight = 0): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', c.length]);
  const diff = g.op('Sub', [x, g.constant({ dtype: 'float32', dims: [1, c.length], data: Float32Array.from(c) })]);
  const sq = g.op('ReduceSum', [g.op('Mul', [diff, diff]), g.int64s([1])], { keepdims: int(1) });
  let out = g.op('Mul', [sq, g.scalar(-a)]);
  if (logWeight !== 0) {
    const x0 = g.op('Slice', [x, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
    out = g.op('Add', [out, g.op('Mul', [g.op('Log', [x0]), g.scalar(logWeight)])]);
  }
  g.add('Identity', [out], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}

/** BIMODAL's exact ratio plus 0 * log(1.5 - x0): NaN wherever x0 > 1.5, the exact value elsewhere. */
export function nanPair(): ModelPair {
  return maskedPair('nan');
}

/** BIMODAL's exact ratio plus -log(relu(1.5 - x0)): +Inf wherever x0 >= 1.5, finite elsewhere. */
export function infPair(): ModelPair {
  return maskedPair('inf');
}

function maskedPair(kind: 'nan' | 'inf'): ModelPair {
  const base = exactPair(BIMODAL);
  const g = new Graph();
  g.name = `${kind}_ratio`;
  const x = g.addInput('x', 'float32', ['batch', 2]);
  const logit = inline(g, discriminatorGraph(base), 'e/', { x }).logit;
  const x0 = g.op('Slice', [x, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
  const gap = g.op('Sub', [g.scalar(1.5), x0]);
  const mask = kind === 'nan' ? g.op('Mul', [g.op('Log', [gap]), g.scalar(0)]) : g.op('Neg', [g.op('Log', [g.op('Relu', [gap])])]);
  g.add('Identity', [g.op('Add', [logit, mask])], {}, ['logit']);
  g.outputs = ['logit'];
  return { ...base, discriminator: g };
}

/**
 * Correlated Gaussian samples for metric tests against reference implementations: rows z A with
 * z ~ N(0, I_d) and A = I + scale · N(0, 1)/sqrt(d), shifted by `shift`; reproducible from `seed`
 * (scripts/reference/ writes the same arrays for numpy/scipy).
 */
export function correlatedSamples(n: number, d: number, seed: number, scale: number, shift: number): Float64Array {
  const rng = new Rng(seed, 0x6d6978);
  const a = rng.fillNormal(new Float64Array(d * d), 0, scale / Math.sqrt(d));
  for (let i = 0; i < d; i++) a[i * d + i] += 1;
  const z = rng.fillNormal(new Float64Array(n * d));
  const out = new Float64Array(n * d);
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < d; k++) {
      const zk = z[r * d + k];
      for (let j = 0; j < d; j++) out[r * d + j] += zk * a[k * d + j];
    }
    for (let j = 0; j < d; j++) out[r * d + j] += shift;
  }
  return out;
}

/** The reference cases of the Fréchet distance test: [name, d, nReal, nFake]. */
export const FRECHET_CASES: [string, number, number, number][] = [
  ['d64', 64, 600, 500],
  ['d256', 256, 1200, 1000],
  ['d512', 512, 3000, 2500],
  // fewer fake samples than dimensions: a singular covariance, the product's eigenvalues half zero
  ['d400-n150', 400, 1000, 150],
];

/** The real and fake samples of a Fréchet reference case. */
export function frechetCase(d: number, nReal: number, nFake: number): { real: Float64Array; fake: Float64Array } {
  return { real: correlatedSamples(nReal, d, 1, 0.5, 0), fake: correlatedSamples(nFake, d, 2, 0.8, 0.05) };
}

/**
 * An affine Gaussian case: G(z) = A z + b (so p_g = N(b, A A^T)) and D(x) = log N(x; m, S) -
 * log N(x; b, A A^T), the exact log ratio to the target N(m, S) (constants included). Every
 * refinement method's target p0(z) exp(D(G(z))) then pushes forward to exactly N(m, S).
 */
export interface AffineCase {
  /** [d, d] row-major. */
  a: number[][];
  b: number[];
  /** Target mean and covariance. */
  mean: number[];
  cov: number[][];
}

/** The lower Cholesky factor L (L L^T = s) of a symmetric positive definite matrix, float64. */
function cholesky(s: number[][]): number[][] {
  const d = s.length;
  const l = s.map(() => new Array<number>(d).fill(0));
  for (let i = 0; i < d; i++) {
    for (let j = 0; j <= i; j++) {
      let v = s[i][j];
      for (let k = 0; k < j; k++) v -= l[i][k] * l[j][k];
      l[i][j] = i === j ? Math.sqrt(v) : v / l[j][j];
    }
  }
  return l;
}

/** n exact draws of N(mean, cov), [n, d] row-major. */
export function sampleGaussian(mean: number[], cov: number[][], n: number, rng: Rng): Float32Array {
  const d = mean.length;
  const l = cholesky(cov);
  const out = new Float32Array(n * d);
  const e = new Array<number>(d);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < d; j++) e[j] = rng.normal();
    for (let i = 0; i < d; i++) out[r * d + i] = mean[i] + l[i].reduce((a, v, k) => a + v * e[k], 0);
  }
  return out;
}

/** Inverse and log-determinant of a symmetric positive definite matrix (Cholesky, float64). */
function spdInverse(s: number[][]): { inv: number[][]; logDet: number } {
  const d = s.length;
  const l = cholesky(s);
  // inv = L^-T L^-1, column by column.
  const inv = s.map(() => new Array<number>(d).fill(0));
  for (let c = 0; c < d; c++) {
    const y = new Array<number>(d).fill(0);
    for (let i = 0; i < d; i++) {
      let v = i === c ? 1 : 0;
      for (let k = 0; k < i; k++) v -= l[i][k] * y[k];
      y[i] = v / l[i][i];
    }
    for (let i = d - 1; i >= 0; i--) {
      let v = y[i];
      for (let k = i + 1; k < d; k++) v -= l[k][i] * inv[k][c];
      inv[i][c] = v / l[i][i];
    }
  }
  return { inv, logDet: 2 * l.reduce((acc, row, i) => acc + Math.log(row[i]), 0) };
}

/** log N(x; mu, S) as graph nodes on x [batch, d] -> [batch, 1]. */
function gaussianLogDensity(g: Graph, x: string, mu: number[], s: number[][]): string {
  const d = mu.length;
  const { inv, logDet } = spdInverse(s);
  const u = g.op('Sub', [x, g.float32(Float32Array.from(mu), [d])]);
  const pu = g.op('MatMul', [u, g.float32(Float32Array.from(inv.flat()), [d, d])]);
  const quad = g.op('ReduceSum', [g.op('Mul', [pu, u]), g.int64s([1])], { keepdims: int(1) });
  return g.op('Add', [g.op('Mul', [quad, g.scalar(-0.5)]), g.scalar(-0.5 * (d * Math.log(2 * Math.PI) + logDet))]);
}

/** The affine case's pair (see AffineCase); `scale` multiplies D (a wrong ratio, for negative controls). */
export function affinePair(c: AffineCase, scale = 1): ModelPair {
  const d = c.b.length;
  const gen = new Graph();
  gen.name = 'affine_generator';
  const z = gen.addInput('z', 'float32', ['batch', d]);
  const at = Float32Array.from({ length: d * d }, (_, i) => c.a[i % d][Math.floor(i / d)]);
  gen.add('Add', [gen.op('MatMul', [z, gen.float32(at, [d, d])]), gen.float32(Float32Array.from(c.b), [d])], {}, ['x']);
  gen.outputs = ['x'];
  // p_g's covariance A A^T.
  const pg = c.a.map((row) => c.a.map((other) => row.reduce((acc, v, k) => acc + v * other[k], 0)));
  const dis = new Graph();
  dis.name = 'affine_exact_log_ratio';
  const x = dis.addInput('x', 'float32', ['batch', d]);
  let out = dis.op('Sub', [gaussianLogDensity(dis, x, c.mean, c.cov), gaussianLogDensity(dis, x, c.b, pg)]);
  if (scale !== 1) out = dis.op('Mul', [out, dis.scalar(scale)]);
  dis.add('Identity', [out], {}, ['logit']);
  dis.outputs = ['logit'];
  return {
    generator: gen,
    discriminator: dis,
    meta: { latentDim: d, latentPrior: 'normal', dataShape: [d], dOutput: 'logit' },
    files: { generator: '<affine>', discriminator: '<exact log ratio>' },
  };
}

/**
 * A 4-D affine case of its own (not the 2-D mixture the samplers were checked on): a rotated and
 * stretched generator, a target shifted by about one generator standard deviation with
 * correlations of its own.
 */
export const AFFINE4: AffineCase = {
  a: [
    [1.2, 0.3, 0, -0.2],
    [0.1, 0.9, 0.4, 0],
    [0, -0.3, 1.1, 0.2],
    [0.2, 0, -0.1, 0.8],
  ],
  b: [0.5, -0.5, 0, 1],
  mean: [1.3, 0.2, -0.6, 0.4],
  cov: [
    [0.9, 0.3, 0, 0.1],
    [0.3, 0.7, 0.2, 0],
    [0, 0.2, 0.8, -0.2],
    [0.1, 0, -0.2, 0.6],
  ],
};

/**
 * D(x) = (x * x) A + x W + b on [batch, 2] with A, W [2, 1] and b [1] as initializers named 'A',
 * 'W', 'b' (trainable): a family that holds the exact log ratio of two diagonal Gaussians.
 */
export function diagonalQuadratic(A: number[] = [0, 0], W: number[] = [0, 0], b = 0): Graph {
  const g = new Graph();
  g.name = 'diagonal_quadratic';
  const x = g.addInput('x', 'float32', ['batch', 2]);
  const pA = g.addInitializer('A', { dtype: 'float32', dims: [2, 1], data: Float32Array.from(A) });
  const pW = g.addInitializer('W', { dtype: 'float32', dims: [2, 1], data: Float32Array.from(W) });
  const pb = g.addInitializer('b', { dtype: 'float32', dims: [1], data: Float32Array.of(b) });
  const out = g.op('Add', [g.op('Add', [g.op('MatMul', [g.op('Mul', [x, x]), pA]), g.op('MatMul', [x, pW])]), pb]);
  g.add('Identity', [out], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}
