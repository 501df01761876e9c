import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadGraph } from '../onnx/modelfile.js';
import { Session } from '../onnx/session.js';
import { classifierData, fitClassifier, measure, trainClassifier } from './classifier.js';

const root = mkdtempSync(join(tmpdir(), 'refinery-classifier-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('learns shapes28 (far above chance) and exports consistent classifier and feature graphs', async () => {
  const data = await classifierData({ dataset: 'shapes28' });
  const small = { ...data, train: { data: data.train.data.subarray(0, 6000 * 784), labels: data.train.labels.subarray(0, 6000), n: 6000 }, test: data.test };
  const o = { out: join(root, 'shapes'), seed: 0, epochs: 3, batchSize: 64, lr: 3e-3, width: 8, features: 32, shift: 1 };
  const r = await fitClassifier(small, o);
  assert.ok(r.accuracy > 0.95, `held-out accuracy ${r.accuracy} (chance 0.25)`);
  // Negative control: an untrained network is near chance.
  const untrained = await fitClassifier(small, { ...o, out: join(root, 'untrained'), epochs: 1, lr: 1e-9 });
  assert.ok(untrained.accuracy < 0.5, `untrained accuracy ${untrained.accuracy}`);
  for (const f of Object.values(r.files)) assert.ok(existsSync(f), f);
  const meta = JSON.parse(readFileSync(r.files.meta, 'utf8'));
  assert.deepEqual(meta.classes, ['circle', 'square', 'triangle', 'cross']);
  // The exported classifier gives the accuracy reported; the features graph has the feature width.
  assert.equal((await measure(loadGraph(r.files.classifier), small.test, [1, 28, 28], 4)).accuracy, r.accuracy);
  const s = await Session.create(loadGraph(r.files.features));
  const f = await s.run({ x: { data: small.test.data.subarray(0, 5 * 784), shape: [5, 1, 28, 28] } });
  await s.release();
  assert.deepEqual(f.features.shape, [5, 32]);
});

test('the MNIST digit classifier with the defaults reaches 98% on the 2,000 held-out digits', async () => {
  const r = await trainClassifier({ out: join(root, 'mnist') });
  assert.ok(r.accuracy >= 0.98, `held-out accuracy ${r.accuracy}`);
  assert.equal(r.classes.length, 10);
});
