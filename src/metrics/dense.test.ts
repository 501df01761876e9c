import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { meanCovariances } from './dense.js';
import { covariance, mean, type Samples } from './linalg.js';

function correlated(n: number, d: number, seed: number): Samples {
  const rng = new Rng(seed);
  const data = rng.fillNormal(new Float64Array(n * d), 3, 2);
  for (let i = 0; i < n; i++) for (let j = 1; j < d; j++) data[i * d + j] += 0.7 * data[i * d + j - 1];
  return { data, n, d };
}

const maxRelative = (a: Float64Array, b: Float64Array): number => {
  let scale = 0;
  for (const v of b) scale = Math.max(scale, Math.abs(v));
  let worst = 0;
  for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k] - b[k]) / scale);
  return worst;
};

test('meanCovariances: sets computed together have the bits they have alone, and equal the two-pass covariance in JavaScript', async () => {
  // 700 x 64 and 500 x 64: above the size done in JavaScript, so both go through onnxruntime.
  const a = correlated(700, 64, 1);
  const b = correlated(500, 64, 2);
  const small = correlated(20, 3, 3); // done in JavaScript
  for (const chunkValues of [undefined, 64 * 128, 64 * 300]) {
    // Default: one chunk per set, the two in one run; 128 rows: 6 and 4 chunks, a run pairing a's last with b's first; 300: odd counts.
    const [ta, tsmall, tb] = await meanCovariances([a, small, b], chunkValues);
    const [alone] = await meanCovariances([a], chunkValues);
    assert.deepEqual(ta.cov, alone.cov, `chunks of ${chunkValues}: a's covariance together and alone`);
    assert.deepEqual(ta.mean, alone.mean);
    assert.deepEqual(tb.cov, (await meanCovariances([b], chunkValues))[0].cov);
    assert.deepEqual(tsmall.cov, covariance(small));
    for (const [x, r] of [
      [a, ta],
      [b, tb],
    ] as const) {
      assert.deepEqual(r.mean, mean(x));
      const rel = maxRelative(r.cov, covariance(x));
      assert.ok(rel < 1e-13, `chunks of ${chunkValues}: relative error ${rel}`);
      for (let i = 0; i < 64; i++) for (let j = 0; j < i; j++) assert.equal(r.cov[i * 64 + j], r.cov[j * 64 + i]);
    }
  }
  // Negative control: another set's covariance is far from a's.
  assert.ok(maxRelative((await meanCovariances([b]))[0].cov, covariance(a)) > 0.01);
});
