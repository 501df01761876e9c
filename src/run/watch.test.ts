/**
 * Watching a run: frames of the first rows for every method, without changing a byte of the
 * output; chain frames end where the returned samples are, DRS frames mark each watched row's
 * accepted proposal once (the returned sample), SIR's pool frame marks the members resampled.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { sampleDataset } from '../data/sample.js';
import { loadPair } from '../models/load.js';
import { refine, type RefineOptions } from '../refine/refine.js';
import { METHOD_IDS, METHODS } from '../refine/registry.js';
import { fixturesDir } from '../testing/fixtures.js';
import { SMALL_SETTINGS } from '../testing/small.js';
import type { RefineFrame } from './watch.js';

const pair = loadPair({ run: join(fixturesDir(), 'mlp2d') });
const real = sampleDataset('grid25', 300, { seed: 4 }).data;
const WATCHED = 10;

function bytes(a: Float32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function row(a: Float32Array, i: number): Buffer {
  return bytes(a.subarray(2 * i, 2 * i + 2));
}

for (const method of METHOD_IDS) {
  test(`${method}: frames of the first ${WATCHED} rows, and the same output bytes with or without them`, async () => {
    // Two chunks and two batches in the first chunk: only the run's first batch is watched.
    const base = {
      method,
      n: 30,
      seed: 2,
      batchSize: 16,
      chunkSize: 20,
      real: { data: real, shape: [300, 2] },
      criticAsRatio: true,
      ...SMALL_SETTINGS[method],
    } as RefineOptions;
    const frames: RefineFrame[] = [];
    const watched = await refine(pair, { ...base, watch: { rows: WATCHED, every: 3, onFrame: (f) => void frames.push(f) } });
    const plain = await refine(pair, base);
    assert.ok(bytes(watched.samples.data).equals(bytes(plain.samples.data)), 'watching changed the samples');
    assert.ok(frames.length > 0, 'no frames');
    const out = watched.samples.data;
    for (const f of frames) {
      assert.equal(f.method, method);
      assert.equal(f.samples.length, f.rows * 2);
      assert.equal(f.index.length, f.rows);
      if (f.accepted) assert.equal(f.accepted.length, f.rows);
    }
    const family = METHODS[method].family;
    const chain = frames.filter((f) => f.kind === 'chain');
    if (family === 'dynamics' || method.endsWith('mh')) {
      assert.equal(chain.length, frames.length);
      const steps = chain.map((f) => f.step);
      const numSteps = chain[0].numSteps;
      const expected = [0];
      for (let t = 1; t <= numSteps; t++) if (t % 3 === 0 || t === numSteps) expected.push(t);
      // MH sends one more frame at the last step when watched chains were restarted (stuck at a real start).
      if (method.endsWith('mh') && steps.length === expected.length + 1) expected.push(numSteps);
      assert.deepEqual(steps, expected);
      const last = chain[chain.length - 1];
      assert.equal(last.rows, WATCHED);
      for (let i = 0; i < WATCHED; i++) assert.ok(row(last.samples, i).equals(row(out, i)), `row ${i}: the last frame is not the returned sample`);
      // Negative control: the chains moved, so the first frame is not the output.
      assert.ok(!bytes(chain[0].samples).equals(bytes(last.samples)), 'the first frame equals the last');
      for (const f of chain.slice(1)) assert.ok(f.info && Number.isFinite(f.info.acceptance), 'a step frame without its info');
      if (method.endsWith('mh'))
        assert.ok(
          chain.slice(1).every((f) => f.accepted),
          'MH frames mark the chains that moved',
        );
    } else if (method.endsWith('rs')) {
      // DRS: each watched row is accepted in exactly one round, and that proposal is the returned sample.
      const acceptedIn = new Map<number, Buffer>();
      let rejected = 0;
      for (const f of frames) {
        assert.equal(f.kind, 'proposals');
        f.index.forEach((r, k) => {
          if (f.accepted![k] === 1) {
            assert.ok(!acceptedIn.has(r), `row ${r} accepted twice`);
            acceptedIn.set(r, row(f.samples, k));
          } else rejected++;
        });
      }
      assert.equal(acceptedIn.size, WATCHED);
      for (const [r, x] of acceptedIn) assert.ok(x.equals(row(out, r)), `row ${r}: the accepted proposal is not the returned sample`);
      assert.ok(rejected > 0, 'no proposal was rejected');
    } else {
      // SIR: one pool frame; the members marked resampled are returned samples, the others not.
      assert.equal(frames.length, 1);
      const f = frames[0];
      const returned = new Set(Array.from({ length: 8 }, (_, i) => row(out, i).toString('hex')));
      let marked = 0;
      for (let k = 0; k < f.rows; k++) {
        const x = row(f.samples, k).toString('hex');
        if (f.accepted![k] === 1) {
          marked++;
          assert.ok(returned.has(x), `pool member ${k} is marked but not returned`);
        }
      }
      assert.ok(marked > 0 && marked < f.rows, `${marked} of ${f.rows} pool members marked`);
    }
  });
}

test('watch: a bad watch names the field', async () => {
  const base = { method: 'ddls', n: 4, numSteps: 2 } as const;
  await assert.rejects(refine(pair, { ...base, watch: {} as never }), (e: Error & { issues?: { path: string }[] }) => e.issues?.[0].path === 'watch');
  await assert.rejects(
    refine(pair, { ...base, watch: { rows: 0, onFrame: () => {} } }),
    (e: Error & { issues?: { path: string }[] }) => e.issues?.[0].path === 'watch.rows',
  );
});
