import { test } from 'node:test';
import { rejectsWith } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { frechetDistance, frechetFromStats, gaussianStats, type GaussianStats } from './frechet.js';
import type { Samples } from './linalg.js';
import { FRECHET_CASES, frechetCase } from '../testing/exact.js';

function gaussian(n: number, d: number, rng: Rng, mean = 0, std = 1): Samples {
  return { data: rng.fillNormal(new Float64Array(n * d), mean, std), n, d };
}

function stats(mean: number[], cov: number[]): GaussianStats {
  return { mean: Float64Array.from(mean), cov: Float64Array.from(cov), n: 100, d: mean.length };
}

const close = (a: number, b: number, tol: number, what: string): void => assert.ok(Math.abs(a - b) <= tol, `${what}: ${a} vs ${b}`);

test('identical statistics and identical samples give 0', async () => {
  const rng = new Rng(1);
  const x = gaussian(300, 6, rng);
  const r = await frechetDistance(x, x);
  assert.ok(r.distance < 1e-10, `FD(x, x) = ${r.distance}`);
  assert.equal(r.meanTerm, 0);
  assert.ok(Math.abs(r.traceTerm) < 1e-10);
  const s = await gaussianStats(x);
  assert.ok((await frechetFromStats(s, s)).distance < 1e-10);
  assert.equal(r.d, 6);
  assert.equal(r.nReal, 300);
  assert.equal(r.nFake, 300);
});

test('two samples of one Gaussian: FD is sampling noise only; a 0.2 shift is detected (negative control)', async () => {
  // E FD ≈ (2d + d + d(d-1)/2)/n for N(0, I_d) (mean term 2χ²_d/n, covariance terms O(χ²/n)):
  // ≈ 0.0024 here, so 0.02 is ~8x the expectation; a 0.2 shift per coordinate adds 3 · 0.04 = 0.12.
  const rng = new Rng(2);
  const n = 5000;
  const d = 3;
  const a = gaussian(n, d, rng);
  const b = gaussian(n, d, rng);
  const same = (await frechetDistance(a, b)).distance;
  assert.ok(same < 0.02, `same law FD ${same}`);
  const shifted = gaussian(n, d, rng, 0.2);
  const diff = (await frechetDistance(a, shifted)).distance;
  assert.ok(diff > 0.08 && Math.abs(diff - 0.12) < 0.04, `shifted FD ${diff}`);
});

test('1-D closed form: (m1 - m2)² + (s1 - s2)² with the unbiased sample std', async () => {
  const rng = new Rng(3);
  for (const [n1, n2, mu, sd] of [
    [100, 80, 1.5, 2],
    [7, 300, -3, 0.1],
    [2, 2, 0, 1],
  ]) {
    const x = gaussian(n1, 1, rng);
    const y = gaussian(n2, 1, rng, mu, sd);
    const m = (s: Samples): number => Array.from(s.data).reduce((a, v) => a + v, 0) / s.n;
    const sd1 = (s: Samples): number => {
      const mm = m(s);
      return Math.sqrt(Array.from(s.data).reduce((a, v) => a + (v - mm) ** 2, 0) / (s.n - 1));
    };
    const expected = (m(x) - m(y)) ** 2 + (sd1(x) - sd1(y)) ** 2;
    close((await frechetDistance(x, y)).distance, expected, 1e-12 * (1 + expected), `n=${n1},${n2}`);
  }
});

test('diagonal covariances: Σ (mu1 - mu2)² + Σ (sqrt a_i - sqrt b_i)²', async () => {
  const a = stats([0, 1, 2, -1], [4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.25, 0, 0, 0, 0, 9]);
  const b = stats([1, 1, 0, -1], [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0]);
  // means: 1 + 0 + 4 + 0; covariances: (2-1)² + 0 + (0.5-2)² + (3-0)²
  const r = await frechetFromStats(a, b);
  close(r.meanTerm, 5, 1e-15, 'mean term');
  close(r.traceTerm, 1 + 2.25 + 9, 1e-12, 'trace term');
  close(r.distance, 17.25, 1e-12, 'distance');
});

test('non-commuting 2 x 2 covariances: tr sqrt(S1 S2) = sqrt(tr(S1 S2) + 2 sqrt(det S1 det S2))', async () => {
  const s1 = [2, 0.8, 0.8, 1];
  const s2 = [0.5, -0.3, -0.3, 3];
  const trProd = s1[0] * s2[0] + s1[1] * s2[2] + s1[2] * s2[1] + s1[3] * s2[3];
  const det = (s: number[]): number => s[0] * s[3] - s[1] * s[2];
  const trSqrt = Math.sqrt(trProd + 2 * Math.sqrt(det(s1) * det(s2)));
  const expected = 0.25 + (2 + 1) + (0.5 + 3) - 2 * trSqrt; // |mu1 - mu2|² + tr S1 + tr S2 - 2 tr sqrt
  const r = await frechetFromStats(stats([0, 0], s1), stats([0.5, 0], s2));
  close(r.distance, expected, 1e-13, 'FD');
  // symmetric in its arguments
  close((await frechetFromStats(stats([0.5, 0], s2), stats([0, 0], s1))).distance, expected, 1e-13, 'swapped');
});

test('invariance to row permutation and to a common rotation; float32 input', async () => {
  const rng = new Rng(4);
  const n = 400;
  const d = 5;
  const x = gaussian(n, d, rng);
  const y = gaussian(n, d, rng, 0.3, 1.5);
  const base = (await frechetDistance(x, y)).distance;
  const perm = rng.permutation(n);
  const px = new Float64Array(n * d);
  for (let i = 0; i < n; i++) px.set(x.data.subarray(perm[i] * d, perm[i] * d + d), i * d);
  close((await frechetDistance({ data: px, n, d }, y)).distance, base, 1e-12 * base, 'permuted');
  // rotation in the plane of coordinates 0 and 3
  const rot = (s: Samples): Samples => {
    const out = Float64Array.from(s.data);
    const c = Math.cos(0.7);
    const sn = Math.sin(0.7);
    for (let i = 0; i < s.n; i++) {
      const u = s.data[i * d];
      const v = s.data[i * d + 3];
      out[i * d] = c * u - sn * v;
      out[i * d + 3] = sn * u + c * v;
    }
    return { data: out, n: s.n, d };
  };
  close((await frechetDistance(rot(x), rot(y))).distance, base, 1e-10 * base, 'rotated');
  const x32 = { data: new Float32Array(x.data), n, d };
  const y32 = { data: new Float32Array(y.data), n, d };
  const expected32 = (await frechetDistance({ data: Float64Array.from(x32.data), n, d }, { data: Float64Array.from(y32.data), n, d })).distance;
  assert.equal((await frechetDistance(x32, y32)).distance, expected32);
});

test('singular covariances (n <= d) need no regularisation', async () => {
  const rng = new Rng(5);
  const x = gaussian(4, 10, rng);
  const r = await frechetDistance(x, x);
  // near-zero eigenvalues contribute O(sqrt(ε‖M‖)) each
  assert.ok(r.distance < 1e-6, `FD(x, x) = ${r.distance}`);
  const y = gaussian(6, 10, rng, 1);
  const r2 = await frechetDistance(x, y);
  assert.ok(Number.isFinite(r2.distance) && r2.distance > 5, `${r2.distance}`);
});

test('scale: FD(s·x, s·y) = s² FD(x, y) exactly for powers of two, from 1e-100 to 1e150 (products of huge covariances do not overflow)', async () => {
  const rng = new Rng(8);
  const x = gaussian(300, 20, rng);
  const y = gaussian(250, 20, rng, 0.3, 1.4);
  const base = (await frechetDistance(x, y)).distance;
  for (const e of [-332, -40, 0, 7, 40, 500]) {
    const s = 2 ** e;
    const sx = { ...x, data: x.data.map((v) => v * s) };
    const sy = { ...y, data: y.data.map((v) => v * s) };
    const got = (await frechetDistance(sx, sy)).distance;
    assert.ok(Number.isFinite(got), `2^${e}: ${got}`);
    const rel = Math.abs(got / (s * s) - base) / base;
    assert.ok(rel < 1e-12, `2^${e}: FD / s² = ${got / (s * s)} vs ${base}`);
  }
  // control: a different spread is not a rescaling
  const other = (await frechetDistance(x, { ...y, data: y.data.map((v) => v * 1.01) })).distance;
  assert.ok(Math.abs(other - base) / base > 1e-4);
});

test('errors name real / fake', async () => {
  const ok = { data: new Float64Array([0, 1, 2, 3]), n: 2, d: 2 };
  await rejectsWith(frechetDistance({ data: new Float64Array(2), n: 1, d: 2 }, ok), 'invalid_argument', 'real');
  await rejectsWith(frechetDistance(ok, { data: new Float64Array([0, NaN, 1, 1]), n: 2, d: 2 }), 'invalid_argument', 'fake');
  await rejectsWith(frechetDistance(ok, { data: new Float64Array(6), n: 2, d: 3 }), 'shape_mismatch', 'fake');
  await rejectsWith(frechetFromStats(stats([0, 0], [1, 0, 0, 1]), stats([0], [1])), 'shape_mismatch', 'fake');
  await rejectsWith(frechetFromStats(stats([0, 0], [1, 0, 0]), stats([0, 0], [1, 0, 0, 1])), 'invalid_argument', 'real');
  await rejectsWith(frechetFromStats(stats([0, 0], [1, 0, 0, 1]), stats([0, NaN], [1, 0, 0, 1])), 'invalid_argument', 'fake');
  await rejectsWith(gaussianStats({ data: new Float64Array(2), n: 1, d: 2 }, 'real'), 'invalid_argument', 'real');
});

test("equals scipy's sqrtm-based FID (pytorch-fid's formula) to 1e-9 relative (1e-7 with fewer fake samples than dimensions), on correlated, non-commuting covariances", async () => {
  // Values from scripts/reference/frechet.mjs on the same samples (scipy 1.17.1, numpy 2.4.6; the
  // singular d400-n150: Debian's scipy 1.10.1, numpy 1.24.2, which reproduce the others to 1e-15).
  const reference: Record<string, number> = {
    d64: 31.02808782533006,
    d256: 138.39109014146686,
    d512: 262.8662380344008,
    'd400-n150': 540.1438320423069,
  };
  for (const [name, d, nReal, nFake] of FRECHET_CASES) {
    const { real, fake } = frechetCase(d, nReal, nFake);
    const r = await frechetDistance({ data: real, n: nReal, d }, { data: fake, n: nFake, d });
    const rel = Math.abs(r.distance - reference[name]) / reference[name];
    // With n_fake < d half the product's eigenvalues are rounding noise, whose square roots
    // (about sqrt(ε‖S‖) each) neither computation gets exactly: 1e-7 there (here 4e-9).
    const tol = nFake < d ? 1e-7 : 1e-9;
    assert.ok(rel < tol, `${name}: ${r.distance} vs scipy ${reference[name]} (relative ${rel})`);
  }
  // Negative control: one changed sample moves the distance by far more than the tolerance.
  const { real, fake } = frechetCase(64, 600, 500);
  fake[0] += 1;
  const moved = (await frechetDistance({ data: real, n: 600, d: 64 }, { data: fake, n: 500, d: 64 })).distance;
  assert.ok(Math.abs(moved - reference.d64) / reference.d64 > 1e-6);
});
