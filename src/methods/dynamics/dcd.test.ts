import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { RefineryError } from '../../errors.js';
import type { ModelPair } from '../../models/pair.js';
import { Graph } from '../../onnx/graph.js';
import { RowStreams, Rng } from '../../rng.js';
import { runChain } from '../../run/driver.js';
import { runDcd } from '../../run/dcd.js';
import { SAMPLE_STREAM } from '../../run/latent.js';
import { DataTarget } from '../../targets/data.js';
import { BIMODAL, exactPair, identityGenerator, quadraticRatio } from '../../testing/exact.js';
import { meanZScores, projectedKs, varianceZScores } from '../../testing/stats.js';
import { dcdInit, dcdKernel } from './dcd.js';

process.env.REFINERY_THREADS ??= '1';

/** D(x) = w . x, output [batch, 1]. */
function linearRatio(w: number[]): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', w.length]);
  g.add('MatMul', [x, g.constant({ dtype: 'float32', dims: [w.length, 1], data: Float32Array.from(w) })], {}, ['logit']);
  g.outputs = ['logit'];
  return g;
}

function pairWith(discriminator: Graph, d: number, outputRange?: [number, number]): ModelPair {
  return {
    generator: identityGenerator(d),
    discriminator,
    meta: { latentDim: d, latentPrior: 'normal', dataShape: [d], dOutput: 'logit', outputRange },
    files: { generator: '<identity>', discriminator: '<test>' },
  };
}

describe('DCD stationary law', () => {
  // logRatio = -|x - c|^2 / (2 s^2): DCD (grad log p_g dropped) targets N(c, s^2 I). The unadjusted
  // chain's exact stationary law is N(c, s^2 / (1 - eps / (4 s^2)) I) (AR(1) with coefficient
  // 1 - eps / (2 s^2)); at eps = 0.01, s = 0.5 that is a 1% variance inflation, tested exactly.
  const c = [0.8, -0.6];
  const s = 0.5;
  const eps = 0.01;
  const n = 2000;
  const sUla2 = (s * s) / (1 - eps / (4 * s * s));
  let samples: Float32Array;

  before(async () => {
    const pair = pairWith(quadraticRatio(c, 1 / (2 * s * s)), 2);
    const out = await runDcd({ pair, n, seed: 11, batchSize: n }, { stepSize: eps, noise: 1, clip: Infinity, numSteps: 600 });
    samples = out.samples;
    assert.equal(out.summary.method, 'dcd');
    assert.equal(out.summary.nonFinite, 0);
  });

  it('matches N(c, s^2) in mean, variance and distribution', () => {
    const exact = {
      mean: c,
      cov: [
        [sUla2, 0],
        [0, sUla2],
      ],
    };
    const zm = meanZScores(samples, n, 2, exact);
    const zv = varianceZScores(samples, n, 2, exact);
    for (const z of [...zm, ...zv]) assert.ok(Math.abs(z) < 4, `z = ${z}`);
    const rng = new Rng(99);
    const ref = Float32Array.from({ length: n * 2 }, (_, i) => c[i % 2] + Math.sqrt(sUla2) * rng.normal());
    const ks = projectedKs(samples, n, ref, n, 2);
    assert.ok(ks.pValue > 1e-3, `KS p = ${ks.pValue}`);
  });

  it('negative control: a wrong centre fails the same test', () => {
    const wrong = {
      mean: [c[0] + 0.15, c[1]],
      cov: [
        [sUla2, 0],
        [0, sUla2],
      ],
    };
    const zm = meanZScores(samples, n, 2, wrong);
    assert.ok(Math.abs(zm[0]) > 4, `z = ${zm[0]}`);
  });

  it('negative control: a wrong ratio (DCD on a wider quadratic) fails the variance test', async () => {
    const pair = pairWith(quadraticRatio(c, 1 / (2 * 0.7 * 0.7)), 2);
    const out = await runDcd({ pair, n, seed: 11, batchSize: n }, { stepSize: eps, noise: 1, clip: Infinity, numSteps: 600 });
    const zv = varianceZScores(out.samples, n, 2, {
      cov: [
        [sUla2, 0],
        [0, sUla2],
      ],
    });
    assert.ok(
      zv.every((z) => z > 4),
      `z = ${zv}`,
    );
  });
});

describe('DCD kernel', () => {
  let bimodal: DataTarget;
  before(async () => {
    bimodal = await DataTarget.create(exactPair(BIMODAL), true);
  });
  after(async () => {
    await bimodal.release();
  });

  it('with noise = 0 climbs logRatio monotonically (exact BIMODAL ratio)', async () => {
    const n = 200;
    const x0 = new Rng(5).fillNormal(new Float32Array(n * 2));
    let state = await dcdInit(bimodal, { data: x0, shape: [n, 2] });
    const start = Float32Array.from(state.logRatio);
    const kernel = dcdKernel(bimodal, { stepSize: 0.01, noise: 0, clip: Infinity });
    for (let t = 0; t < 40; t++) {
      const prev = state.logRatio;
      const res = await kernel.step(state, RowStreams.range([1, t], 0));
      state = res.state;
      assert.equal(res.info.nonFinite, 0);
      for (let r = 0; r < n; r++) assert.ok(state.logRatio[r] >= prev[r] - 1e-5, `row ${r} step ${t}: ${prev[r]} -> ${state.logRatio[r]}`);
    }
    let gain = 0;
    for (let r = 0; r < n; r++) gain += (state.logRatio[r] - start[r]) / n;
    assert.ok(gain > 0.1, `mean gain ${gain}`);
  });

  it('reports the gradient norm before clipping and bounds the applied step', async () => {
    const w = [60, 80]; // |w| = 100
    const field = await DataTarget.create(pairWith(linearRatio(w), 2), true);
    try {
      const n = 16;
      const x0 = new Rng(2).fillNormal(new Float32Array(n * 2));
      const init = await dcdInit(field, { data: x0, shape: [n, 2] });
      const eps = 0.1;
      const clipped = await dcdKernel(field, { stepSize: eps, noise: 0, clip: 1 }).step(init, RowStreams.range([0], 0));
      assert.ok(Math.abs(clipped.info.gradNorm - 100) < 1e-3, `gradNorm ${clipped.info.gradNorm}`);
      assert.equal(clipped.info.clipped, 1);
      const free = await dcdKernel(field, { stepSize: eps, noise: 0, clip: Infinity }).step(init, RowStreams.range([0], 0));
      assert.equal(free.info.clipped, 0);
      for (let r = 0; r < n; r++) {
        const dc = Math.hypot(clipped.state.position[2 * r] - x0[2 * r], clipped.state.position[2 * r + 1] - x0[2 * r + 1]);
        const df = Math.hypot(free.state.position[2 * r] - x0[2 * r], free.state.position[2 * r + 1] - x0[2 * r + 1]);
        assert.ok(Math.abs(dc - (eps / 2) * 1) < 1e-5, `clipped step ${dc}`);
        assert.ok(Math.abs(df - (eps / 2) * 100) < 1e-4, `unclipped step ${df}`);
      }
    } finally {
      await field.release();
    }
  });

  it('keeps rows whose logRatio is NaN where they are and counts them', async () => {
    // D = -|x - c|^2 + 0.01 log(x_0): NaN for x_0 < 0; c pulls rows towards x_0 < 0.
    const field = await DataTarget.create(pairWith(quadraticRatio([-2, 0], 1, 0.01), 2), true);
    try {
      const n = 100;
      const x0 = new Rng(8).fillNormal(new Float32Array(n * 2));
      const bad = Array.from({ length: n }, (_, r) => x0[2 * r] < 0);
      const nBad = bad.filter(Boolean).length;
      assert.ok(nBad > 20 && nBad < 80);
      const kernel = dcdKernel(field, { stepSize: 0.05, noise: 1, clip: 10 });
      const init = await dcdInit(field, { data: x0, shape: [n, 2] });
      const { state, infos } = await runChain(kernel, init, 30, RowStreams.range([3], 0));
      for (const info of infos) assert.ok(info.nonFinite >= nBad && info.nonFinite <= n);
      assert.ok(infos.reduce((a, i) => a + i.nonFinite, 0) > 30 * nBad, 'some moves into x_0 < 0 were rejected');
      for (let r = 0; r < n; r++) {
        if (bad[r]) {
          assert.equal(state.position[2 * r], x0[2 * r]);
          assert.equal(state.position[2 * r + 1], x0[2 * r + 1]);
        } else {
          assert.ok(state.position[2 * r] > 0 && Number.isFinite(state.logRatio[r]));
        }
      }
    } finally {
      await field.release();
    }
  });
});

describe('runDcd', () => {
  const pair = exactPair(BIMODAL);

  it('clamps into the box (from meta.outputRange by default, or --box), and not with --box none', async () => {
    const outward = pairWith(linearRatio([30, -30]), 2, [-1, 1]);
    const inBox = await runDcd({ pair: outward, n: 300, seed: 1, batchSize: 128 }, { stepSize: 0.05, numSteps: 10 });
    assert.deepEqual(inBox.summary.box, [-1, 1]);
    assert.ok(inBox.samples.every((v) => v >= -1 && v <= 1));
    assert.ok(inBox.samples.some((v) => v === 1) && inBox.samples.some((v) => v === -1));
    const narrow = await runDcd({ pair: outward, n: 300, seed: 1, batchSize: 128 }, { stepSize: 0.05, numSteps: 10, box: [-0.5, 0.25] });
    assert.ok(narrow.samples.every((v) => v >= -0.5 && v <= 0.25));
    const free = await runDcd({ pair: outward, n: 300, seed: 1, batchSize: 128 }, { stepSize: 0.05, numSteps: 10, box: 'none' });
    assert.equal(free.summary.box, null);
    assert.ok(free.samples.some((v) => v > 1 || v < -1));
  });

  it('is deterministic and depends on the seed', async () => {
    const ctx = { pair, n: 50, seed: 4, batchSize: 20 };
    const a = await runDcd(ctx, { numSteps: 5, stepSize: undefined });
    const b = await runDcd(ctx, { numSteps: 5 });
    assert.deepEqual(a.samples, b.samples);
    assert.deepEqual(a.summary, b.summary);
    const c = await runDcd({ ...ctx, seed: 5 }, { numSteps: 5 });
    assert.notDeepEqual(a.samples, c.samples);
  });

  it('numSteps = 0 returns the generator samples; progress reaches the total', async () => {
    let last = [0, 0];
    const out = await runDcd({ pair, n: 30, seed: 2, batchSize: 7, hooks: { onProgress: (d, t) => (last = [d, t]) } }, { numSteps: 0 });
    assert.equal(last[0], last[1]);
    // Identity generator: the samples are the prior draws of `sample`, row i from Rng(seed, SAMPLE_STREAM, i).
    const expected = new Float32Array(60);
    for (let i = 0; i < 30; i++) new Rng(2, SAMPLE_STREAM, i).fillNormal(expected.subarray(2 * i, 2 * i + 2));
    assert.deepEqual(out.samples, expected);
    const moved = await runDcd({ pair, n: 30, seed: 2, batchSize: 7 }, { numSteps: 3 });
    assert.notDeepEqual(moved.samples, expected);
  });

  it('rejects bad options with the CLI option name', async () => {
    const ctx = { pair, n: 10, seed: 0, batchSize: 10 };
    const cases: [Parameters<typeof runDcd>[1], string][] = [
      [{ stepSize: -1 }, 'stepSize'],
      [{ noise: Number.NaN }, 'noise'],
      [{ clip: 0 }, 'clip'],
      [{ box: [1, -1] }, 'box'],
      [{ numSteps: 1.5 }, 'numSteps'],
    ];
    for (const [o, path] of cases) {
      await assert.rejects(runDcd(ctx, o), (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument' && e.issues[0].path === path);
    }
    await assert.rejects(runDcd({ ...ctx, n: 0 }, {}), (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'n');
  });

  it('honours cancellation', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(
      runDcd({ pair, n: 10, seed: 0, batchSize: 10, hooks: { signal: ac.signal } }, { numSteps: 3 }),
      (e: unknown) => e instanceof RefineryError && e.code === 'cancelled',
    );
  });
});
