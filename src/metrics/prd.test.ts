import { test } from 'node:test';
import { assertRefineryError } from '../testing/assert.js';
import { rejectsWith } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import type { Samples } from './linalg.js';
import { kMeans, maxFBeta, prd, prdFromHistograms, prdLambdas } from './prd.js';

function blob(n: number, rng: Rng, cx: number, cy: number, std = 1): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = cx + std * rng.normal();
    out[2 * i + 1] = cy + std * rng.normal();
  }
  return out;
}

function concat(...parts: Float64Array[]): Samples {
  const n = parts.reduce((a, p) => a + p.length, 0);
  const data = new Float64Array(n);
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, n: n / 2, d: 2 };
}

test('PRD of histograms by hand: a model covering one of two modes has precision 1 at recall 1/2', async () => {
  // P = (1/2, 1/2), Q = (1, 0): α(λ) = min(λ/2, 1), β(λ) = min(1/2, 1/λ)
  const lambdas = Float64Array.from([0.5, 1, 2, 4]);
  const c = prdFromHistograms([0.5, 0.5], [1, 0], lambdas);
  assert.deepEqual([...c.precision], [0.25, 0.5, 1, 1]);
  assert.deepEqual([...c.recall], [0.5, 0.5, 0.5, 0.25]);
  // counts are normalised
  assert.deepEqual(prdFromHistograms([3, 3], [7, 0], lambdas).precision, c.precision);
  // P = Q: α = min(λ, 1), β = min(1, 1/λ)
  const same = prdFromHistograms([1, 2, 3], [1, 2, 3], lambdas);
  assert.deepEqual([...same.precision], [0.5, 1, 1, 1]);
  assert.deepEqual([...same.recall], [1, 1, 0.5, 0.25]);
});

test('angles, slopes and F_β by hand', async () => {
  const l = prdLambdas(1001);
  assert.equal(l.length, 1001);
  assert.ok(Math.abs(l[0] - 1e-10) < 1e-20);
  assert.ok(l[1000] > 1e9);
  assert.ok(Math.abs(l[500] - 1) < 1e-12, `middle slope ${l[500]}`);
  for (let i = 1; i < l.length; i++) assert.ok(l[i] > l[i - 1]);
  // F_8(p, r) = 65 p r / (64 p + r): (1, 1/2) -> 32.5/64.5, (1/2, 1) -> 32.5/33
  assert.ok(Math.abs(maxFBeta([1, 0.5], [0.5, 1], 8) - 32.5 / 33) < 1e-15);
  // F_1/8 is F_8 with the roles swapped
  assert.ok(Math.abs(maxFBeta([0.5, 1], [1, 0.5], 1 / 8) - 32.5 / 33) < 1e-15);
  assert.equal(maxFBeta([0, 0], [0, 0], 8), 0);
});

test('k-means: separated blobs get one label each; deterministic given the stream', async () => {
  const rng = new Rng(51);
  const x = concat(blob(100, rng, 0, 0, 0.3), blob(100, rng, 10, 0, 0.3), blob(100, rng, 0, 10, 0.3));
  const r = await kMeans(x.data as Float64Array, x.n, 2, 3, new Rng(1, 2));
  for (let b = 0; b < 3; b++) {
    const labels = new Set(r.labels.subarray(100 * b, 100 * b + 100));
    assert.equal(labels.size, 1, `blob ${b}`);
  }
  assert.equal(new Set(r.labels).size, 3);
  // inertia of 300 points with per-coordinate std 0.3 around their centres ≈ 300 · 2 · 0.09 = 54
  assert.ok(r.inertia > 30 && r.inertia < 80, `inertia ${r.inertia}`);
  assert.deepEqual(await kMeans(x.data as Float64Array, x.n, 2, 3, new Rng(1, 2)), r);
  // k = n puts every (distinct) point in its own cluster with zero inertia
  const small = await kMeans(Float64Array.from([0, 0, 1, 0, 0, 1]), 3, 2, 3, new Rng(3));
  assert.equal(new Set(small.labels).size, 3);
  assert.equal(small.inertia, 0);
});

test('identical samples give α = min(λ, 1), β = min(1, 1/λ) (through (1, 1)); two samples of one law come close', async () => {
  const rng = new Rng(52);
  const x = concat(blob(800, rng, 0, 0));
  const r = await prd(x, x, { numRuns: 2 });
  for (let i = 0; i < r.lambdas.length; i++) {
    assert.ok(Math.abs(r.precision[i] - Math.min(r.lambdas[i], 1)) < 1e-12);
    assert.ok(Math.abs(r.recall[i] - Math.min(1, 1 / r.lambdas[i])) < 1e-12);
  }
  assert.ok(r.precision[500] > 1 - 1e-12 && r.recall[500] > 1 - 1e-12);
  assert.equal(r.numClusters, 20);
  assert.equal(r.numRuns, 2);
  // two samples: α(1) = Σ min(p, q) = 1 - TV(p, q); with 20 clusters and 2000 points per set
  // E TV ≈ Σ_c sqrt(2 p_c / (π n)) ≈ 0.07, so > 0.85 leaves a wide margin
  const y = concat(blob(2000, rng, 0, 0));
  const z = concat(blob(2000, rng, 0, 0));
  const two = await prd(y, z, { numRuns: 3 });
  let best = 0;
  for (let i = 0; i < two.lambdas.length; i++) best = Math.max(best, Math.min(two.precision[i], two.recall[i]));
  assert.ok(best > 0.85, `max min(α, β) ${best}`);
  assert.ok(two.f8 > 0.85 && two.f1over8 > 0.85, `F ${two.f8} ${two.f1over8}`);
});

test('disjoint samples give a zero curve', async () => {
  const rng = new Rng(53);
  const r = await prd(concat(blob(500, rng, 0, 0)), concat(blob(500, rng, 20, 20)), { numRuns: 2 });
  assert.ok(r.precision.every((v) => v === 0));
  assert.ok(r.recall.every((v) => v === 0));
  assert.equal(r.f8, 0);
  assert.equal(r.f1over8, 0);
});

test('a model that drops one of two modes: precision ≈ 1 at recall ≈ 1/2; F_1/8 high, F_8 ≈ 1/2', async () => {
  const rng = new Rng(54);
  const real = concat(blob(1000, rng, -10, 0), blob(1000, rng, 10, 0));
  const fake = concat(blob(2000, rng, 10, 0));
  const r = await prd(real, fake, { numRuns: 3, seed: 7 });
  const maxP = Math.max(...r.precision);
  const maxR = Math.max(...r.recall);
  assert.ok(maxP > 0.95, `max precision ${maxP}`);
  assert.ok(Math.abs(maxR - 0.5) < 0.03, `max recall ${maxR}`);
  assert.ok(r.f1over8 > 0.9, `F_1/8 ${r.f1over8}`);
  assert.ok(r.f8 < 0.55 && r.f8 > 0.4, `F_8 ${r.f8}`);
  // deterministic given the seed
  assert.deepEqual(await prd(real, fake, { numRuns: 3, seed: 7 }), r);
});

test('errors name the argument', async () => {
  const check = assertRefineryError;
  const ok = { data: new Float64Array([0, 1, 2, 3]), n: 2, d: 2 };
  await rejectsWith(prd(ok, ok), 'invalid_argument', 'numClusters'); // 20 > 4 pooled rows
  await rejectsWith(prd(ok, ok, { numClusters: 0 }), 'invalid_argument', 'numClusters');
  await rejectsWith(prd(ok, ok, { numClusters: 2, numAngles: 1 }), 'invalid_argument', 'numAngles');
  await rejectsWith(prd(ok, ok, { numClusters: 2, numRuns: 0 }), 'invalid_argument', 'numRuns');
  await rejectsWith(prd(ok, ok, { numClusters: 2, maxIterations: 0 }), 'invalid_argument', 'maxIterations');
  await rejectsWith(prd(ok, ok, { numClusters: 2, seed: 1.5 }), 'invalid_argument', 'seed');
  await rejectsWith(prd({ data: new Float64Array([NaN, 0]), n: 1, d: 2 }, ok, { numClusters: 2 }), 'invalid_argument', 'real');
  await rejectsWith(prd(ok, { data: new Float64Array(3), n: 1, d: 3 }, { numClusters: 2 }), 'shape_mismatch', 'fake');
  check(() => prdFromHistograms([1, -1], [1, 1], prdLambdas(3)), 'invalid_argument', 'p');
  check(() => prdFromHistograms([1, 1], [0, 0], prdLambdas(3)), 'invalid_argument', 'q');
  check(() => prdFromHistograms([1, 1], [1, 1, 1], prdLambdas(3)), 'shape_mismatch', 'q');
  check(() => maxFBeta([1], [1], 0), 'invalid_argument', 'beta');
});
