import assert from 'node:assert/strict';
import { discriminatorGraph } from '../models/pair.js';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { DataTarget } from '../targets/data.js';
import { BIMODAL, exactLogRatio, exactPair, sampleMixture } from '../testing/exact.js';
import { applyCalibrator, calibratedDiscriminator, fitCalibration } from './calibrate.js';
import { Graph, int } from '../onnx/graph.js';

const SCALE = 0.3;
const SHIFT = 1;
const M = 4000;

/** Test points: fresh mixture draws (high p_data density) and fresh N(0, I) draws (p_g). */
function testPoints(n: number): { x: Float32Array; exact: Float64Array } {
  const a = sampleMixture(BIMODAL, n, new Rng(901));
  const b = new Rng(902).fillNormal(new Float32Array(n * 2));
  const x = new Float32Array(4 * n);
  x.set(a);
  x.set(b, 2 * n);
  return { x, exact: Float64Array.from({ length: 2 * n }, (_, i) => exactLogRatio(BIMODAL, x.subarray(2 * i, 2 * i + 2))) };
}

const meanAbs = (a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = a.length) => {
  let s = 0;
  for (let i = from; i < to; i++) s += Math.abs(a[i] - b[i]) / (to - from);
  return s;
};

test('logistic calibration of a scaled, shifted exact ratio recovers a = 1/0.3, b = -1/0.3 and the exact log ratio', async () => {
  const pair = exactPair(BIMODAL, { scale: SCALE, shift: SHIFT });
  const real = sampleMixture(BIMODAL, M, new Rng(7));
  const cal = await fitCalibration(pair, real, { method: 'logistic', seed: 5 });
  try {
    const p = cal.report.params as { a: number; b: number; seA: number; seB: number; converged: boolean };
    assert.ok(p.converged);
    const za = (p.a - 1 / SCALE) / p.seA;
    const zb = (p.b + SHIFT / SCALE) / p.seB;
    assert.ok(Math.abs(za) < 4 && Math.abs(zb) < 4, `a ${p.a} (z ${za}), b ${p.b} (z ${zb})`);
    assert.equal(cal.report.fit.real, M / 2);
    assert.equal(cal.report.test.fake, M / 2);
    // Before: sigmoid(0.3 r + 1) calls everything real -> |Z| large. After: calibrated, with
    // Var(Z) ~ 1 + nTest/nFit = 2 (the fitted map's own error), hence the bound 4 sqrt(2).
    assert.ok(Math.abs(cal.report.before.z) > 4 * Math.SQRT2, `Z before ${cal.report.before.z}`);
    assert.ok(Math.abs(cal.report.after.z) < 4 * Math.SQRT2, `Z after ${cal.report.after.z}`);
    assert.ok(Math.abs(cal.report.after.spiegelhalterZ) < 4 * Math.SQRT2, `Spiegelhalter Z after ${cal.report.after.spiegelhalterZ}`);

    const n = 1000;
    const { x, exact } = testPoints(n);
    const got = await cal.score({ data: x, shape: [2 * n, 2] });
    assert.equal(got.length, 2 * n);
    const raw = await DataTarget.create(pair, false);
    const s = await raw.logRatio({ data: x, shape: [2 * n, 2] });
    await raw.release();
    for (let i = 0; i < 2 * n; i++) {
      // The graph computes the same map as the float64 calibrator (float32 rounding only).
      const want = cal.map(s[i]);
      assert.ok(Math.abs(got[i] - want) < 1e-4 * Math.max(1, Math.abs(want)), `row ${i}: ${got[i]} vs ${want}`);
      // And the exact log ratio, within the parameter uncertainty (4 se) plus float32 error.
      const bound = 4 * (p.seA * Math.abs(s[i]) + p.seB) + 1e-3 * Math.max(1, Math.abs(exact[i]));
      assert.ok(Math.abs(got[i] - exact[i]) < bound, `row ${i}: ${got[i]} vs exact ${exact[i]} (bound ${bound})`);
    }
    // The uncalibrated score is far from the exact log ratio (negative control of the same check).
    assert.ok(meanAbs(s, exact, 0, n) > 0.5, `raw error ${meanAbs(s, exact, 0, n)}`);
  } finally {
  }
});

test('isotonic calibration recovers the exact log ratio on high-density points; no calibration does not (negative control)', async () => {
  const pair = exactPair(BIMODAL, { scale: SCALE, shift: SHIFT });
  const real = sampleMixture(BIMODAL, M, new Rng(7));
  const n = 1000;
  const { x, exact } = testPoints(n);
  const iso = await fitCalibration(pair, real, { method: 'isotonic', seed: 5 });
  const none = await fitCalibration(pair, real, { method: 'none', seed: 5 });
  try {
    const got = await iso.score({ data: x, shape: [2 * n, 2] });
    const raw = await none.score({ data: x, shape: [2 * n, 2] });
    // Monotone in the raw score (raw = identity-calibrated score).
    const order = Array.from({ length: 2 * n }, (_, i) => i).sort((i, j) => raw[i] - raw[j]);
    for (let k = 1; k < order.length; k++) assert.ok(got[order[k]] >= got[order[k - 1]] - 1e-5, `not monotone at ${raw[order[k]]}`);
    for (let i = 0; i < 2 * n; i++) assert.ok(Math.abs(got[i] - iso.map(raw[i])) < 1e-4 * Math.max(1, Math.abs(got[i])));
    // High-density points: a 2000 + 2000-point isotonic fit converges at the n^-1/3 rate
    // (2000^-1/3 = 0.08); over seeds 0..9 its mean absolute error was 0.08-0.17 (logistic: 0.01-0.05).
    const errIso = meanAbs(got, exact, 0, n);
    const errNone = meanAbs(raw, exact, 0, n);
    assert.ok(errIso < 0.25, `isotonic mean abs error ${errIso}`);
    assert.ok(errNone > 0.5, `uncalibrated mean abs error ${errNone}`);
    assert.ok(Math.abs(iso.report.after.z) < 4 * Math.SQRT2, `Z after ${iso.report.after.z}`);
    assert.ok(Math.abs(none.report.after.z) > 4 * Math.SQRT2, `Z of the uncalibrated score ${none.report.after.z}`);
    assert.deepEqual(none.report.before, none.report.after);
    assert.equal(iso.report.params.pClip, 1 / (2 * M));
    // JSON-able.
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(iso.report)));
  } finally {
  }
});

test('seeded and deterministic; the seed changes the fakes and the fit', async () => {
  const pair = exactPair(BIMODAL, { scale: SCALE, shift: SHIFT });
  const real = sampleMixture(BIMODAL, 400, new Rng(8));
  const runs = [];
  for (const seed of [3, 3, 4]) {
    const c = await fitCalibration(pair, real, { method: 'logistic', seed, batchSize: 64 });
    runs.push(c.report.params);
  }
  assert.deepEqual(runs[0], runs[1]);
  assert.notEqual(runs[0].a, runs[2].a);
});

test('bad input gives RefineryErrors naming the option; NaN scores propagate as NaN', async () => {
  const pair = exactPair(BIMODAL);
  const real = sampleMixture(BIMODAL, 100, new Rng(9));
  const code = (c: string, path: string) => (e: unknown) => e instanceof RefineryError && e.code === c && e.issues[0].path.startsWith(path);
  await assert.rejects(fitCalibration(pair, undefined, { seed: 1 }), code('invalid_argument', 'real'));
  await assert.rejects(fitCalibration(pair, real.subarray(0, 5), { seed: 1 }), code('shape_mismatch', 'real'));
  await assert.rejects(fitCalibration(pair, real.subarray(0, 6), { seed: 1 }), code('invalid_argument', 'real'));
  await assert.rejects(fitCalibration(pair, real, { seed: 1, method: 'platt' as never }), code('invalid_argument', 'calibrate'));
  await assert.rejects(fitCalibration(pair, real, { seed: 1, testFraction: 1 }), code('invalid_argument', 'testFraction'));
  await assert.rejects(fitCalibration(pair, real, { seed: 1, numFake: -1 }), code('invalid_argument', 'numFake'));
  const bad = Float32Array.from(real);
  bad[17] = NaN;
  await assert.rejects(fitCalibration(pair, bad, { seed: 1 }), code('invalid_argument', 'real row 8'));

  // A NaN input row gives a NaN calibrated score (methods treat it as a rejection), not a crash.
  for (const c of [
    { kind: 'logistic' as const, a: 2, b: 1 },
    { kind: 'isotonic' as const, knots: [-1, 0, 2], logRatios: [-3, 0, 1] },
  ]) {
    const t = await DataTarget.create(
      { discriminator: calibratedDiscriminator(discriminatorGraph(pair), 'logit', c), meta: { ...pair.meta, dOutput: 'logit' } },
      false,
    );
    const out = await t.logRatio({ data: Float32Array.from([NaN, 0, 0.5, 0.5]), shape: [2, 2] });
    await t.release();
    assert.ok(Number.isNaN(out[0]), `${c.kind}: ${out[0]}`);
    assert.ok(Number.isFinite(out[1]));
  }

  // +-Inf scores stay non-finite through every calibrator (isotonic clipping would map +Inf to its
  // top value and make an infinite region the most likely one), in the graph and in the map.
  const raw = new Graph();
  const x = raw.addInput('x', 'float32', ['batch', 2]);
  raw.add('Flatten', [raw.op('Slice', [x, raw.int64s([0]), raw.int64s([1]), raw.int64s([1])])], { axis: int(1) }, ['logit']);
  raw.outputs = ['logit'];
  for (const c of [
    { kind: 'identity' as const },
    { kind: 'logistic' as const, a: 2, b: 1 },
    { kind: 'isotonic' as const, knots: [-1, 0, 2], logRatios: [-3, 0, 1] },
  ]) {
    const t = await DataTarget.create({ discriminator: calibratedDiscriminator(raw, 'logit', c), meta: { ...pair.meta, dOutput: 'logit' } }, false);
    const out = await t.logRatio({ data: Float32Array.from([Infinity, 0, -Infinity, 0, 0.5, 0]), shape: [3, 2] });
    await t.release();
    assert.ok(!Number.isFinite(out[0]) && !Number.isFinite(out[1]), `${c.kind}: ${out[0]}, ${out[1]}`);
    assert.ok(Number.isFinite(out[2]), `${c.kind}: ${out[2]}`);
    assert.ok(!Number.isFinite(applyCalibrator(c, Infinity)) && !Number.isFinite(applyCalibrator(c, -Infinity)), c.kind);
  }
});
