import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { ballMembership, kNearest, kthNeighbourRadii2 } from './knn.js';
import type { Samples } from './linalg.js';
import { assertRefineryError } from '../testing/assert.js';

function bruteForce(q: Samples, r: Samples | undefined, k: number): { dist2: number[]; index: number[] } {
  const ref = r ?? q;
  const dist2: number[] = [];
  const index: number[] = [];
  for (let i = 0; i < q.n; i++) {
    const all: [number, number][] = [];
    for (let j = 0; j < ref.n; j++) {
      if (r === undefined && j === i) continue;
      let s = 0;
      for (let l = 0; l < q.d; l++) s += (q.data[i * q.d + l] - ref.data[j * q.d + l]) ** 2;
      all.push([s, j]);
    }
    all.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (let t = 0; t < k; t++) {
      dist2.push(all[t][0]);
      index.push(all[t][1]);
    }
  }
  return { dist2, index };
}

test('k-NN equals brute force (self mode and query/reference mode)', () => {
  const rng = new Rng(21);
  const x = { data: rng.fillNormal(new Float64Array(60 * 3)), n: 60, d: 3 };
  const y = { data: rng.fillNormal(new Float64Array(25 * 3)), n: 25, d: 3 };
  for (const k of [1, 4, 59]) {
    const r = kNearest(x, undefined, k);
    const b = bruteForce(x, undefined, k);
    assert.deepEqual([...r.dist2], b.dist2);
    assert.deepEqual([...r.index], b.index);
  }
  const r = kNearest(y, x, 7);
  const b = bruteForce(y, x, 7);
  assert.deepEqual([...r.dist2], b.dist2);
  assert.deepEqual([...r.index], b.index);
  assert.equal(r.k, 7);
});

test('results are bit-identical for any block size', () => {
  const rng = new Rng(22);
  const x = { data: rng.fillNormal(new Float32Array(103 * 4)), n: 103, d: 4 };
  const y = { data: rng.fillNormal(new Float32Array(57 * 4)), n: 57, d: 4 };
  const ref = kNearest(x, undefined, 5, { blockSize: 1000 });
  const cross = kNearest(y, x, 3, { blockSize: 1000 });
  const r2 = kthNeighbourRadii2(x, 3, { blockSize: 1000 });
  const balls = ballMembership(y, x, r2, { blockSize: 1000 });
  for (const blockSize of [1, 7, 64]) {
    assert.deepEqual(kNearest(x, undefined, 5, { blockSize }), ref);
    assert.deepEqual(kNearest(y, x, 3, { blockSize }), cross);
    assert.deepEqual(kthNeighbourRadii2(x, 3, { blockSize }), r2);
    assert.deepEqual(ballMembership(y, x, r2, { blockSize }), balls);
  }
});

test('ties are ordered by index; duplicates are neighbours at distance 0; self excluded by index', () => {
  // 1-D points 0, 1, -1, 2, 0
  const x = { data: new Float64Array([0, 1, -1, 2, 0]), n: 5, d: 1 };
  const r = kNearest(x, undefined, 3);
  // row 0: the duplicate (index 4) at 0, then 1 and 2 at distance 1 (tie, smaller index first)
  assert.deepEqual([...r.dist2.subarray(0, 3)], [0, 1, 1]);
  assert.deepEqual([...r.index.subarray(0, 3)], [4, 1, 2]);
  // row 3 (x = 2): 1 (d²=1), then 0 and 4 (d²=4, tie), never itself
  assert.deepEqual([...r.dist2.subarray(9, 12)], [1, 4, 4]);
  assert.deepEqual([...r.index.subarray(9, 12)], [1, 0, 4]);
  assert.deepEqual([...kthNeighbourRadii2(x, 1)], [0, 1, 1, 1, 0]);
});

test('ball membership: closed balls (distance <= radius), counts and coverage by hand', () => {
  // centres 0 and 3 with radii 1 and 2 (squared 1, 4); points 1 (on the first boundary),
  // 1.5 (inside the second only), 2 (inside the second), 5 (on the second boundary), -2 (outside)
  const c = { data: new Float64Array([0, 3]), n: 2, d: 1 };
  const p = { data: new Float64Array([1, 1.5, 2, 5, -2]), n: 5, d: 1 };
  const { counts, covered } = ballMembership(p, c, new Float64Array([1, 4]));
  assert.deepEqual([...counts], [2, 1, 1, 1, 0]);
  assert.deepEqual([...covered], [1, 1]);
  const none = ballMembership({ data: new Float64Array([10]), n: 1, d: 1 }, c, new Float64Array([1, 4]));
  assert.deepEqual([...none.counts], [0]);
  assert.deepEqual([...none.covered], [0, 0]);
});

test('errors: k out of range, bad block size, radii of the wrong length', () => {
  const check = (fn: () => unknown, path: string): void => assertRefineryError(fn, 'invalid_argument', path);
  const x = { data: new Float64Array(6), n: 3, d: 2 };
  check(() => kNearest(x, undefined, 3), 'k');
  check(() => kNearest(x, x, 4), 'k');
  check(() => kNearest(x, undefined, 0), 'k');
  check(() => kNearest(x, undefined, 1, { blockSize: 0 }), 'blockSize');
  check(() => kNearest(x, undefined, 1, { blockSize: 2.5 }), 'blockSize');
  check(() => ballMembership(x, x, new Float64Array(2)), 'radii2');
  assert.equal(kNearest(x, x, 3).k, 3);
});
