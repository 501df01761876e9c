import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { batchStep, lowHalves } from './gram.js';

test('lowHalves reads int64 values below 2³¹ without BigInt, and writes them', () => {
  const a = BigInt64Array.of(0n, 5n, 2147483647n, 123456n);
  const h = lowHalves(a);
  assert.deepEqual([h[0], h[2], h[4], h[6]], [0, 5, 2147483647, 123456]);
  h[2] = 77;
  assert.equal(a[1], 77n);
  assert.equal(a[2], 2147483647n, 'neighbours untouched');
});

test('a mini-batch k-means step: sums, counts and inertia equal a direct computation', async () => {
  const rng = new Rng(31);
  const [n, d, k, batch] = [3000, 16, 7, 512];
  const x = rng.fillNormal(new Float64Array(n * d));
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let l = 0; l < d; l++) norms[i] += x[i * d + l] ** 2;
  const indices = BigInt64Array.from({ length: batch }, () => BigInt(rng.int(n)));
  const direct = (centres: Float64Array) => {
    const sums = new Float64Array(k * d);
    const counts = new Float64Array(k);
    let inertia = 0;
    for (const big of indices) {
      const i = Number(big);
      let best = Infinity;
      let arg = 0;
      for (let m = 0; m < k; m++) {
        let s = 0;
        for (let l = 0; l < d; l++) s += (x[i * d + l] - centres[m * d + l]) ** 2;
        if (s < best) {
          best = s;
          arg = m;
        }
      }
      counts[arg]++;
      inertia += best;
      for (let l = 0; l < d; l++) sums[arg * d + l] += x[i * d + l];
    }
    return { sums, counts, inertia };
  };
  const centres = rng.fillNormal(new Float64Array(k * d));
  const got = await batchStep(x, norms, n, d, indices, centres, k);
  const want = direct(centres);
  assert.deepEqual(Array.from(got.counts), Array.from(want.counts));
  for (let j = 0; j < k * d; j++) assert.ok(Math.abs(got.sums[j] - want.sums[j]) < 1e-9, `sum ${j}: ${got.sums[j]} vs ${want.sums[j]}`);
  assert.ok(Math.abs(got.inertia - want.inertia) < 1e-9 * want.inertia, `inertia ${got.inertia} vs ${want.inertia}`);
  // control: other centres assign the rows otherwise
  const other = direct(rng.fillNormal(new Float64Array(k * d)));
  assert.notDeepEqual(Array.from(got.counts), Array.from(other.counts));
});
