import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { rejectsWith } from '../testing/assert.js';
import { classStatistics, inceptionScore } from './classifier.js';

/** Logits [n, K] putting `confidence` of the mass on class labels[i], the rest spread evenly. */
function logitsFor(labels: number[], k: number, confidence: number): { data: Float64Array; shape: number[] } {
  const data = new Float64Array(labels.length * k);
  const hi = Math.log(confidence);
  const lo = Math.log((1 - confidence) / (k - 1));
  labels.forEach((l, i) => {
    for (let j = 0; j < k; j++) data[i * k + j] = j === l ? hi : lo;
  });
  return { data, shape: [labels.length, k] };
}

test('Inception Score: K for confident predictions spread evenly over K classes, 1 for one class or for uniform predictions', () => {
  const k = 10;
  const even = Array.from({ length: 1000 }, (_, i) => i % k);
  // Confident to 1 - 1e-12: IS = exp(H(p(y)) - E H(p(y|x))) -> exp(ln K) = K (splits keep every class).
  const s = inceptionScore(logitsFor(even, k, 1 - 1e-12), { splits: 10, shuffle: false });
  assert.ok(Math.abs(s.mean - k) < 1e-6, `IS ${s.mean}`);
  assert.ok(s.std < 1e-9);
  assert.ok(Math.abs(inceptionScore(logitsFor(new Array(500).fill(3), k, 0.999)).mean - 1) < 1e-9, 'one class only');
  assert.ok(Math.abs(inceptionScore({ data: new Float64Array(500 * k), shape: [500, k] }).mean - 1) < 1e-12, 'uniform predictions');
  // Closed form with confidence c on the right class, classes balanced: IS = exp(ln K - H(c)), H(c) = -c ln c - (1-c) ln((1-c)/(K-1)).
  const c = 0.8;
  const h = -c * Math.log(c) - (1 - c) * Math.log((1 - c) / (k - 1));
  assert.ok(Math.abs(inceptionScore(logitsFor(even, k, c), { splits: 4, shuffle: false }).mean - Math.exp(Math.log(k) - h)) < 1e-9);
  // Shuffled splits of balanced labels: every split is near K; the seed changes the splits, not the mean much.
  const shuffled = inceptionScore(logitsFor(even, k, 0.999), { splits: 10, seed: 3 });
  assert.ok(Math.abs(shuffled.mean - inceptionScore(logitsFor(even, k, 0.999), { splits: 1 }).mean) < 0.5);
});

test('class statistics: confident fraction, classes covered, divergence of the class histogram from uniform', () => {
  const k = 4;
  const labels = [0, 0, 1, 1, 2, 2, 3, 3];
  const s = classStatistics(logitsFor(labels, k, 0.95));
  assert.equal(s.confidentPercent, 100);
  assert.equal(s.classesCovered, 4);
  assert.ok(s.jsFromUniform < 1e-12);
  assert.deepEqual(s.classCounts, [2, 2, 2, 2]);
  const collapsed = classStatistics(logitsFor([1, 1, 1, 1], k, 0.95));
  assert.equal(collapsed.classesCovered, 1);
  assert.ok(collapsed.jsFromUniform > 0.3);
  const unsure = classStatistics(logitsFor(labels, k, 0.6));
  assert.equal(unsure.confidentPercent, 0);
  assert.equal(classStatistics(logitsFor(labels, k, 0.6), { threshold: 0.5 }).confidentPercent, 100);
});

test('bad input names its option', async () => {
  const l = { data: new Rng(1).fillNormal(new Float64Array(20)), shape: [10, 2] };
  await rejectsWith(
    Promise.resolve().then(() => inceptionScore(l, { splits: 11 })),
    'invalid_argument',
    'splits',
  );
  await rejectsWith(
    Promise.resolve().then(() => classStatistics(l, { threshold: 1 })),
    'invalid_argument',
    'threshold',
  );
  const nan = Float64Array.from(l.data);
  nan[3] = Number.NaN;
  await rejectsWith(
    Promise.resolve().then(() => inceptionScore({ data: nan, shape: [10, 2] })),
    'invalid_argument',
    'logits',
  );
});

test('a classifier exported with its Softmax: probability rows give the scores of its logits, not of a second softmax', () => {
  const k = 10;
  const rng = new Rng(12);
  const n = 600;
  const logits = new Float64Array(n * k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) logits[i * k + j] = rng.normal() * 3 + (j === i % k ? 4 : 0);
  const probabilities = new Float32Array(n * k);
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(logits[i * k + j]);
    for (let j = 0; j < k; j++) probabilities[i * k + j] = Math.exp(logits[i * k + j]) / sum;
  }
  const fromLogits = inceptionScore({ data: logits, shape: [n, k] });
  const fromProbabilities = inceptionScore({ data: probabilities, shape: [n, k] });
  assert.ok(Math.abs(fromLogits.mean - fromProbabilities.mean) < 1e-5, `${fromLogits.mean} vs ${fromProbabilities.mean}`);
  const a = classStatistics({ data: logits, shape: [n, k] });
  const b = classStatistics({ data: probabilities, shape: [n, k] });
  assert.deepEqual(b.classCounts, a.classCounts);
  assert.ok(Math.abs(a.confidentPercent - b.confidentPercent) < 0.5);
  // control: the same values read as logits (rows summing to 1.1, so not probabilities) flatten to IS near 1
  const asLogits = inceptionScore({ data: probabilities.map((v) => v * 1.1), shape: [n, k] });
  assert.ok(asLogits.mean < 1.2 && fromLogits.mean > 3, `${asLogits.mean} against ${fromLogits.mean}`);
});
