import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { getImageDataset } from './images.js';
import { MNIST_TEST, mnistDigits, mnistSplit } from './mnist.js';

test('the mnist package gives 10,000 labelled 28x28 digits in [-1, 1], about 1,000 of each', () => {
  const d = mnistDigits();
  assert.equal(d.n, 10000);
  assert.equal(d.data.length, 10000 * 784);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of d.data) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  assert.equal(lo, -1);
  assert.ok(hi > 0.99 && hi <= 1);
  const counts = new Array<number>(10).fill(0);
  for (const l of d.labels) counts[l]++;
  for (const c of counts) assert.ok(c > 850 && c < 1200, `class counts ${counts}`);
  // Digits are drawn strokes: about a fifth of the pixels are ink.
  let ink = 0;
  for (const v of d.data) if (v > 0) ink++;
  assert.ok(ink / d.data.length > 0.1 && ink / d.data.length < 0.3);
});

test('the split is fixed and disjoint: 8,000 training digits, 2,000 held out, every class in both', () => {
  const train = mnistSplit('train');
  const testSplit = mnistSplit('test');
  assert.equal(train.n, 8000);
  assert.equal(testSplit.n, MNIST_TEST);
  assert.deepEqual(mnistSplit('test').labels, testSplit.labels);
  const key = (data: Float32Array, i: number) => data.subarray(i * 784, (i + 1) * 784).join(',');
  const seen = new Set(Array.from({ length: train.n }, (_, i) => key(train.data, i)));
  let shared = 0;
  for (let i = 0; i < testSplit.n; i++) if (seen.has(key(testSplit.data, i))) shared++;
  // (MNIST holds a few exact duplicates; the split itself shares no index.)
  assert.ok(shared < 5, `${shared} held-out digits also in training`);
  for (let k = 0; k < 10; k++) assert.ok(testSplit.labels.includes(k) && train.labels.includes(k));
  const ds = getImageDataset('mnist');
  assert.deepEqual(ds.shape, [1, 28, 28]);
  assert.deepEqual(ds.classes, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  const s = ds.sampleLabeled(5, new Rng(1));
  assert.equal(s.data.length, 5 * 784);
});
