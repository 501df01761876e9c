import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Session } from '../onnx/session.js';
import { Rng } from '../rng.js';
import { BIMODAL, exactLogRatio, exactRatioGraph, mixtureMoments, sampleMixture } from './exact.js';
import { ksTwoSample, meanZScores, projectedKs, varianceZScores } from './stats.js';

test('exact ratio graph matches the float64 formula', async () => {
  const n = 200;
  const x = new Rng(3).fillNormal(new Float32Array(n * 2));
  for (let i = 0; i < x.length; i++) x[i] *= 2;
  const s = await Session.create(exactRatioGraph(BIMODAL));
  const out = (await s.run({ x: { data: x, shape: [n, 2] } })).logit;
  await s.release();
  assert.deepEqual(out.shape, [n, 1]);
  for (let i = 0; i < n; i++) {
    const want = exactLogRatio(BIMODAL, x.subarray(2 * i, 2 * i + 2));
    assert.ok(Math.abs(out.data[i] - want) < 1e-4 * Math.max(1, Math.abs(want)), `row ${i}: ${out.data[i]} vs ${want}`);
  }
});

test('mixture draws pass the moment and KS tests; a shifted sample fails them (negative control)', () => {
  const n = 4000;
  const exact = mixtureMoments(BIMODAL);
  const a = sampleMixture(BIMODAL, n, new Rng(1));
  const b = sampleMixture(BIMODAL, n, new Rng(2));
  for (const z of [...meanZScores(a, n, 2, exact), ...varianceZScores(a, n, 2, exact)]) assert.ok(Math.abs(z) < 4, `z ${z}`);
  assert.ok(projectedKs(a, n, b, n, 2).pValue > 1e-3);
  const shifted = a.map((v, i) => (i % 2 === 0 ? v + 0.15 : v));
  assert.ok(Math.abs(meanZScores(shifted, n, 2, exact)[0]) > 4);
  assert.ok(projectedKs(shifted, n, b, n, 2).pValue < 1e-3);
  // Same means and variances, different shape: KS still sees it.
  const gauss = new Rng(4).fillNormal(new Float32Array(n * 2));
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) gauss[2 * i + j] = exact.mean[j] + Math.sqrt(exact.cov[j][j]) * gauss[2 * i + j];
  assert.ok(projectedKs(gauss, n, b, n, 2).pValue < 1e-3);
});

test('KS statistic of identical samples is 0 and of disjoint samples is 1', () => {
  assert.equal(ksTwoSample([1, 2, 3], [1, 2, 3]).statistic, 0);
  const r = ksTwoSample([1, 2, 3, 4], [10, 11, 12, 13]);
  assert.equal(r.statistic, 1);
});
