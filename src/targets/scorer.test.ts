import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadPair } from '../models/load.js';
import type { ModelPair } from '../models/pair.js';
import { Graph, int } from '../onnx/graph.js';
import { Rng } from '../rng.js';
import { identityGenerator } from '../testing/exact.js';
import { fixturesDir } from '../testing/fixtures.js';
import { DataTarget } from './data.js';
import { GeneratorRunner } from './generator.js';
import { LatentScorer } from './scorer.js';

process.env.REFINERY_THREADS ??= '1';

test('LatentScorer gives logRatio(G(z)) of the separate sessions bit for bit (dcgan32, mnist_dcgan28 fixtures)', async () => {
  for (const name of ['dcgan32', 'mnist_dcgan28']) {
    const dir = join(fixturesDir(), name);
    const pair = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });
    const rows = 37;
    const z = { data: new Rng(3).fillNormal(new Float32Array(rows * pair.meta.latentDim)), shape: [rows, pair.meta.latentDim] };
    const gen = await GeneratorRunner.create(pair);
    const target = await DataTarget.create(pair, false);
    const scorer = await LatentScorer.create(pair);
    const separate = await target.logRatio(await gen.generate(z));
    const fused = await scorer.score(z);
    assert.deepEqual(
      Buffer.from(fused.buffer, fused.byteOffset, fused.byteLength),
      Buffer.from(separate.buffer, separate.byteOffset, separate.byteLength),
      name,
    );
    // Negative control: other latents give other scores.
    const other = await scorer.score({ data: z.data.map((v) => -v), shape: z.shape });
    assert.notDeepEqual(other, fused);
    await Promise.all([gen.release(), target.release(), scorer.release()]);
  }
});

test('LatentScorer: a row whose sample holds an infinity or a NaN scores NaN, even where D stays finite', async () => {
  // D(x) = sum of clip(x, -1, 1): finite for infinite x.
  const d = new Graph();
  const x = d.addInput('x', 'float32', ['batch', 3]);
  d.add('ReduceSum', [d.op('Clip', [x, d.scalar(-1), d.scalar(1)]), d.int64s([1])], { keepdims: int(1) }, ['logit']);
  d.outputs = ['logit'];
  const pair: ModelPair = {
    generator: identityGenerator(3),
    discriminator: d,
    meta: { latentDim: 3, latentPrior: 'normal', dataShape: [3], dOutput: 'logit' },
    files: { generator: '<identity>', discriminator: '<clip sum>' },
  };
  const z = { data: Float32Array.from([0.25, -0.5, 2, Infinity, 0, 0, 0, -Infinity, 0, 0.5, 0.5, Number.NaN]), shape: [4, 3] };
  const scorer = await LatentScorer.create(pair);
  const s = await scorer.score(z);
  assert.equal(s[0], Math.fround(0.25 - 0.5 + 1));
  assert.ok(Number.isNaN(s[1]) && Number.isNaN(s[2]) && Number.isNaN(s[3]), `scores ${s}`);
  // Negative control: D alone scores the infinite rows finitely (the guard is what rejects them).
  const target = await DataTarget.create(pair, false);
  const plain = await target.logRatio(z);
  assert.equal(plain[1], 1);
  assert.equal(plain[2], -1);
  await Promise.all([scorer.release(), target.release()]);
});
