/**
 * Row i of a run depends only on (seed, i): the same bytes whatever the chunk size, batch size,
 * thread count or shard split, for every method of the registry. Run on the mlp2d fixture (real
 * ONNX G and D, Gemm + Relu) for all methods and on dcgan32 (convolutions, batch norm) for one
 * method of each kind, and on a small pair with a pixel norm (whose one-row batches onnxruntime
 * sums in another order: sessions run a single row as two). The comparisons are bit-for-bit.
 * Negative control: another seed gives other bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleDataset } from '../data/sample.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { fixturesDir } from '../testing/fixtures.js';
import { join } from 'node:path';
import { Graph, int, ints } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { refine, type RefineOptions } from './refine.js';
import { METHOD_IDS, type MethodId } from './registry.js';
import { SMALL_SETTINGS as SMALL } from '../testing/small.js';

/** How a run is cut: batch and chunk sizes, threads, shards. */
interface Cut {
  name: string;
  batchSize: number;
  chunkSize: number;
  threads?: string;
  shards?: number;
}

const CUTS: Cut[] = [
  { name: 'chunks of 10, batches of 4', batchSize: 4, chunkSize: 10 },
  { name: 'chunks of 7, batches of 16, one thread', batchSize: 16, chunkSize: 7, threads: '1' },
  { name: '3 shards, chunks of 6, batches of 5', batchSize: 5, chunkSize: 6, shards: 3 },
];

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

async function runCut(pair: ModelPair, base: RefineOptions, cut: Cut): Promise<Float32Array> {
  const saved = process.env.REFINERY_THREADS;
  if (cut.threads) process.env.REFINERY_THREADS = cut.threads;
  try {
    const o = { ...base, batchSize: cut.batchSize, chunkSize: cut.chunkSize } as RefineOptions;
    if (!cut.shards) return (await refine(pair, o)).samples.data;
    const parts: Float32Array[] = [];
    for (let index = 0; index < cut.shards; index++) {
      const r = await refine(pair, { ...o, shard: { index, count: cut.shards } });
      assert.equal(r.shard?.index, index);
      parts.push(r.samples.data);
    }
    const all = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.length;
    }
    return all;
  } finally {
    if (saved === undefined) delete process.env.REFINERY_THREADS;
    else process.env.REFINERY_THREADS = saved;
  }
}

async function checkMethod(pair: ModelPair, method: MethodId, n: number, real: Float32Array | undefined, extra: Record<string, unknown> = {}): Promise<void> {
  const base = {
    method,
    n,
    seed: 5,
    batchSize: 1000,
    chunkSize: 1000,
    ...(real ? { real: { data: real, shape: [real.length / 2, 2] } } : {}),
    // mlp2d's D is a critic; the selection methods refuse it unless told to take it as a ratio.
    criticAsRatio: true,
    ...SMALL[method],
    ...extra,
  } as RefineOptions;
  const whole = (await refine(pair, base)).samples.data;
  assert.ok(whole.every(Number.isFinite), `${method}: finite samples`);
  for (const cut of CUTS) {
    const got = await runCut(pair, base, cut);
    assert.ok(bytes(got).equals(bytes(whole)), `${method}, ${cut.name}: differs from one chunk and one batch`);
  }
  const other = (await refine(pair, { ...base, seed: 6 } as RefineOptions)).samples.data;
  assert.ok(!bytes(other).equals(bytes(whole)), `${method}: seed 6 gave the bytes of seed 5 (negative control)`);
}

const mlp = loadPair({ run: join(fixturesDir(), 'mlp2d') });
const real2d = sampleDataset('grid25', 400, { seed: 3 }).data;

for (const method of METHOD_IDS) {
  test(`${method} on mlp2d: the same bytes for every chunk size, batch size, thread count and shard split`, async () => {
    await checkMethod(mlp, method, 37, real2d);
  });
}

test('with a calibrated D (logistic and isotonic): the same bytes however the run is cut', async () => {
  await checkMethod(mlp, 'drs', 37, real2d, { calibrate: 'logistic' });
  await checkMethod(mlp, 'ddls', 37, real2d, { calibrate: 'isotonic' });
});

test('on dcgan32 (convolutions): ddls, sir and mh give the same bytes however the run is cut', async () => {
  const dcgan = loadPair({ run: join(fixturesDir(), 'dcgan32') });
  for (const method of ['ddls', 'sir', 'mh'] as const) await checkMethod(dcgan, method, 13, undefined);
});

/**
 * A generator with a pixel norm over channels (the MNIST bench's DCGAN has one) and a dense D:
 * onnxruntime sums a one-row [1, C, HW] reduction in another order than a batch's, so a row run
 * alone got other bits until sessions ran single rows as two (Session.runRows).
 */
function pixelNormPair(): ModelPair {
  const rng = new Rng(11);
  const weights = (g: Graph, rows: number, cols: number) => g.float32(rng.fillNormal(new Float32Array(rows * cols), 0, 1 / Math.sqrt(rows)), [rows, cols]);
  const g = new Graph();
  const z = g.addInput('z', 'float32', ['batch', 8]);
  const h = g.op('Reshape', [g.op('MatMul', [z, weights(g, 8, 16 * 16)]), g.int64s([-1, 16, 4, 4])]);
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [h, h])], { axes: ints([1]), keepdims: int(1) });
  g.add('Tanh', [g.op('Div', [h, g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(1e-8)])])])], {}, ['x']);
  g.outputs = ['x'];
  const d = new Graph();
  const x = d.addInput('x', 'float32', ['batch', 16, 4, 4]);
  d.add('MatMul', [d.op('Flatten', [x]), weights(d, 256, 1)], {}, ['logit']);
  d.outputs = ['logit'];
  return {
    generator: g,
    discriminator: d,
    meta: { latentDim: 8, latentPrior: 'normal', dataShape: [16, 4, 4], dOutput: 'logit' },
    files: { generator: '<pixel norm>', discriminator: '<dense>' },
  };
}

test('with a pixel-norm generator (a one-row batch sums otherwise): drs, mh, sir and ddls give the same bytes however the run is cut', async () => {
  const pair = pixelNormPair();
  // The control: this generator run on one row alone differs from the row in a batch.
  const s = await Session.create(pair.generator as Graph, { threads: 2 });
  const z = new Rng(4).fillNormal(new Float32Array(3 * 8));
  const batch = (await s.run({ z: { data: z, shape: [3, 8] } })).x.data;
  const alone = (await s.run({ z: { data: z.subarray(0, 8), shape: [1, 8] } })).x.data;
  await s.release();
  assert.ok(
    alone.some((v, i) => v !== batch[i]),
    'one row alone matched the batch: this pair shows nothing',
  );
  for (const method of ['drs', 'mh', 'sir', 'ddls'] as const) await checkMethod(pair, method, 13, undefined);
});
