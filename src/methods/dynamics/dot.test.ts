import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RefineryError } from '../../errors.js';
import type { LatentPrior } from '../../models/meta.js';
import type { ModelPair } from '../../models/pair.js';
import { Graph } from '../../onnx/graph.js';
import { RowStreams, Rng } from '../../rng.js';
import { runChain } from '../../run/driver.js';
import { runDot } from '../../run/dot.js';
import { DataTarget } from '../../targets/data.js';
import { identityGenerator, quadraticRatio } from '../../testing/exact.js';
import { dotInit, dotKernel, DOT_DEFAULTS, estimateKEff, estimateKEffPaper } from './dot.js';

process.env.REFINERY_THREADS ??= '1';

/** D(x) = w . x + b, output [batch, 1]. */
function linearRatio(w: number[], b = 0): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', w.length]);
  const y = g.op('MatMul', [x, g.constant({ dtype: 'float32', dims: [w.length, 1], data: Float32Array.from(w) })]);
  g.add('Add', [y, g.scalar(b)], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}

function pairWith(discriminator: Graph, d: number, prior: LatentPrior = 'normal'): ModelPair {
  return {
    generator: identityGenerator(d),
    discriminator,
    meta: { latentDim: d, latentPrior: prior, dataShape: [d], dOutput: 'logit' },
    files: { generator: '<identity>', discriminator: '<test>' },
  };
}

/**
 * The exact DOT optimum for D(x) = -a |x - c|^2: by symmetry x* = y + t* u, u = (c - y) / L,
 * L = |c - y|, where t* in (0, L) solves t / sqrt(t^2 + delta) = 2 (a / K) (L - t) (the left side
 * increases and the right decreases in t, so bisection in float64 finds the unique root).
 */
function exactOptimum(y: ArrayLike<number>, c: number[], a: number, k: number, delta: number): number[] {
  const L = Math.hypot(...c.map((ci, j) => ci - y[j]));
  let lo = 0;
  let hi = L;
  for (let it = 0; it < 200; it++) {
    const t = (lo + hi) / 2;
    if (t / Math.sqrt(t * t + delta) - 2 * (a / k) * (L - t) < 0) lo = t;
    else hi = t;
  }
  const t = (lo + hi) / 2;
  return c.map((ci, j) => y[j] + (t * (ci - y[j])) / L);
}

describe('DOT converges to the analytic optimum', () => {
  const c = [1, 0.5];
  const a = 1;
  const k = 1.5;
  const delta = DOT_DEFAULTS.delta;
  const n = 64;
  let field: DataTarget;
  let y: Float32Array;
  before(async () => {
    field = await DataTarget.create(pairWith(quadraticRatio(c, a), 2), true);
    // Starts within reach: Adam moves each coordinate about lr per step, so 3000 steps at lr 1e-3
    // cover 3 units; 0.5 N(0, I) keeps every y within 2.8 of c for this seed (checked below).
    y = new Rng(21).fillNormal(new Float32Array(n * 2)).map((v) => 0.5 * v);
    for (let r = 0; r < n; r++) assert.ok(Math.hypot(c[0] - y[2 * r], c[1] - y[2 * r + 1]) < 2.8);
  });
  after(async () => {
    await field.release();
  });

  async function maxError(kRun: number, stepSize: number, steps: number): Promise<{ err: number; moved: number }> {
    const kernel = dotKernel(field, { ...DOT_DEFAULTS, cost: 'smooth', stepSize, kEff: kRun });
    const { state, infos } = await runChain(kernel, dotInit({ data: y, shape: [n, 2] }), steps, RowStreams.range([0], 0));
    assert.ok(infos.every((i) => i.nonFinite === 0 && i.acceptance === 1));
    let err = 0;
    let moved = 0;
    for (let r = 0; r < n; r++) {
      const yr = y.subarray(2 * r, 2 * r + 2);
      const opt = exactOptimum(yr, c, a, k, delta);
      err = Math.max(err, Math.hypot(state.position[2 * r] - opt[0], state.position[2 * r + 1] - opt[1]));
      moved = Math.max(moved, Math.hypot(opt[0] - yr[0], opt[1] - yr[1]));
    }
    return { err, moved };
  }

  it('Adam at lr 0.01 (the paper) ends within 2 lr of x*, and at lr 0.001 within 2e-3', async () => {
    const coarse = await maxError(k, 0.01, 500);
    assert.ok(coarse.moved > 1, `the optimum is far from y (max ${coarse.moved})`);
    assert.ok(coarse.err < 0.02, `max |x - x*| = ${coarse.err}`);
    const fine = await maxError(k, 0.001, 3000);
    assert.ok(fine.err < 2e-3, `max |x - x*| = ${fine.err}`);
  });

  it("the authors' cost |x - y + delta|: Adam ends at its optimum, which the smooth cost's misses", async () => {
    // With w = x + delta 1 the objective is |w - y| + a |w - (c + delta 1)|^2 / K: the plain-norm
    // problem, whose optimum lies K / (2a) short of the shifted centre on the segment from y. A
    // large delta (0.05) sets the two costs' optima well apart.
    const shift = 0.05;
    const kernel = dotKernel(field, { ...DOT_DEFAULTS, cost: 'paper', delta: shift, stepSize: 0.001, kEff: k });
    const { state } = await runChain(kernel, dotInit({ data: y, shape: [n, 2] }), 3000, RowStreams.range([0], 0));
    let err = 0;
    let gap = Number.POSITIVE_INFINITY;
    for (let r = 0; r < n; r++) {
      const yr = y.subarray(2 * r, 2 * r + 2);
      const cs = c.map((ci) => ci + shift);
      const L = Math.hypot(cs[0] - yr[0], cs[1] - yr[1]);
      const t = Math.max(0, L - k / (2 * a));
      const opt = [0, 1].map((j) => yr[j] + (t * (cs[j] - yr[j])) / L - shift);
      err = Math.max(err, Math.hypot(state.position[2 * r] - opt[0], state.position[2 * r + 1] - opt[1]));
      const smooth = exactOptimum(yr, c, a, k, shift);
      gap = Math.min(gap, Math.hypot(smooth[0] - opt[0], smooth[1] - opt[1]));
    }
    assert.ok(err < 5e-3, `max |x - x*| = ${err}`);
    assert.ok(gap > 5 * err, `the two costs' optima differ (by at least ${gap}) by more than the error (${err})`);
  });

  it('negative control: with K_eff doubled the end points miss x*(K)', async () => {
    const wrong = await maxError(2 * k, 0.001, 3000);
    assert.ok(wrong.err > 0.2, `max |x - x*| = ${wrong.err}`);
  });

  it('transport cost and objective behave: cost grows from 0, objective decreases', async () => {
    const kernel = dotKernel(field, { ...DOT_DEFAULTS, cost: 'smooth', kEff: k });
    const { infos } = await runChain(kernel, dotInit({ data: y, shape: [n, 2] }), 200, RowStreams.range([0], 0));
    assert.ok(infos[0].transportCost > 0 && infos[0].transportCost < 0.02);
    let exactCost = 0;
    for (let r = 0; r < n; r++) {
      const yr = y.subarray(2 * r, 2 * r + 2);
      const opt = exactOptimum(yr, c, a, k, delta);
      exactCost += Math.hypot(opt[0] - yr[0], opt[1] - yr[1]) / n;
    }
    assert.ok(exactCost > 0.3, `mean optimal transport ${exactCost}`);
    assert.ok(infos[199].transportCost > 0.8 * exactCost, `transport ${infos[199].transportCost} of ${exactCost}`);
    // Objective phi_y(x) = sqrt(|x - y|^2 + delta) + a |x - c|^2 / K: most of the way from y to x*.
    const phi = (x: number[], yr: ArrayLike<number>) =>
      Math.sqrt((x[0] - yr[0]) ** 2 + (x[1] - yr[1]) ** 2 + delta) + (a * ((x[0] - c[0]) ** 2 + (x[1] - c[1]) ** 2)) / k;
    let atY = 0;
    let atOpt = 0;
    for (let r = 0; r < n; r++) {
      const yr = y.subarray(2 * r, 2 * r + 2);
      atY += phi([yr[0], yr[1]], yr) / n;
      atOpt += phi(exactOptimum(yr, c, a, k, delta), yr) / n;
    }
    assert.ok(infos[199].objective < atY - 0.9 * (atY - atOpt), `${infos[0].objective} -> ${infos[199].objective} (at y ${atY}, optimum ${atOpt})`);
    // At x = y the safe-norm gradient is 0, so |grad phi| = |grad logRatio| / K.
    assert.ok(Math.abs(infos[0].gradNorm - infos[0].ratioGradNorm / k) < 1e-5);
  });
});

describe('K_eff', () => {
  it('of a linear D(x) = w . x is |w| (pairs of normal draws)', () => {
    const w = [3, -4, 12]; // |w| = 13
    const n = 200;
    const pts = new Rng(3).fillNormal(new Float64Array(n * 3));
    const vals = Float64Array.from({ length: n }, (_, i) => w[0] * pts[3 * i] + w[1] * pts[3 * i + 1] + w[2] * pts[3 * i + 2]);
    const kEff = estimateKEff(pts, vals, n, 3);
    assert.ok(kEff <= 13 * (1 + 1e-12) && kEff > 13 * (1 - 2e-3), `K_eff = ${kEff}`);
  });

  it("the authors' estimator: the mean over sets of the max slope over random pairs", () => {
    // Two sets of two pairs in 1-D: maxima 2 and 0.5 -> 1.25; a NaN value and a = b are skipped.
    assert.equal(estimateKEffPaper([0, 0, 0, 1], [1, 1, 0, 3], [0, 1, 5, 0], [2, 1.5, Number.NaN, 1], 2, 2, 1), 1.25);
    // A linear D(x) = w . x: each set's max over 100 random pairs of |w . u| / |u| is below |w|
    // and, in 3-D where |cos| is uniform on [0, 1], about 0.99 |w|.
    const w = [3, -4, 12];
    const trials = 10;
    const pairs = 100;
    const a = new Rng(5).fillNormal(new Float64Array(trials * pairs * 3));
    const b = new Rng(6).fillNormal(new Float64Array(trials * pairs * 3));
    const dot = (p: Float64Array, i: number) => w[0] * p[3 * i] + w[1] * p[3 * i + 1] + w[2] * p[3 * i + 2];
    const va = Float64Array.from({ length: trials * pairs }, (_, i) => dot(a, i));
    const vb = Float64Array.from({ length: trials * pairs }, (_, i) => dot(b, i));
    const kEff = estimateKEffPaper(a, b, va, vb, trials, pairs, 3);
    assert.ok(kEff <= 13 && kEff > 13 * 0.95, `K_eff = ${kEff}`);
    // Fewer pairs per set: a smaller estimate (the max of fewer slopes).
    assert.ok(estimateKEffPaper(a, b, va, vb, trials * 50, 2, 3) < 0.9 * kEff);
  });

  it('skips non-finite values and coincident points; NaN when no pair qualifies', () => {
    assert.equal(estimateKEff([0, 0, 1, 1], [0, 0.5, Number.NaN, 1], 4, 1), 1);
    assert.ok(Number.isNaN(estimateKEff([2, 2], [0, 1], 2, 1)));
  });

  it('runDot estimates |w| in data space (with and without real rows) and in latent space', async () => {
    const w = [0.6, -0.8];
    const pair = pairWith(linearRatio(w, 0.3), 2);
    const real = new Rng(4).fillNormal(new Float32Array(100 * 2), 2, 1);
    for (const [space, r] of [
      ['data', undefined],
      ['data', real],
      ['latent', undefined],
    ] as const) {
      const out = await runDot({ pair, n: 4, seed: 1, batchSize: 50, real: r }, { space, numSteps: 1, kEffEstimator: 'pool', kEffPool: 120 });
      const kEff = out.summary.kEff as number;
      assert.ok(kEff <= 1 + 1e-5 && kEff > 0.995, `${space}: K_eff = ${kEff}`);
      assert.match(String(out.summary.kEffSource), r ? /generated and real/ : space === 'latent' ? /latents/ : /generated samples/);
    }
    // The authors' estimator (the default): in 2-D the max over 100 random directions of |cos| is
    // above 0.99 in each set.
    for (const space of ['data', 'latent'] as const) {
      const out = await runDot({ pair, n: 4, seed: 1, batchSize: 50 }, { space, numSteps: 1 });
      const kEff = out.summary.kEff as number;
      assert.ok(kEff <= 1 + 1e-5 && kEff > 0.99, `${space}: K_eff = ${kEff}`);
      assert.match(String(out.summary.kEffSource), /mean over 10 sets of the max over 100 random pairs/);
    }
  });

  it('a constant D gives a clear error (suggesting --k-eff); a given --k-eff skips the estimate', async () => {
    const pair = pairWith(linearRatio([0, 0], 1), 2);
    await assert.rejects(
      runDot({ pair, n: 4, seed: 1, batchSize: 4 }, { numSteps: 1 }),
      (e: unknown) => e instanceof RefineryError && e.code === 'invalid_model' && /--k-eff/.test(e.message),
    );
    const out = await runDot({ pair, n: 4, seed: 1, batchSize: 4 }, { numSteps: 3, kEff: 2, cost: 'smooth' });
    assert.equal(out.summary.kEff, 2);
    assert.equal(out.summary.kEffSource, 'given');
    // Zero gradient of D: with the smooth cost x = y stays optimal (grad phi = 0 at x = y).
    const base = await runDot({ pair, n: 4, seed: 1, batchSize: 4 }, { numSteps: 0, kEff: 2 });
    assert.deepEqual(out.samples, base.samples);
    // The authors' cost |x - y + delta| is smallest at x = y - delta: Adam heads there (and then
    // oscillates by about its step).
    const paper = await runDot({ pair, n: 4, seed: 1, batchSize: 4 }, { numSteps: 3, kEff: 2, cost: 'paper' });
    for (let i = 0; i < paper.samples.length; i++) assert.ok(paper.samples[i] < base.samples[i], `coordinate ${i} moved down`);
  });
});

describe('runDot', () => {
  const c = [1, 0.5];
  const pair = pairWith(quadraticRatio(c, 1), 2);

  it('latent space with an identity generator equals data space', async () => {
    const ctx = { pair, n: 40, seed: 6, batchSize: 16 };
    const data = await runDot(ctx, { space: 'data', numSteps: 50, kEff: 1.5 });
    const lat = await runDot(ctx, { space: 'latent', numSteps: 50, kEff: 1.5 });
    assert.equal(lat.summary.method, 'dot-latent');
    assert.equal(data.latents, undefined);
    assert.ok(lat.latents !== undefined);
    for (let i = 0; i < data.samples.length; i++) {
      assert.ok(Math.abs(data.samples[i] - lat.samples[i]) < 1e-5);
      assert.ok(Math.abs(lat.latents[i] - lat.samples[i]) < 1e-6);
    }
    assert.ok(Math.abs((data.summary.transportCost as number) - (lat.summary.transportCost as number)) < 1e-5);
    assert.ok((data.summary.logRatioAfter as number) > (data.summary.logRatioBefore as number) + 0.5);
  });

  it('keeps uniform-prior latents in [-1, 1] (c outside the box)', async () => {
    const p = pairWith(quadraticRatio([3, -3], 1), 2, 'uniform[-1,1]');
    const out = await runDot({ pair: p, n: 50, seed: 2, batchSize: 50 }, { space: 'latent', numSteps: 300, kEff: 1 });
    assert.deepEqual(out.summary.box, [-1, 1]);
    assert.ok(out.latents!.every((v) => v >= -1 && v <= 1));
    assert.ok(out.latents!.some((v) => v === 1) && out.latents!.some((v) => v === -1));
  });

  it('keeps rows whose logRatio is NaN at y and counts them', async () => {
    const p = pairWith(quadraticRatio([2, 0], 1, 0.01), 2);
    const n = 60;
    const base = await runDot({ pair: p, n, seed: 9, batchSize: 25 }, { numSteps: 0, kEff: 1 });
    const out = await runDot({ pair: p, n, seed: 9, batchSize: 25 }, { numSteps: 20, kEff: 1 });
    let bad = 0;
    for (let r = 0; r < n; r++) {
      if (base.samples[2 * r] < 0) {
        bad++;
        assert.equal(out.samples[2 * r], base.samples[2 * r]);
        assert.equal(out.samples[2 * r + 1], base.samples[2 * r + 1]);
      } else assert.notEqual(out.samples[2 * r], base.samples[2 * r]);
    }
    assert.ok(bad > 10);
    assert.equal(out.summary.nonFinite, 20 * bad);
  });

  it('is deterministic', async () => {
    const ctx = { pair, n: 30, seed: 3, batchSize: 16 };
    const a = await runDot(ctx, { numSteps: 10 });
    const b = await runDot(ctx, { numSteps: 10 });
    assert.deepEqual(a.samples, b.samples);
    assert.deepEqual(a.summary, b.summary);
  });

  it('rejects bad options with the CLI option name', async () => {
    const ctx = { pair, n: 10, seed: 0, batchSize: 10 };
    const cases: [Parameters<typeof runDot>[1], string][] = [
      [{ stepSize: 0 }, 'stepSize'],
      [{ kEff: -1 }, 'kEff'],
      [{ kEffPool: 1 }, 'kEffPool'],
      [{ kEffEstimator: 'median' as 'pool' }, 'kEffEstimator'],
      [{ kEffTrials: 0 }, 'kEffTrials'],
      [{ kEffPairs: 1.5 }, 'kEffPairs'],
      [{ cost: 'l1' as 'paper' }, 'dotCost'],
      [{ delta: 0 }, 'dotDelta'],
      [{ beta2: 1 }, 'beta2'],
      [{ numSteps: -1 }, 'numSteps'],
      [{ space: 'latent', box: [-1, 1] }, 'box'],
      [{ space: 'nowhere' as 'data' }, 'method'],
    ];
    for (const [o, path] of cases) {
      await assert.rejects(runDot(ctx, o), (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument' && e.issues[0].path === path, path);
    }
  });
});
