import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertRefineryError } from '../testing/assert.js';
import { RefineryError } from '../errors.js';
import { Rng } from '../rng.js';
import { Graph, int, ints } from './graph.js';
import { Session, spinning } from './session.js';

test('REFINERY_SPIN: spinning by default, off with 0, anything else refused by name', () => {
  const saved = process.env.REFINERY_SPIN;
  try {
    delete process.env.REFINERY_SPIN;
    assert.equal(spinning(), true);
    process.env.REFINERY_SPIN = '0';
    assert.equal(spinning(), false);
    process.env.REFINERY_SPIN = '1';
    assert.equal(spinning(), true);
    process.env.REFINERY_SPIN = 'yes';
    assertRefineryError(() => spinning(), 'invalid_argument', 'REFINERY_SPIN');
  } finally {
    if (saved === undefined) delete process.env.REFINERY_SPIN;
    else process.env.REFINERY_SPIN = saved;
  }
});

test('runRows: a single row gets the bits it gets in any batch (a pixel norm, whose one-row reduction onnxruntime sums in another order); plain run differs (the control)', async () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 16, 8, 8]);
  const meanSquare = g.op('ReduceMean', [g.op('Mul', [x, x])], { axes: ints([1]), keepdims: int(1) });
  g.outputs = [g.op('Div', [x, g.op('Sqrt', [g.op('Add', [meanSquare, g.scalar(1e-8)])])])];
  const s = await Session.create(g, { threads: 2 });
  const rows = 4;
  const m = 16 * 8 * 8;
  const data = new Rng(3).fillNormal(new Float32Array(rows * m));
  const batch = (await s.run({ x: { data, shape: [rows, 16, 8, 8] } }))[g.outputs[0]].data;
  let plainDiffers = 0;
  for (let r = 0; r < rows; r++) {
    const one = { x: { data: data.subarray(r * m, (r + 1) * m), shape: [1, 16, 8, 8] } };
    const padded = (await s.runRows(one))[g.outputs[0]];
    assert.deepEqual(padded.shape, [1, 16, 8, 8]);
    assert.deepEqual(Buffer.from(padded.data.buffer, padded.data.byteOffset, padded.data.byteLength), Buffer.from(batch.buffer, r * m * 4, m * 4), `row ${r}`);
    const plain = (await s.run(one))[g.outputs[0]].data;
    for (let i = 0; i < m; i++) if (plain[i] !== batch[r * m + i]) plainDiffers++;
  }
  assert.ok(plainDiffers > 0, 'a single row run alone matched the batch: the control shows nothing');
  // Several rows run as they are.
  const two = (await s.runRows({ x: { data: data.subarray(0, 2 * m), shape: [2, 16, 8, 8] } }))[g.outputs[0]].data;
  assert.deepEqual(two, batch.subarray(0, 2 * m));
  await s.release();
  // An output without the batch axis is refused.
  const t = new Graph();
  const y = t.addInput('y', 'float32', ['batch', 3]);
  t.outputs = [t.op('ReduceSum', [y], { keepdims: int(0) })];
  const ts = await Session.create(t, { threads: 1 });
  await assert.rejects(
    ts.runRows({ y: { data: Float32Array.of(1, 2, 3), shape: [1, 3] } }),
    (e: unknown) => e instanceof RefineryError && e.code === 'internal',
  );
  await ts.release();
});
