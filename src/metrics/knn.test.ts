import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { forEachDist2Block, forEachNearestIndexBlock } from './gram.js';
import { ballMembership, kNearest, kthNeighbourRadii2 } from './knn.js';
import type { Samples } from './linalg.js';
import { rejectsWith } from '../testing/assert.js';

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

test('k-NN equals brute force (self mode and query/reference mode)', async () => {
  const rng = new Rng(21);
  const x = { data: rng.fillNormal(new Float64Array(60 * 3)), n: 60, d: 3 };
  const y = { data: rng.fillNormal(new Float64Array(25 * 3)), n: 25, d: 3 };
  for (const k of [1, 4, 59]) {
    const r = await kNearest(x, undefined, k);
    const b = bruteForce(x, undefined, k);
    assert.deepEqual([...r.dist2], b.dist2);
    assert.deepEqual([...r.index], b.index);
  }
  const r = await kNearest(y, x, 7);
  const b = bruteForce(y, x, 7);
  assert.deepEqual([...r.dist2], b.dist2);
  assert.deepEqual([...r.index], b.index);
  assert.equal(r.k, 7);
});

test('large k-NN (onnxruntime selects with TopK) equals sorting the same distance matrix, self excluded by index', async () => {
  // 400 x 400 x 64 multiply-adds: past gram.ts' threshold, so distances and selection run in onnxruntime.
  const rng = new Rng(23);
  const n = 400;
  const d = 64;
  const x = { data: rng.fillNormal(new Float64Array(n * d)), n, d };
  x.data.copyWithin(7 * d, 3 * d, 4 * d); // row 7 duplicates row 3: neighbours at one distance, ordered by index
  const y = { data: rng.fillNormal(new Float64Array(300 * d)), n: 300, d };
  const sorted = async (q: Samples, r: Samples | undefined, k: number) => {
    const ref = r ?? q;
    const dist2: number[] = [];
    const index: number[] = [];
    await forEachDist2Block(q.data as Float64Array, q.n, ref.data as Float64Array, ref.n, d, (i0, rows, block) => {
      for (let b = 0; b < rows; b++) {
        const row = [...block.subarray(b * ref.n, (b + 1) * ref.n)].map((v, j) => [v, j]).filter(([, j]) => r !== undefined || j !== i0 + b);
        row.sort((u, v) => u[0] - v[0] || u[1] - v[1]);
        for (const [v, j] of row.slice(0, k)) {
          dist2.push(v);
          index.push(j);
        }
      }
    });
    return { dist2, index };
  };
  for (const [q, r, k] of [
    [x, undefined, 1],
    [x, undefined, 5],
    [x, undefined, n - 1],
    [y, x, 9],
  ] as const) {
    const got = await kNearest(q, r, k);
    const want = await sorted(q, r, k);
    assert.deepEqual([...got.index], want.index);
    assert.deepEqual([...got.dist2], want.dist2);
  }
  const dup = await kNearest(x, undefined, 2);
  assert.equal(dup.index[3 * 2], 7, "row 3's nearest is its duplicate");
  assert.equal(dup.index[7 * 2], 3, "row 7's nearest is its duplicate");
});

test('results are bit-identical for any block size', async () => {
  const rng = new Rng(22);
  const x = { data: rng.fillNormal(new Float32Array(103 * 4)), n: 103, d: 4 };
  const y = { data: rng.fillNormal(new Float32Array(57 * 4)), n: 57, d: 4 };
  const ref = await kNearest(x, undefined, 5, { blockSize: 1000 });
  const cross = await kNearest(y, x, 3, { blockSize: 1000 });
  const r2 = await kthNeighbourRadii2(x, 3, { blockSize: 1000 });
  const balls = await ballMembership(y, x, r2, { blockSize: 1000 });
  for (const blockSize of [1, 7, 64]) {
    assert.deepEqual(await kNearest(x, undefined, 5, { blockSize }), ref);
    assert.deepEqual(await kNearest(y, x, 3, { blockSize }), cross);
    assert.deepEqual(await kthNeighbourRadii2(x, 3, { blockSize }), r2);
    assert.deepEqual(await ballMembership(y, x, r2, { blockSize }), balls);
  }
});

test('ties are ordered by index; duplicates are neighbours at distance 0; self excluded by index', async () => {
  // 1-D points 0, 1, -1, 2, 0
  const x = { data: new Float64Array([0, 1, -1, 2, 0]), n: 5, d: 1 };
  const r = await kNearest(x, undefined, 3);
  // row 0: the duplicate (index 4) at 0, then 1 and 2 at distance 1 (tie, smaller index first)
  assert.deepEqual([...r.dist2.subarray(0, 3)], [0, 1, 1]);
  assert.deepEqual([...r.index.subarray(0, 3)], [4, 1, 2]);
  // row 3 (x = 2): 1 (d²=1), then 0 and 4 (d²=4, tie), never itself
  assert.deepEqual([...r.dist2.subarray(9, 12)], [1, 4, 4]);
  assert.deepEqual([...r.index.subarray(9, 12)], [1, 0, 4]);
  assert.deepEqual([...(await kthNeighbourRadii2(x, 1))], [0, 1, 1, 1, 0]);
});

test('ball membership: closed balls (distance <= radius), counts and coverage by hand', async () => {
  // centres 0 and 3 with radii 1 and 2 (squared 1, 4); points 1 (on the first boundary),
  // 1.5 (inside the second only), 2 (inside the second), 5 (on the second boundary), -2 (outside)
  const c = { data: new Float64Array([0, 3]), n: 2, d: 1 };
  const p = { data: new Float64Array([1, 1.5, 2, 5, -2]), n: 5, d: 1 };
  const { counts, covered } = await ballMembership(p, c, new Float64Array([1, 4]));
  assert.deepEqual([...counts], [2, 1, 1, 1, 0]);
  assert.deepEqual([...covered], [1, 1]);
  const none = await ballMembership({ data: new Float64Array([10]), n: 1, d: 1 }, c, new Float64Array([1, 4]));
  assert.deepEqual([...none.counts], [0]);
  assert.deepEqual([...none.covered], [0, 0]);
});

test('errors: k out of range, bad block size, radii of the wrong length', async () => {
  const x = { data: new Float64Array(6), n: 3, d: 2 };
  await rejectsWith(kNearest(x, undefined, 3), 'invalid_argument', 'k');
  await rejectsWith(kNearest(x, x, 4), 'invalid_argument', 'k');
  await rejectsWith(kNearest(x, undefined, 0), 'invalid_argument', 'k');
  await rejectsWith(kNearest(x, undefined, 1, { blockSize: 0 }), 'invalid_argument', 'blockSize');
  await rejectsWith(kNearest(x, undefined, 1, { blockSize: 2.5 }), 'invalid_argument', 'blockSize');
  await rejectsWith(ballMembership(x, x, new Float64Array(2)), 'invalid_argument', 'radii2');
  assert.equal((await kNearest(x, x, 3)).k, 3);
});

test('on large inputs (onnxruntime GEMM distances) the neighbours equal a direct computation', async () => {
  const rng = new Rng(17);
  const q = { data: rng.fillNormal(new Float64Array(400 * 16)), n: 400, d: 16 };
  const r = { data: rng.fillNormal(new Float64Array(300 * 16)), n: 300, d: 16 };
  const got = await kNearest(q, r, 5);
  for (let i = 0; i < q.n; i += 37) {
    const all = Array.from({ length: r.n }, (_, j) => {
      let s = 0;
      for (let l = 0; l < 16; l++) s += (q.data[i * 16 + l] - r.data[j * 16 + l]) ** 2;
      return { s, j };
    }).sort((a, b) => a.s - b.s || a.j - b.j);
    for (let t = 0; t < 5; t++) {
      assert.equal(got.index[i * 5 + t], all[t].j, `row ${i} neighbour ${t}`);
      assert.ok(Math.abs(got.dist2[i * 5 + t] - all[t].s) < 1e-10 * (1 + all[t].s));
    }
  }
});

test('ranking without distances (forEachNearestIndexBlock) picks the same neighbours as brute force, ties included', async () => {
  const rng = new Rng(18);
  const q = { data: rng.fillNormal(new Float64Array(500 * 12)), n: 500, d: 12 };
  const r = { data: rng.fillNormal(new Float64Array(700 * 12)), n: 700, d: 12 };
  const k = 9;
  // each row's k indices as a sorted list: the order within a row is onnxruntime's choice
  const sets = (index: ArrayLike<number | bigint>, rows: number): string[] =>
    Array.from({ length: rows }, (_, i) =>
      Array.from({ length: k }, (_, j) => Number(index[i * k + j]))
        .sort((x, y) => x - y)
        .join(),
    );
  const ranked = async (a: Float64Array, b: Float64Array): Promise<string[]> => {
    const got: string[] = [];
    const starts: number[] = [];
    await forEachNearestIndexBlock(a, q.n, b, r.n, 12, k, (i0, rows, indices) => {
      starts.push(i0);
      assert.equal(indices.length, rows * k);
      got.push(...sets(indices, rows));
    });
    assert.equal(starts[0], 0);
    return got;
  };
  const want = sets(bruteForce(q, r, k).index, q.n);
  assert.deepEqual(await ranked(q.data, r.data), want);
  // control: the neighbours of another query set differ from these
  assert.notDeepEqual(await ranked(rng.fillNormal(new Float64Array(500 * 12)), r.data), want);
  // ties: integer grid values tie many rows of b exactly; brute force breaks them by lower index,
  // as TopK does
  const grid = { data: Float64Array.from(r.data, (v) => Math.round(v)), n: r.n, d: 12 };
  const qGrid = { data: Float64Array.from(q.data, (v) => Math.round(v)), n: q.n, d: 12 };
  assert.deepEqual(await ranked(qGrid.data, grid.data), sets(bruteForce(qGrid, grid, k).index, q.n));
  // control: the ties are real (a k-th and a (k+1)-th neighbour at the same distance in some rows)
  const d2 = (i: number, j: number) => qGrid.data.subarray(i * 12, i * 12 + 12).reduce((t, v, l) => t + (v - grid.data[j * 12 + l]) ** 2, 0);
  let tiedRows = 0;
  for (let i = 0; i < q.n; i++) {
    const all = Array.from({ length: grid.n }, (_, j) => d2(i, j)).sort((x, y) => x - y);
    if (all[k - 1] === all[k]) tiedRows++;
  }
  assert.ok(tiedRows > 10, `${tiedRows} rows with a tie at the k-th neighbour`);
});
