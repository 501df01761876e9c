/**
 * Row i of a run depends only on (seed, i): the same bytes whatever the chunk size, batch size,
 * thread count or shard split, for every method of the registry. Run on the mlp2d fixture (real
 * ONNX G and D, Gemm + Relu) for all methods and on dcgan32 (convolutions, batch norm) for one
 * method of each kind. The comparisons are bit-for-bit: onnxruntime's CPU kernels compute each row
 * of these models alike whatever the batch around it (measured here for batches of 1 to 96).
 * Negative control: another seed gives other bytes.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sampleDataset } from '../data/sample.js';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { fixturesDir } from '../testing/fixtures.js';
import { join } from 'node:path';
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
