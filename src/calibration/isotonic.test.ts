import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { fitIsotonic, isotonicLogRatio, pav } from './isotonic.js';
import { sigmoid } from './logistic.js';

const close = (a: number, b: number, tol = 1e-12) => Math.abs(a - b) <= tol;

test('PAV on a hand case', () => {
  // 0, 1, 0, 0, 1, 1 -> {0} {1,0,0}=1/3 {1,1}=1
  const r = pav([0, 1, 0, 0, 1, 1], [1, 1, 1, 1, 1, 1]);
  assert.deepEqual(Array.from(r.sizes), [1, 3, 2]);
  assert.ok(close(r.means[0], 0) && close(r.means[1], 1 / 3) && close(r.means[2], 1));
  // Weights: {3 (w=1), 1 (w=3)} pools to (3 + 3) / 4 = 1.5.
  const w = pav([3, 1, 2], [1, 3, 1]);
  assert.deepEqual(Array.from(w.sizes), [2, 1]);
  assert.ok(close(w.means[0], 1.5) && close(w.means[1], 2));
});

test('isotonic calibration of a tiny case: blocks, knots, clipping and interpolation', () => {
  // Three reals and three fakes: balanced weights are all 1.
  const fit = fitIsotonic([1, 2, 3, 4, 5, 6], [0, 1, 0, 0, 1, 1]);
  assert.deepEqual(Array.from(fit.knots), [1, 3, 5.5]);
  assert.deepEqual(Array.from(fit.counts), [1, 3, 2]);
  assert.ok(close(fit.probabilities[1], 1 / 3));
  assert.equal(fit.pClip, 1 / 12);
  const v = [Math.log(1 / 11), Math.log(1 / 2), Math.log(11)];
  fit.logRatios.forEach((x, k) => {
    assert.ok(close(x, v[k]), `v${k} ${x}`);
  });
  assert.ok(close(isotonicLogRatio(fit, 0), v[0]));
  assert.ok(close(isotonicLogRatio(fit, 2), (v[0] + v[1]) / 2));
  assert.ok(close(isotonicLogRatio(fit, 4.25), (v[1] + v[2]) / 2));
  assert.ok(close(isotonicLogRatio(fit, 100), v[2]));
  assert.ok(Number.isNaN(isotonicLogRatio(fit, NaN)));
  // Ties form one group: {1: y=1, 1: y=0} then {2: y=0} -> one block of mean 1/3.
  const tie = fitIsotonic([1, 1, 2], [1, 0, 0], { weighting: 'none' });
  assert.equal(tie.knots.length, 1);
  assert.ok(close(tie.probabilities[0], 1 / 3));
  assert.ok(close(tie.knots[0], 4 / 3));
});

test('balanced weights change the blocks when counts differ', () => {
  // One real, three fakes: balanced weights 2 (real) and 2/3 (fakes).
  const fit = fitIsotonic([1, 2, 3, 4], [1, 0, 0, 0]);
  assert.equal(fit.knots.length, 1);
  assert.ok(close(fit.probabilities[0], 0.5), `p ${fit.probabilities[0]}`);
  const raw = fitIsotonic([1, 2, 3, 4], [1, 0, 0, 0], { weighting: 'none' });
  assert.ok(close(raw.probabilities[0], 0.25));
});

test('monotone, and close to the true log ratio 2s - 1 in the bulk; a wrong truth is far (negative control)', () => {
  const rng = new Rng(21);
  const n = 20000;
  const s: number[] = [];
  const y: number[] = [];
  let r = 0;
  let f = 0;
  while (r < n / 2 || f < n / 2) {
    const v = 0.5 + rng.normal();
    const lab = rng.uniform() < sigmoid(2 * v - 1) ? 1 : 0;
    if (lab === 1 ? r++ < n / 2 : f++ < n / 2) {
      s.push(v);
      y.push(lab);
    }
  }
  const fit = fitIsotonic(s, y);
  for (let k = 1; k < fit.knots.length; k++) {
    assert.ok(fit.knots[k] > fit.knots[k - 1]);
    assert.ok(fit.logRatios[k] >= fit.logRatios[k - 1]);
  }
  let prev = -Infinity;
  let err = 0;
  let errWrong = 0;
  const grid = 200;
  for (let i = 0; i <= grid; i++) {
    const x = -0.5 + (2 * i) / grid; // central region [-0.5, 1.5]
    const v = isotonicLogRatio(fit, x);
    assert.ok(v >= prev, `not monotone at ${x}`);
    prev = v;
    err += Math.abs(v - (2 * x - 1)) / (grid + 1);
    errWrong += Math.abs(v - (1.5 * x - 0.75)) / (grid + 1);
  }
  // Isotonic regression converges at n^(-1/3): with 20000 points, blocks hold ~ hundreds of points
  // and the mean absolute error of the log-odds is well below 0.15.
  assert.ok(err < 0.15, `mean abs error ${err}`);
  assert.ok(errWrong > 0.15, `a wrong slope should be detected: ${errWrong}`);
});
