import { test } from 'node:test';
import { assertRefineryError, rejectsWith } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { kid, medianBandwidth, mmd } from './kid.js';
import type { Samples } from './linalg.js';

function gaussian(n: number, d: number, rng: Rng, mean = 0): Samples {
  return { data: rng.fillNormal(new Float64Array(n * d), mean, 1), n, d };
}

function zOfMean(v: number[], mu0: number): number {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
  return (m - mu0) / Math.sqrt(s2 / v.length);
}

/** Biased (V-statistic) MMD² with the cubic kernel, straight from the definition (for the negative control). */
function cubicV(x: Samples, y: Samples): number {
  const d = x.d;
  const k = (a: Samples, i: number, b: Samples, j: number): number => {
    let s = 0;
    for (let l = 0; l < d; l++) s += a.data[i * d + l] * b.data[j * d + l];
    return (s / d + 1) ** 3;
  };
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < x.n; i++) for (let j = 0; j < x.n; j++) xx += k(x, i, x, j);
  for (let i = 0; i < y.n; i++) for (let j = 0; j < y.n; j++) yy += k(y, i, y, j);
  for (let i = 0; i < x.n; i++) for (let j = 0; j < y.n; j++) xy += k(x, i, y, j);
  return xx / x.n ** 2 + yy / y.n ** 2 - (2 * xy) / (x.n * y.n);
}

test('KID by hand: 1-D and 2-D cases (the cubic kernel (x·y/d + 1)³; can be negative)', async () => {
  // X = {0, 1}, Y = {1, 2}: k(0,1) = 1, k(1,2) = 27; cross 1 + 1 + 8 + 27 = 37
  // MMD²_u = 2·1/2 + 2·27/2 - 2·37/4 = 1 + 27 - 18.5 = 9.5; every 2-subset is the whole set
  const r = await kid({ data: new Float64Array([0, 1]), n: 2, d: 1 }, { data: new Float32Array([1, 2]), n: 2, d: 1 }, { numSubsets: 3 });
  assert.equal(r.subsetSize, 2);
  assert.equal(r.numSubsets, 3);
  assert.deepEqual([...r.values], [9.5, 9.5, 9.5]);
  assert.equal(r.mean, 9.5);
  assert.equal(r.std, 0);
  // X = {(1,0), (0,1)}, Y = {(1,1), (0,0)}: within-set products 0 -> k = 1; cross products 1, 0, 1, 0
  // -> 1.5³ + 1 + 1.5³ + 1 = 8.75; MMD²_u = 1 + 1 - 2·8.75/4 = -2.375
  const r2 = await kid({ data: new Float64Array([1, 0, 0, 1]), n: 2, d: 2 }, { data: new Float64Array([1, 1, 0, 0]), n: 2, d: 2 }, { numSubsets: 1 });
  assert.equal(r2.mean, -2.375);
});

test('KID is unbiased under one law (z-test over independent replicates); the V-statistic is not (negative control)', async () => {
  // E[k(x,x)] = E(1 + |x|²/2)³ = 16 and E[k(x,x')] = 1 + 3·E(x·x')²/4 = 2.5 for N(0, I_2), so the
  // V-statistic is biased up by (16 - 2.5)(1/m + 1/n) = 0.54 at m = n = 50.
  const reps = 40;
  const u: number[] = [];
  const v: number[] = [];
  for (let r = 0; r < reps; r++) {
    const rng = new Rng(41, r);
    const x = gaussian(50, 2, rng);
    const y = gaussian(50, 2, rng);
    u.push((await kid(x, y, { numSubsets: 1, subsetSize: 50 })).mean);
    v.push(cubicV(x, y));
  }
  const zu = zOfMean(u, 0);
  const zv = zOfMean(v, 0);
  assert.ok(Math.abs(zu) < 4, `unbiased z ${zu}`);
  assert.ok(zv > 4, `V-statistic z ${zv}`);
});

test('KID over subsets: ≈ 0 within its std for one law, clearly positive for shifted laws', async () => {
  const rng = new Rng(42);
  const x = gaussian(600, 4, rng);
  const y = gaussian(600, 4, rng);
  const same = await kid(x, y, { numSubsets: 20, subsetSize: 150, seed: 3 });
  assert.equal(same.values.length, 20);
  assert.ok(Math.abs(same.mean) < 3 * same.std, `same law ${same.mean} ± ${same.std}`);
  const shifted = await kid(x, gaussian(600, 4, rng, 1), { numSubsets: 20, subsetSize: 150, seed: 3 });
  assert.ok(shifted.mean > 5 * shifted.std && shifted.mean > 0, `shifted ${shifted.mean} ± ${shifted.std}`);
  // deterministic given the seed; another seed draws other subsets
  assert.deepEqual(await kid(x, y, { numSubsets: 20, subsetSize: 150, seed: 3 }), same);
  assert.notDeepEqual((await kid(x, y, { numSubsets: 20, subsetSize: 150, seed: 4 })).values, same.values);
  // subsetSize is capped at min(N, M)
  assert.equal((await kid(gaussian(30, 4, rng), gaussian(40, 4, rng), { numSubsets: 2 })).subsetSize, 30);
});

test('MMD² with the RBF kernel: hand case, median heuristic by hand', async () => {
  // X = {0, 1}, Y = {1, 2}, σ = 1: k(a,b) = exp(-(a-b)²/2)
  // MMD²_u = e^-½ + e^-½ - (1 + 2e^-½ + e^-2)/2 = e^-½ - ½ - e^-2/2
  const x = { data: new Float64Array([0, 1]), n: 2, d: 1 };
  const y = { data: new Float64Array([1, 2]), n: 2, d: 1 };
  const r = await mmd(x, y, { bandwidth: 1 });
  assert.equal(r.bandwidth, 1);
  assert.ok(Math.abs(r.mmd2 - (Math.exp(-0.5) - 0.5 - Math.exp(-2) / 2)) < 1e-15, `${r.mmd2}`);
  // pooled {0, 1, 1, 2}: distances 1, 1, 2, 0, 1, 1 -> sorted 0 1 1 1 1 2, lower median 1
  assert.equal(medianBandwidth(x, y), 1);
  // pooled {0, 1, 3}: distances 1, 3, 2 -> median 2
  assert.equal(medianBandwidth(x, { data: new Float64Array([3]), n: 1, d: 1 }), 2);
  assert.equal((await mmd(x, y)).bandwidth, 1);
  // subsampled median heuristic: deterministic given the seed
  const rng = new Rng(43);
  const a = gaussian(600, 2, rng);
  const b = gaussian(600, 2, rng);
  const m1 = medianBandwidth(a, b, 200, 1);
  assert.equal(medianBandwidth(a, b, 200, 1), m1);
  // median distance of two N(0, I_2) points: sqrt(2)·sqrt(2 ln 2) ≈ 1.665 (Rayleigh median)
  assert.ok(Math.abs(m1 - 2 * Math.sqrt(Math.LN2)) < 0.15, `median ${m1}`);
});

test('MMD² (RBF) is unbiased under one law (z-test) and positive for different laws', async () => {
  const reps = 40;
  const u: number[] = [];
  for (let r = 0; r < reps; r++) {
    const rng = new Rng(44, r);
    u.push((await mmd(gaussian(60, 3, rng), gaussian(60, 3, rng), { bandwidth: 1.5 })).mmd2);
  }
  const z = zOfMean(u, 0);
  assert.ok(Math.abs(z) < 4, `z ${z}`);
  const rng = new Rng(45);
  const diff: number[] = [];
  for (let r = 0; r < 10; r++) diff.push((await mmd(gaussian(60, 3, rng), gaussian(60, 3, rng, 0.7))).mmd2);
  assert.ok(zOfMean(diff, 0) > 4, `shifted z ${zOfMean(diff, 0)}`);
});

test('errors name the argument', async () => {
  const _check = assertRefineryError;
  const ok = { data: new Float64Array([0, 1, 2, 3]), n: 2, d: 2 };
  await rejectsWith(kid({ data: new Float64Array(2), n: 1, d: 2 }, ok), 'invalid_argument', 'real');
  await rejectsWith(kid(ok, { data: new Float64Array([0, 0, 0, Infinity]), n: 2, d: 2 }), 'invalid_argument', 'fake');
  await rejectsWith(kid(ok, { data: new Float64Array(6), n: 2, d: 3 }), 'shape_mismatch', 'fake');
  await rejectsWith(kid(ok, ok, { numSubsets: 0 }), 'invalid_argument', 'numSubsets');
  await rejectsWith(kid(ok, ok, { subsetSize: 1 }), 'invalid_argument', 'subsetSize');
  await rejectsWith(kid(ok, ok, { seed: 0.5 }), 'invalid_argument', 'seed');
  await rejectsWith(mmd(ok, ok, { bandwidth: -1 }), 'invalid_argument', 'bandwidth');
  await rejectsWith(mmd(ok, ok, { bandwidth: NaN }), 'invalid_argument', 'bandwidth');
  await rejectsWith(mmd(ok, ok, { maxMedianPoints: 1 }), 'invalid_argument', 'maxMedianPoints');
  const zeros = { data: new Float64Array(6), n: 3, d: 2 };
  await rejectsWith(mmd(zeros, zeros), 'invalid_argument', 'bandwidth'); // median distance 0
  // a cubic kernel beyond float64 is an error naming the set, not a NaN KID
  const huge = { data: Float64Array.of(1e120, 2e120, -1e120, 3e120), n: 2, d: 2 };
  await rejectsWith(kid(huge, ok), 'invalid_argument', 'real');
  await rejectsWith(kid(ok, huge), 'invalid_argument', 'fake');
  assert.ok(Number.isFinite((await kid(ok, { data: Float64Array.of(1e20, 2e20, -1e20, 3e20), n: 2, d: 2 })).mean), 'control: large but finite');
});
