import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { fitLogistic, sigmoid } from './logistic.js';

/**
 * Two-sample ("case-control") synthetic scores: s ~ N(0.5, 1), y ~ Bernoulli(sigmoid(2s - 1));
 * the first nReal points with y = 1 and the first nFake with y = 0. P(y = 1) = 1/2 exactly (2s - 1
 * is symmetric about 0), so the class-conditional log density ratio is exactly 2s - 1.
 */
function synthetic(nReal: number, nFake: number, rng: Rng): { s: Float64Array; y: Uint8Array } {
  const s: number[] = [];
  const y: number[] = [];
  let r = 0;
  let f = 0;
  while (r < nReal || f < nFake) {
    const v = 0.5 + rng.normal();
    const label = rng.uniform() < sigmoid(2 * v - 1) ? 1 : 0;
    if (label === 1 && r < nReal) {
      s.push(v);
      y.push(1);
      r++;
    } else if (label === 0 && f < nFake) {
      s.push(v);
      y.push(0);
      f++;
    }
  }
  return { s: Float64Array.from(s), y: Uint8Array.from(y) };
}

test('recovers a = 2, b = -1 within 4 standard errors (balanced classes)', () => {
  const { s, y } = synthetic(3000, 3000, new Rng(11));
  const fit = fitLogistic(s, y);
  assert.ok(fit.converged);
  const za = (fit.a - 2) / fit.se.a;
  const zb = (fit.b + 1) / fit.se.b;
  assert.ok(Math.abs(za) < 4 && Math.abs(zb) < 4, `a ${fit.a} (z ${za}), b ${fit.b} (z ${zb})`);
  // The standard errors are of the order 1/sqrt(n), not vacuous.
  assert.ok(fit.se.a < 0.1 && fit.se.b < 0.1, `se ${JSON.stringify(fit.se)}`);
});

test('class-balanced weights estimate the density ratio with unequal counts; unweighted fit is off by log(n1/n0) (negative control)', () => {
  const { s, y } = synthetic(4000, 1000, new Rng(12));
  const bal = fitLogistic(s, y, { weighting: 'balanced' });
  assert.ok(Math.abs((bal.a - 2) / bal.se.a) < 4, `a ${bal.a} se ${bal.se.a}`);
  assert.ok(Math.abs((bal.b + 1) / bal.se.b) < 4, `b ${bal.b} se ${bal.se.b}`);
  const raw = fitLogistic(s, y, { weighting: 'none' });
  // The posterior logit with prior odds 4: 2s - 1 + log 4.
  assert.ok(Math.abs((raw.b - (-1 + Math.log(4))) / raw.se.b) < 4, `unweighted b ${raw.b}`);
  assert.ok(Math.abs((raw.b + 1) / raw.se.b) > 4, `unweighted b ${raw.b} should not pass as the ratio`);
});

test('standard errors match the spread of the estimates over replications', () => {
  const reps = 60;
  const as: number[] = [];
  const bs: number[] = [];
  const seA: number[] = [];
  const seB: number[] = [];
  for (let r = 0; r < reps; r++) {
    const { s, y } = synthetic(400, 250, new Rng(100, r));
    const fit = fitLogistic(s, y);
    as.push(fit.a);
    bs.push(fit.b);
    seA.push(fit.se.a);
    seB.push(fit.se.b);
  }
  const sd = (v: number[]) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - 1));
  };
  const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
  // sd of a sample sd over 60 reps is ~9% of it: a ratio outside [0.6, 1.45] is a > 4 sigma miss.
  const ra = sd(as) / mean(seA);
  const rb = sd(bs) / mean(seB);
  assert.ok(ra > 0.6 && ra < 1.45, `a: empirical sd / se = ${ra}`);
  assert.ok(rb > 0.6 && rb < 1.45, `b: empirical sd / se = ${rb}`);
  // And the mean estimate is unbiased to within its Monte Carlo error.
  assert.ok(Math.abs(mean(as) - 2) < (4 * sd(as)) / Math.sqrt(reps) + 0.02, `mean a ${mean(as)}`);
});

test('separable classes give a finite, converged fit; constant scores give a = 0', () => {
  const s = [-3, -2, -1, 1, 2, 3];
  const y = [0, 0, 0, 1, 1, 1];
  const fit = fitLogistic(s, y);
  assert.ok(fit.converged);
  assert.ok(Number.isFinite(fit.a) && Number.isFinite(fit.b) && fit.a > 1, `a ${fit.a} b ${fit.b}`);
  const flat = fitLogistic([5, 5, 5, 5, 5], [1, 0, 0, 1, 1], { weighting: 'none' });
  assert.equal(flat.a, 0);
  assert.ok(Math.abs(flat.b - Math.log(3 / 2)) < 1e-9, `b ${flat.b}`);
  const flatBal = fitLogistic([5, 5, 5, 5, 5], [1, 0, 0, 1, 1]);
  assert.ok(Math.abs(flatBal.b) < 1e-9);
});

test('non-finite scores are dropped; bad labels and one-class data are RefineryErrors', () => {
  const { s, y } = synthetic(200, 200, new Rng(13));
  const clean = fitLogistic(s, y);
  const s2 = Float64Array.from([...s, NaN, Infinity, -Infinity]);
  const y2 = Uint8Array.from([...y, 1, 0, 1]);
  const fit = fitLogistic(s2, y2);
  assert.equal(fit.dropped, 3);
  assert.equal(fit.a, clean.a);
  assert.equal(fit.b, clean.b);
  assert.throws(
    () => fitLogistic([1, 2], [1, 2]),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument',
  );
  assert.throws(
    () => fitLogistic([1, 2], [1, 1]),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument',
  );
  assert.throws(
    () => fitLogistic([1, 2, 3], [1, 0]),
    (e: unknown) => e instanceof RefineryError && e.code === 'shape_mismatch',
  );
});
