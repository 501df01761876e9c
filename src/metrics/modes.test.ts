import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { grid25 } from '../data/grid25.js';
import { ring8 } from '../data/ring8.js';
import { swissroll } from '../data/swissroll.js';
import { modeMetrics } from './modes.js';
import { assertRefineryError } from '../testing/assert.js';

/** JS divergence (natural log) between two distributions, straight from the definition. */
function js(p: number[], q: number[]): number {
  const kl = (a: number[], b: number[]): number => a.reduce((s, ai, i) => (ai > 0 ? s + ai * Math.log(ai / b[i]) : s), 0);
  const m = p.map((pi, i) => (pi + q[i]) / 2);
  return 0.5 * kl(p, m) + 0.5 * kl(q, m);
}

test('exact grid25 draws: all modes, HQ% = 100·P(chi2_2 <= 16), std = 0.05, JS ≈ 0', () => {
  const n = 10000;
  const s = grid25.sample(n, new Rng(2024));
  const r = modeMetrics(s, grid25);
  assert.equal(r.numSamples, n);
  assert.equal(r.numModes, 25);
  assert.equal(r.recoveredModes, 25);
  assert.equal(r.threshold, 4 * 0.05);
  assert.equal(r.modeCounts.length, 25);
  assert.equal(
    r.modeCounts.reduce((a, b) => a + b, 0),
    Math.round((r.highQualityPercent * n) / 100),
  );

  // distance² / σ² ~ chi2 with 2 dof, so P(HQ) = P(chi2_2 <= 16) = 1 - e^-8
  const p = 1 - Math.exp(-8);
  const sePercent = (100 * Math.sqrt(p * (1 - p))) / Math.sqrt(n);
  assert.ok(Math.abs(r.highQualityPercent - 100 * p) < 5 * sePercent + 1e-9, `HQ% ${r.highQualityPercent}`);

  // d²/(2σ²) ~ Exp(1) (variance 1), so the estimate of σ² has standard error σ²/sqrt(n) and that
  // of σ about σ/(2 sqrt(n)); the truncation at 4σ shrinks σ² by a factor 1 - 8e^-8/(1 - e^-8).
  const sigma = 0.05 * Math.sqrt(1 - (8 * Math.exp(-8)) / (1 - Math.exp(-8)));
  const seStd = 0.05 / (2 * Math.sqrt(n));
  assert.ok(Math.abs(r.std - sigma) < 5 * seStd, `std ${r.std}`);

  // multinomial noise only: JS ≈ chi2 statistic / (8n), and a chi2 with 24 dof is < 60 with
  // overwhelming probability
  assert.ok(r.jsModeHistogram >= 0 && r.jsModeHistogram < 60 / (8 * n), `JS ${r.jsModeHistogram}`);
});

test('exact ring8 and swiss roll draws: all modes, std equals dataset.std', () => {
  const n = 20000;
  for (const d of [ring8, swissroll]) {
    const r = modeMetrics(d.sample(n, new Rng(9)), d);
    assert.equal(r.recoveredModes, d.numModes);
    assert.ok(r.highQualityPercent > 99.9, `${d.name} HQ% ${r.highQualityPercent}`);
    assert.ok(Math.abs(r.std - d.std) < (5 * d.std) / Math.sqrt(n), `${d.name} std ${r.std}`);
  }
});

test('hand-computed tiny case: every field', () => {
  // grid25 mode k has centre (ix - 2, iy - 2) with k = 5 ix + iy
  const pts = new Float64Array([
    0,
    0, // mode 12, distance 0: HQ
    1.1,
    0, // mode 17, distance 0.1: HQ
    2,
    2.15, // mode 24, distance 0.15: HQ
    0.6,
    0.6, // mode 18, distance sqrt(0.32) > 0.2: not HQ
  ]);
  const r = modeMetrics(pts, grid25);
  assert.equal(r.numSamples, 4);
  assert.equal(r.numModes, 25);
  assert.equal(r.recoveredModes, 3);
  assert.equal(r.highQualityPercent, 75);
  assert.equal(r.threshold, 0.2);
  const counts = new Array<number>(25).fill(0);
  counts[12] = counts[17] = counts[24] = 1;
  assert.deepEqual(r.modeCounts, counts);
  const d1 = 1.1 - 1;
  const d2 = 2.15 - 2;
  assert.ok(Math.abs(r.std - Math.sqrt((d1 * d1 + d2 * d2) / (2 * 3))) < 1e-15);
  // histogram 1/3 on three modes vs uniform(25), by the closed form
  const m1 = (1 / 3 + 1 / 25) / 2;
  const expected = 0.5 * Math.log(1 / 3 / m1) + 0.5 * ((3 / 25) * Math.log(1 / 25 / m1) + (22 / 25) * Math.log(2));
  assert.ok(Math.abs(r.jsModeHistogram - expected) < 1e-12, `${r.jsModeHistogram} vs ${expected}`);
  assert.ok(
    Math.abs(
      r.jsModeHistogram -
        js(
          counts.map((c) => c / 3),
          new Array(25).fill(1 / 25),
        ),
    ) < 1e-12,
  );

  // options: a tighter threshold and a higher minimum count
  const tight = modeMetrics(pts, grid25, { thresholdStd: 2.5 });
  assert.equal(tight.threshold, 0.125);
  assert.equal(tight.recoveredModes, 2);
  assert.equal(tight.highQualityPercent, 50);
  assert.equal(modeMetrics(pts, grid25, { minCount: 2 }).recoveredModes, 0);
  // float32 input gives the same assignment
  assert.deepEqual(modeMetrics(new Float32Array(pts), grid25).modeCounts, counts);
});

test('all samples piled on one mode: 1 recovered mode and the one-hot JS', () => {
  const n = 500;
  const s = new Float32Array(2 * n);
  const rng = new Rng(5);
  for (let i = 0; i < n; i++) {
    s[2 * i] = 1 + 0.01 * rng.normal();
    s[2 * i + 1] = -2 + 0.01 * rng.normal();
  }
  const r = modeMetrics(s, grid25);
  assert.equal(r.recoveredModes, 1);
  assert.equal(r.highQualityPercent, 100);
  assert.equal(r.modeCounts[5 * 3 + 0], n);
  // one-hot vs uniform(k): M = ((1 + 1/k)/2, 1/(2k), ...), so
  // JS = ½ ln(2k/(k+1)) + ½ [ (1/k) ln(2/(k+1)) + ((k-1)/k) ln 2 ]
  const k = 25;
  const expected = 0.5 * Math.log((2 * k) / (k + 1)) + 0.5 * ((1 / k) * Math.log(2 / (k + 1)) + ((k - 1) / k) * Math.LN2);
  assert.ok(Math.abs(r.jsModeHistogram - expected) < 1e-12, `${r.jsModeHistogram} vs ${expected}`);
});

test('points far from the data: no HQ sample', () => {
  const s = new Float64Array([10, 10, -7, 3, 0.5, 0.5, NaN, 0]);
  for (const d of [grid25, ring8, swissroll]) {
    const r = modeMetrics(s, d);
    assert.equal(r.recoveredModes, 0);
    assert.equal(r.highQualityPercent, 0);
    assert.ok(Number.isNaN(r.std));
    assert.equal(r.jsModeHistogram, Math.LN2);
    assert.ok(r.modeCounts.every((c) => c === 0));
  }
});

test('errors name samples / the option', () => {
  const check = (fn: () => unknown, path: string): void => assertRefineryError(fn, 'invalid_argument', path);
  check(() => modeMetrics(new Float32Array(3), grid25), 'samples');
  check(() => modeMetrics(new Float32Array(0), grid25), 'samples');
  check(() => modeMetrics([0, 0] as unknown as Float32Array, grid25), 'samples');
  check(() => modeMetrics(new Float32Array(2), grid25, { thresholdStd: 0 }), 'thresholdStd');
  check(() => modeMetrics(new Float32Array(2), grid25, { minCount: 0 }), 'minCount');
});
