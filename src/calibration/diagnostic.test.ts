import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { dawidZ, diagnoseLogRatios, RELIABILITY_BINS, type ReliabilityBin, reliability, spiegelhalterZ } from './diagnostic.js';
import { sigmoid } from './logistic.js';

test('Z formulas on a tiny case', () => {
  const y = [1, 0, 1];
  const p = [0.8, 0.4, 0.5];
  // sum (y - p) = 0.2 - 0.4 + 0.5 = 0.3; sum p(1-p) = 0.16 + 0.24 + 0.25 = 0.65
  const d = dawidZ(y, p);
  assert.ok(Math.abs(d.sum - 0.3) < 1e-12);
  assert.ok(Math.abs(d.variance - 0.65) < 1e-12);
  assert.ok(Math.abs(d.z - 0.3 / Math.sqrt(0.65)) < 1e-12);
  // Spiegelhalter: sum (y-p)(1-2p) = 0.2*(-0.6) + (-0.4)*0.2 + 0.5*0 = -0.2
  // variance: 0.36*0.16 + 0.04*0.24 + 0 = 0.0672
  const s = spiegelhalterZ(y, p);
  assert.ok(Math.abs(s.z - -0.2 / Math.sqrt(0.0672)) < 1e-12);
  assert.equal(dawidZ([1, 0], [1, 0]).z, 0);
  assert.equal(dawidZ([1, 0], [0, 0]).z, Infinity);
  assert.throws(() => dawidZ([1], [1.5]), RefineryError);
  assert.throws(() => dawidZ([2], [0.5]), RefineryError);
});

/** Scores x ~ N(0, 4) and labels y ~ Bernoulli(sigmoid(x)): sigmoid(x) is exactly calibrated. */
function draw(n: number, rng: Rng): { x: Float64Array; y: Uint8Array } {
  const x = Float64Array.from({ length: n }, () => 2 * rng.normal());
  const y = Uint8Array.from(x, (v) => (rng.uniform() < sigmoid(v) ? 1 : 0));
  return { x, y };
}

test('Z is ~ N(0, 1) for calibrated probabilities; |Z| is large for miscalibrated ones (negative control)', () => {
  const reps = 200;
  const zs: number[] = [];
  const ss: number[] = [];
  for (let r = 0; r < reps; r++) {
    const { x, y } = draw(500, new Rng(31, r));
    zs.push(dawidZ(y, Array.from(x, sigmoid)).z);
    ss.push(spiegelhalterZ(y, Array.from(x, sigmoid)).z);
  }
  for (const v of [zs, ss]) {
    const m = v.reduce((a, b) => a + b, 0) / reps;
    const s2 = v.reduce((a, b) => a + (b - m) ** 2, 0) / (reps - 1);
    // mean of 200 N(0,1): sd 0.07; sample variance: sd ~ sqrt(2/199) = 0.1.
    assert.ok(Math.abs(m) < 4 * Math.sqrt(1 / reps), `mean ${m}`);
    assert.ok(Math.abs(s2 - 1) < 4 * Math.sqrt(2 / (reps - 1)), `variance ${s2}`);
  }
  const { x, y } = draw(4000, new Rng(32));
  // Shifted probabilities: Dawid's Z sees it.
  assert.ok(
    Math.abs(
      dawidZ(
        y,
        Array.from(x, (v) => sigmoid(v + 0.5)),
      ).z,
    ) > 4,
  );
  // Over-confident probabilities (logit x 3): Dawid's sum cancels by symmetry, Spiegelhalter's does not.
  assert.ok(
    Math.abs(
      spiegelhalterZ(
        y,
        Array.from(x, (v) => sigmoid(3 * v)),
      ).z,
    ) > 4,
  );
});

test('diagnoseLogRatios adjusts for the class counts and leaves out NaN rows', () => {
  // Calibrated posterior logit x with prior odds 1; keep all reals and a quarter of the fakes:
  // the density-ratio log is still x, and p = sigmoid(x + log(n1/n0)) is the test-set posterior.
  const { x, y } = draw(20000, new Rng(33));
  const lr: number[] = [];
  const lab: number[] = [];
  let k = 0;
  for (let i = 0; i < x.length; i++) {
    if (y[i] === 1 || k++ % 4 === 0) {
      lr.push(x[i]);
      lab.push(y[i]);
    }
  }
  lr.push(NaN);
  lab.push(1);
  const d = diagnoseLogRatios(lab, lr);
  assert.equal(d.nonFinite, 1);
  assert.ok(Math.abs(d.z) < 4 && Math.abs(d.spiegelhalterZ) < 4, JSON.stringify(d));
  assert.ok(d.accuracy > 0.5 && d.logLoss > 0);
  // Using sigmoid(x) without the prior adjustment would be miscalibrated on this test set.
  assert.ok(Math.abs(dawidZ(lab.slice(0, -1), lr.slice(0, -1).map(sigmoid)).z) > 4);
  assert.throws(() => diagnoseLogRatios([1, 1], [0, 0]), RefineryError);
});

test('reliability: each bin of calibrated probabilities is within 4 binomial SEs of the diagonal; over-confident ones are not (negative control)', () => {
  const { x, y } = draw(4000, new Rng(34));
  const bound = (bins: ReliabilityBin[]) => bins.reduce((a, b) => a + (b.count / 4000) * 4 * Math.sqrt(0.25 / Math.max(b.count, 1)), 0);
  const good = reliability(y, Array.from(x, sigmoid));
  assert.equal(good.bins.length, RELIABILITY_BINS);
  assert.equal(
    good.bins.reduce((a, b) => a + b.count, 0),
    4000,
  );
  for (const b of good.bins) {
    // E[fraction real | the bin's p] = mean p; its variance is sum p(1 - p) / count^2 <= 1 / (4 count).
    if (b.count >= 20) assert.ok(Math.abs(b.fractionReal - b.meanPredicted) < 4 * Math.sqrt(0.25 / b.count), JSON.stringify(b));
    if (b.count > 0) assert.ok(b.meanPredicted >= b.lo && b.meanPredicted <= b.hi);
  }
  assert.ok(good.ece < bound(good.bins), `ECE ${good.ece}`);
  const bad = reliability(
    y,
    Array.from(x, (v) => sigmoid(3 * v)),
  );
  assert.ok(bad.ece > bound(bad.bins), `over-confident ECE ${bad.ece}`);
  assert.ok(bad.bins.some((b) => b.count >= 20 && Math.abs(b.fractionReal - b.meanPredicted) > 4 * Math.sqrt(0.25 / b.count)));
  // diagnoseLogRatios reports the same diagram for its prior-adjusted p.
  const d = diagnoseLogRatios(y, x);
  const n1 = y.reduce((a, b) => a + b, 0);
  const again = reliability(
    y,
    Array.from(x, (v) => sigmoid(v + Math.log(n1 / (4000 - n1)))),
  );
  assert.deepEqual(d.reliability, again.bins);
  assert.equal(d.ece, again.ece);
});
