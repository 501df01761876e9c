import { test } from 'node:test';
import { assertRefineryError, rejectsWith } from '../testing/assert.js';
import assert from 'node:assert/strict';
import { Rng } from '../rng.js';
import { classifierPrCurve, prFromErrorRates } from './classifierpr.js';
import type { Samples } from './linalg.js';

function blob(n: number, rng: Rng, cx: number, cy: number): Float64Array {
  const out = new Float64Array(2 * n);
  for (let i = 0; i < n; i++) {
    out[2 * i] = cx + rng.normal();
    out[2 * i + 1] = cy + rng.normal();
  }
  return out;
}

function samples(...parts: Float64Array[]): Samples {
  const data = new Float64Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    data.set(p, o);
    o += p.length;
  }
  return { data, n: data.length / 2, d: 2 };
}

test('PR pairs from error rates by hand: α_λ = min_t (λ FPR + FNR), β_λ = α_λ / λ', async () => {
  // ROC points (FPR, FNR): (1, 0), (0.2, 0.3), (0, 1)
  const c = prFromErrorRates([1, 0.2, 0], [0, 0.3, 1], Float64Array.from([0.5, 1, 2, 10]));
  // λ = 0.5: min(0.5, 0.4, 1) = 0.4; λ = 1: min(1, 0.5, 1); λ = 2: min(2, 0.7, 1); λ = 10: min(10, 2.3, 1)
  const expectP = [0.4, 0.5, 0.7, 1];
  const expectR = [0.8, 0.5, 0.35, 0.1];
  for (let i = 0; i < 4; i++) {
    assert.ok(Math.abs(c.precision[i] - expectP[i]) < 1e-15, `α ${i}: ${c.precision[i]}`);
    assert.ok(Math.abs(c.recall[i] - expectR[i]) < 1e-15, `β ${i}: ${c.recall[i]}`);
  }
});

test('one law: the curve passes near (1, 1); perfectly separated laws give zero', async () => {
  // With equal laws the k-NN score is independent of the label, so FPR(t) + FNR(t) ≈ 1 for every
  // threshold, with noise sd ≈ sqrt(2 · 0.25 / 500) ≈ 0.03 on 500 held-out rows per class; the
  // minimum over the k + 2 ≈ 24 thresholds loses ~3 sd, so α(1) = β(1) > 0.85.
  const rng = new Rng(61);
  const same = await classifierPrCurve(samples(blob(1000, rng, 0, 0)), samples(blob(1000, rng, 0, 0)));
  assert.equal(same.k, Math.round(Math.sqrt(500)));
  assert.equal(same.nRealTrain, 500);
  assert.equal(same.nFakeTest, 500);
  assert.equal(same.fpr.length, same.k + 2);
  assert.deepEqual([same.fpr[0], same.fnr[0], same.fpr[same.k + 1], same.fnr[same.k + 1]], [1, 0, 0, 1]);
  const mid = 500; // λ = 1
  assert.ok(Math.abs(same.lambdas[mid] - 1) < 1e-12);
  assert.ok(same.precision[mid] > 0.85 && same.recall[mid] > 0.85, `α(1) ${same.precision[mid]}`);
  assert.ok(same.f8 > 0.85 && same.f1over8 > 0.85);

  const apart = await classifierPrCurve(samples(blob(400, rng, 0, 0)), samples(blob(400, rng, 20, 20)));
  assert.ok(apart.precision.every((v) => v === 0) && apart.recall.every((v) => v === 0));
  assert.equal(apart.f8, 0);
  // some threshold separates perfectly
  assert.ok([...apart.fpr].some((f, t) => f === 0 && apart.fnr[t] === 0));
});

test('a model that drops one of two modes: precision ≈ 1 at recall ≈ 1/2 (matches the exact PRD curve)', async () => {
  // P = ½ N(-10e1, I) + ½ N(10e1, I), Q = N(10e1, I): α(λ) = min(λ/2, 1), β(λ) = min(1/2, 1/λ)
  const rng = new Rng(62);
  const real = samples(blob(600, rng, -10, 0), blob(600, rng, 10, 0));
  const fake = samples(blob(1200, rng, 10, 0));
  const r = await classifierPrCurve(real, fake, { seed: 5 });
  // Away from the kink at λ = 2 the best threshold is clear-cut (t = 1: "fake iff any fake
  // neighbour") and the error is the held-out noise of the mode fraction, sd ≈ sqrt(0.25/600) = 0.02.
  // Near λ = 2, q = λ p on the whole fake mode, so every threshold is equally good in expectation
  // and the minimum over ~24 noisy ones (sd of 2 FPR + FNR ≈ sqrt(5 · 0.25/600) ≈ 0.045) sits
  // 2-3 sd below: the optimistic bias of choosing the threshold on the held-out rows.
  let far = 0;
  let near = 0;
  for (let i = 0; i < r.lambdas.length; i++) {
    const l = r.lambdas[i];
    const err = Math.max(Math.abs(r.precision[i] - Math.min(l / 2, 1)), Math.abs(r.recall[i] - Math.min(0.5, 1 / l)));
    if (l > 1 && l < 4) near = Math.max(near, err);
    else far = Math.max(far, err);
  }
  assert.ok(far < 0.08, `max deviation from the exact curve away from λ = 2: ${far}`);
  assert.ok(near < 0.2, `max deviation from the exact curve for λ in (1, 4): ${near}`);
  assert.ok(Math.max(...r.precision) > 0.95);
  assert.ok(Math.abs(Math.max(...r.recall) - 0.5) < 0.08);
  // deterministic; the split follows the seed
  assert.deepEqual(await classifierPrCurve(real, fake, { seed: 5 }), r);
  assert.notDeepEqual((await classifierPrCurve(real, fake, { seed: 6 })).fpr, r.fpr);
  // options
  const o = await classifierPrCurve(real, fake, { k: 3, trainFraction: 0.25, numAngles: 11, blockSize: 13 });
  assert.equal(o.k, 3);
  assert.equal(o.nRealTrain, 300);
  assert.equal(o.nRealTest, 900);
  assert.equal(o.precision.length, 11);
  assert.deepEqual(await classifierPrCurve(real, fake, { k: 3, trainFraction: 0.25, numAngles: 11, blockSize: 1000 }), o);
});

test('errors name the argument', async () => {
  const check = assertRefineryError;
  const ok = { data: new Float64Array(8), n: 4, d: 2 };
  await rejectsWith(classifierPrCurve({ data: new Float64Array(2), n: 1, d: 2 }, ok), 'invalid_argument', 'real');
  await rejectsWith(classifierPrCurve(ok, { data: new Float64Array([0, 1, NaN, 0]), n: 2, d: 2 }), 'invalid_argument', 'fake');
  await rejectsWith(classifierPrCurve(ok, { data: new Float64Array(6), n: 2, d: 3 }), 'shape_mismatch', 'fake');
  await rejectsWith(classifierPrCurve(ok, ok, { trainFraction: 1 }), 'invalid_argument', 'trainFraction');
  await rejectsWith(classifierPrCurve(ok, ok, { trainFraction: 0.1 }), 'invalid_argument', 'real'); // no training row
  await rejectsWith(classifierPrCurve(ok, ok, { k: 0 }), 'invalid_argument', 'k');
  await rejectsWith(classifierPrCurve(ok, ok, { k: 5 }), 'invalid_argument', 'k'); // 4 training rows
  await rejectsWith(classifierPrCurve(ok, ok, { numAngles: 1 }), 'invalid_argument', 'numAngles');
  await rejectsWith(classifierPrCurve(ok, ok, { seed: NaN }), 'invalid_argument', 'seed');
  await rejectsWith(classifierPrCurve(ok, ok, { blockSize: 0 }), 'invalid_argument', 'blockSize');
  check(() => prFromErrorRates([1, 0], [0], Float64Array.from([1])), 'shape_mismatch', 'fnr');
});

test('the linear classifier variant: near the diagonal for one law, near zero for separable laws', async () => {
  const rng = new Rng(21);
  const g = (n: number, shift: number) => ({ data: rng.fillNormal(new Float64Array(n * 4), shift, 1), n, d: 4 });
  const same = await classifierPrCurve(g(2000, 0), g(2000, 0), { classifier: 'linear', seed: 1 });
  assert.equal(same.classifier, 'linear');
  assert.ok(same.f8 > 0.85 && same.f1over8 > 0.85, `same law: F8 ${same.f8}, F1/8 ${same.f1over8}`);
  // Negative control: a shift of 5 per coordinate is linearly separable.
  const apart = await classifierPrCurve(g(2000, 0), g(2000, 5), { classifier: 'linear', seed: 1 });
  assert.ok(apart.f8 < 0.05 && apart.f1over8 < 0.05, `separable: F8 ${apart.f8}, F1/8 ${apart.f1over8}`);
  await rejectsWith(classifierPrCurve(g(10, 0), g(10, 0), { classifier: 'svm' as never }), 'invalid_argument', 'classifier');
});
