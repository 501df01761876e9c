/**
 * The GAN likelihood surrogate against its integral, computed here by quadrature: a 1-D pair with
 * the identity generator on N(0, 1) and D(x) = a x, so that L(y) = log E[e^(-(a x + c(y, x)) / λ)]
 * + E_P*[a x] / λ is a 1-D integral. Tolerances are 5 Monte Carlo standard errors of the estimator
 * at N prior draws (also by quadrature).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Graph } from '../onnx/graph.js';
import type { ModelPair } from '../models/pair.js';
import { identityGenerator } from '../testing/exact.js';
import { ganLikelihood } from './likelihood.js';

function linearPair(a: number): ModelPair {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 1]);
  g.add('Mul', [x, g.scalar(a)], {}, ['score']);
  g.outputs = ['score'];
  return {
    generator: identityGenerator(1),
    discriminator: g,
    meta: { latentDim: 1, latentPrior: 'normal', dataShape: [1], dOutput: 'critic' },
    files: { generator: '<identity>', discriminator: '<linear>' },
  };
}

/** The exact L(y) and the estimator's standard error at n draws, by quadrature on [-12, 12]. */
function reference(y: number, a: number, lambda: number, cost: 'l1' | 'l2', n: number): { value: number; se: number } {
  const h = 1e-3;
  let z0 = 0;
  let z1 = 0;
  let w2 = 0;
  const phi = (x: number) => Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  const weight = (x: number) => Math.exp(-(a * x + (cost === 'l1' ? Math.abs(y - x) : (y - x) ** 2 / 2)) / lambda);
  for (let x = -12; x <= 12; x += h) {
    const w = weight(x);
    z0 += phi(x) * w * h;
    z1 += phi(x) * w * a * x * h;
    w2 += phi(x) * w * w * h;
  }
  const mu = z1 / z0;
  let v2 = 0;
  for (let x = -12; x <= 12; x += h) v2 += phi(x) * weight(x) ** 2 * (a * x - mu) ** 2 * h;
  // log of a mean of n weights: relative sd of the mean; self-normalised mean of D: sqrt(E[w^2 (D - mu)^2] / n) / E[w].
  const seLog = Math.sqrt((w2 / (z0 * z0) - 1) / n);
  const seMean = Math.sqrt(v2 / n) / z0 / lambda;
  return { value: Math.log(z0) + mu / lambda, se: seLog + seMean };
}

for (const [cost, lambda, a] of [
  ['l2', 0.5, 0],
  ['l2', 0.5, 0.8],
  ['l1', 1, 0.8],
] as const) {
  test(`the surrogate log-likelihood equals its integral (${cost} cost, λ ${lambda}, D(x) = ${a} x)`, async () => {
    const ys = [-1.5, 0, 0.7, 2];
    const n = 20000;
    const r = await ganLikelihood(linearPair(a), { data: Float32Array.from(ys), shape: [ys.length, 1] }, { cost, lambda, samples: n, critic: a !== 0 });
    for (let i = 0; i < ys.length; i++) {
      const ref = reference(ys[i], a, lambda, cost, n);
      const err = Math.abs(r.perSample[i] - ref.value);
      assert.ok(err < 5 * ref.se, `y ${ys[i]}: ${r.perSample[i]} vs ${ref.value} (5 SE = ${5 * ref.se})`);
      // Negative control: another λ's answer is far outside the tolerance.
      const other = reference(ys[i], a, lambda * 1.2, cost, n);
      assert.ok(Math.abs(r.perSample[i] - other.value) > 5 * ref.se, `y ${ys[i]}: λ x 1.2 is within tolerance too`);
      assert.ok(r.effectiveSamples[i] > 100 && r.effectiveSamples[i] <= n);
    }
    const mean = r.perSample.reduce((s, v) => s + v, 0) / ys.length;
    assert.ok(Math.abs(r.mean - mean) < 1e-12);
  });
}

test('without the critic (critic: false, l2), L(y) + ½ log 2πλ is the log density of G(x) + N(0, λ): N(0, 1 + λ)', async () => {
  const lambda = 0.5;
  const ys = [-2, 0.3, 1];
  const r = await ganLikelihood(linearPair(3), { data: Float32Array.from(ys), shape: [3, 1] }, { cost: 'l2', lambda, samples: 20000, critic: false });
  for (let i = 0; i < ys.length; i++) {
    const exact = -(ys[i] ** 2) / (2 * (1 + lambda)) - 0.5 * Math.log(2 * Math.PI * (1 + lambda)) + 0.5 * Math.log(2 * Math.PI * lambda);
    const se = reference(ys[i], 0, lambda, 'l2', 20000).se;
    assert.ok(Math.abs(r.perSample[i] - exact) < 5 * se, `y ${ys[i]}: ${r.perSample[i]} vs ${exact}`);
  }
});

test('the same seed gives the same values; bad options and shapes name the argument', async () => {
  const pair = linearPair(0.5);
  const y = { data: Float32Array.of(0.1, -0.4), shape: [2, 1] };
  const [a, b] = [await ganLikelihood(pair, y, { samples: 500 }), await ganLikelihood(pair, y, { samples: 500 })];
  assert.deepEqual(a.perSample, b.perSample);
  assert.notDeepEqual((await ganLikelihood(pair, y, { samples: 500, seed: 1 })).perSample, a.perSample);
  for (const [options, path] of [
    [{ lambda: 0 }, 'lambda'],
    [{ samples: 0 }, 'samples'],
    [{ cost: 'l3' }, 'cost'],
  ] as const) {
    await assert.rejects(ganLikelihood(pair, y, options as never), (e: unknown) => e instanceof RefineryError && e.issues[0].path === path);
  }
  await assert.rejects(
    ganLikelihood(pair, { data: new Float32Array(4), shape: [2, 2] }),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'samples',
  );
});
