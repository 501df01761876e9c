import { test } from 'node:test';
import { assertRefineryError, rejectsWith } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import type { Samples } from './linalg.js';
import { densityCoverage, improvedPrecisionRecall, prdc } from './prdc.js';

function gaussian(n: number, d: number, rng: Rng, std = 1, mean = 0): Samples {
  return { data: rng.fillNormal(new Float64Array(n * d), mean, std), n, d };
}

function meanSd(v: number[]): { mean: number; se: number } {
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1);
  return { mean: m, se: Math.sqrt(s2 / v.length) };
}

test('hand-computed 1-D case with k = 1 (closed balls: a point on a boundary is inside)', async () => {
  // real 0, 1, 3, 20, 21: NND_1 = 1, 1, 2, 1, 1 -> balls [-1,1], [0,2], [1,5], [19,21], [20,22]
  // fake 0.5, 2, 6, -1.5: inside 2 (0.5: first two), 2 (2: [0,2] on its boundary, [1,5]), 0, 0 balls
  //   precision = 2/4, density = (2 + 2)/(1 · 4) = 1, coverage = 3/5 (the balls at 0, 1, 3)
  // fake NND_1 (sorted -1.5, 0.5, 2, 6) = 2, 1.5, 1.5, 4 -> balls [-3.5,0.5], [-1,2], [0.5,3.5], [2,10]
  //   reals inside: 0, 1, 3 -> recall = 3/5
  const real = { data: new Float64Array([0, 1, 3, 20, 21]), n: 5, d: 1 };
  const fake = { data: new Float32Array([0.5, 2, 6, -1.5]), n: 4, d: 1 };
  assert.deepEqual(await improvedPrecisionRecall(real, fake, { k: 1 }), { precision: 0.5, recall: 0.6, k: 1 });
  assert.deepEqual(await densityCoverage(real, fake, { k: 1 }), { density: 1, coverage: 0.6, k: 1 });
  assert.deepEqual(await prdc(real, fake, { k: 1 }), { precision: 0.5, recall: 0.6, density: 1, coverage: 0.6, k: 1 });
  // an open-ball convention would drop the fake at 2 from [0, 2]: density would be 3/4
});

test('identical samples: precision = recall = coverage = 1 and density = (k + 1)/k', async () => {
  // each X_i's ball holds itself and exactly its k neighbours (no ties in continuous data)
  const rng = new Rng(31);
  const x = gaussian(400, 3, rng);
  for (const k of [3, 5]) {
    const r = await prdc(x, x, { k });
    assert.equal(r.precision, 1);
    assert.equal(r.recall, 1);
    assert.equal(r.coverage, 1);
    assert.ok(Math.abs(r.density - (k + 1) / k) < 1e-15, `density ${r.density}`);
  }
});

test('tight cluster inside a wide cloud: high precision, low recall (and the reverse)', async () => {
  // fake N(0, 0.1² I) inside real N(0, I): every fake lies in the dense core of real; the fake
  // manifold (radius ~0.1) holds only the reals within ~0.3 of 0, P ≈ 1 - exp(-0.3²/2) ≈ 4%.
  const rng = new Rng(32);
  const real = gaussian(2000, 2, rng);
  const fake = gaussian(2000, 2, rng, 0.1);
  const r = await improvedPrecisionRecall(real, fake);
  assert.ok(r.precision > 0.97, `precision ${r.precision}`);
  assert.ok(r.recall < 0.15, `recall ${r.recall}`);
  assert.equal(r.k, 3);
  const swapped = await improvedPrecisionRecall(fake, real);
  assert.ok(swapped.precision < 0.15 && swapped.recall > 0.97, `swapped ${JSON.stringify(swapped)}`);
  const dc = await densityCoverage(real, fake);
  assert.equal(dc.k, 5);
  assert.ok(dc.coverage < 0.15, `coverage ${dc.coverage}`);
});

test('same law: density has mean exactly 1 and coverage mean 1 - C(N-1,k)/(C(N+M-1,k)) (z-tests); a shifted law fails them', async () => {
  // By exchangeability of {X_1..X_N, Y}: P(Y ∈ B(X_i, NND_k(X_i))) = k/N, so E[density] = 1; and the
  // k nearest of X_i among the other N - 1 reals and M fakes are a uniform k-subset, so
  // P(X_i not covered) = C(N-1, k)/C(N+M-1, k).
  const n = 200;
  const k = 5;
  const reps = 24;
  let notCovered = 1;
  for (let t = 0; t < k; t++) notCovered *= (n - 1 - t) / (2 * n - 1 - t);
  const run = async (shift: number): Promise<{ density: { mean: number; se: number }; coverage: { mean: number; se: number } }> => {
    const dens: number[] = [];
    const cov: number[] = [];
    for (let r = 0; r < reps; r++) {
      const rng = new Rng(33, r);
      const out = await densityCoverage(gaussian(n, 2, rng), gaussian(n, 2, rng, 1, shift), { k });
      dens.push(out.density);
      cov.push(out.coverage);
    }
    return { density: meanSd(dens), coverage: meanSd(cov) };
  };
  const same = await run(0);
  const zd = (same.density.mean - 1) / same.density.se;
  const zc = (same.coverage.mean - (1 - notCovered)) / same.coverage.se;
  assert.ok(Math.abs(zd) < 4, `density z ${zd} (${JSON.stringify(same.density)})`);
  assert.ok(Math.abs(zc) < 4, `coverage z ${zc} (${JSON.stringify(same.coverage)})`);
  // negative control: fakes shifted by 1 per coordinate put many fakes outside the real balls and
  // leave part of the real sample uncovered
  const other = await run(1);
  const zo = (other.density.mean - 1) / other.density.se;
  const zoc = (other.coverage.mean - (1 - notCovered)) / other.coverage.se;
  assert.ok(zo < -4 && zoc < -4, `shifted law z ${zo}, ${zoc} (${JSON.stringify(other)})`);
});

test('block size does not change the results (7 vs 1000 vs default)', async () => {
  const rng = new Rng(34);
  const real = { data: rng.fillNormal(new Float32Array(301 * 2)), n: 301, d: 2 };
  const fake = { data: rng.fillNormal(new Float32Array(257 * 2), 0.3, 1.2), n: 257, d: 2 };
  const a = await prdc(real, fake, { k: 4, blockSize: 7 });
  assert.deepEqual(await prdc(real, fake, { k: 4, blockSize: 1000 }), a);
  assert.deepEqual(await prdc(real, fake, { k: 4 }), a);
  assert.deepEqual(await improvedPrecisionRecall(real, fake, { blockSize: 7 }), await improvedPrecisionRecall(real, fake, { blockSize: 1000 }));
  assert.deepEqual(await densityCoverage(real, fake, { blockSize: 7 }), await densityCoverage(real, fake, { blockSize: 1000 }));
});

test('errors name real / fake / k / blockSize', async () => {
  const _check = assertRefineryError;
  const four = { data: new Float64Array([0, 1, 2, 3]), n: 4, d: 1 };
  const three = { data: new Float64Array([0, 1, 2]), n: 3, d: 1 };
  await rejectsWith(improvedPrecisionRecall(three, four), 'invalid_argument', 'real'); // needs n > k = 3
  await rejectsWith(improvedPrecisionRecall(four, three), 'invalid_argument', 'fake');
  await rejectsWith(densityCoverage(four, four), 'invalid_argument', 'real'); // k = 5
  await rejectsWith(densityCoverage(four, three, { k: 0 }), 'invalid_argument', 'k');
  await rejectsWith(prdc(four, four, { k: 1.5 }), 'invalid_argument', 'k');
  await rejectsWith(prdc(four, four, { k: 1, blockSize: -1 }), 'invalid_argument', 'blockSize');
  await rejectsWith(prdc(four, { data: new Float64Array(8), n: 4, d: 2 }, { k: 1 }), 'shape_mismatch', 'fake');
  await rejectsWith(prdc({ data: new Float64Array([0, NaN, 1, 2]), n: 4, d: 1 }, four, { k: 1 }), 'invalid_argument', 'real');
  // density/coverage need only one fake row
  assert.deepEqual(await densityCoverage(four, { data: new Float64Array([0.5]), n: 1, d: 1 }, { k: 1 }), { density: 2, coverage: 0.5, k: 1 });
});
