/**
 * The default batch size follows the models' intermediate values: the 2-D MLP gets thousands of
 * rows, the DCGAN fixture about 80, the ResNet the floor of 64; a pair whose shapes are unknown falls back to 10,000.
 * The samples do not depend on it (invariance.test.ts cuts every method's run into other batches).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPair } from '../models/load.js';
import { Graph } from '../onnx/graph.js';
import { fixturesDir, repoRoot } from '../testing/fixtures.js';
import { activationValues, BATCH_VALUES, defaultBatchSize } from './batch.js';
import { refine } from './refine.js';

test('defaultBatchSize: BATCH_VALUES over the values one row of G then D holds, within [64, 10000]; the samples do not change', async () => {
  const mlp = loadPair({ run: join(fixturesDir(), 'mlp2d') });
  // mlp2d: G 2 -> 128 -> 128 -> 2 and D 2 -> 128 -> 128 -> 1 (Gemm and activation outputs).
  const perRow = activationValues(mlp);
  assert.ok(perRow > 1000 && perRow < 2000, `mlp2d values per row ${perRow}`);
  assert.equal(defaultBatchSize(mlp), Math.floor(BATCH_VALUES / perRow));
  const dcgan = loadPair({ run: join(fixturesDir(), 'dcgan32') });
  assert.ok(activationValues(dcgan) > 50_000);
  assert.equal(defaultBatchSize(dcgan), Math.floor(BATCH_VALUES / activationValues(dcgan)));
  assert.ok(defaultBatchSize(dcgan) < 256);
  // The ResNet of the bench holds over a million values per row: the floor of 64.
  const resnet = loadPair({ run: join(repoRoot, 'test', 'fixtures', 'bench', 'resnet32') });
  assert.ok(activationValues(resnet) > 1e6);
  assert.equal(defaultBatchSize(resnet), 64);
  // No shape information beyond the batch axis: the former fixed default.
  const g = new Graph();
  const z = g.addInput('z', 'float32', ['batch', 'k']);
  g.outputs = [g.op('Relu', [z])];
  assert.equal(defaultBatchSize({ generator: g, discriminator: g }), 10000);
  // The default cuts a run into batches like an explicit batch size would: the same bytes.
  const a = await refine(dcgan, { method: 'sir', n: 150, pool: 2 });
  const b = await refine(dcgan, { method: 'sir', n: 150, pool: 2, batchSize: 150 });
  assert.deepEqual(a.samples.data, b.samples.data);
});
