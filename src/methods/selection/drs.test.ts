import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../../errors.js';
import { Rng } from '../../rng.js';
import { DRS_DEFAULTS, type DrsOptions, type DrsParams, drsAcceptProbability, drsCalibrate, drsLogit, percentile, validateDrs } from './drs.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));

test('F without gamma is the logit of exp(s - M): sigmoid(F) = exp(s - M) up to eps, finite at s = M', () => {
  const M = 1.7;
  for (const eps of [1e-9, 1e-6]) {
    for (let s = M - 12; s <= M; s += 0.25) {
      const p = sigmoid(drsLogit(s, M, eps));
      const exact = Math.exp(s - M);
      // sigmoid(F) = a / (1 + a (1 - e^-eps)) with a = exp(s - M): relative error <= eps.
      assert.ok(Math.abs(p - exact) <= 1.01 * eps * exact + 1e-15, `s ${s} eps ${eps}: ${p} vs ${exact}`);
    }
    assert.ok(Number.isFinite(drsLogit(M, M, eps)));
    assert.ok(Math.abs(drsLogit(M, M, eps) + Math.log(eps)) < 1e-3);
  }
});

test('acceptance probability: exact mode exp(s - M), shifted mode sigmoid(F - gamma), non-finite scores 0', () => {
  const M = 0.5;
  const exact: DrsParams = { M, gamma: undefined, epsilon: 1e-6, exact: true };
  assert.equal(drsAcceptProbability(M, exact), 1);
  assert.ok(Math.abs(drsAcceptProbability(M - Math.log(4), exact) - 0.25) < 1e-12);
  for (const g of [-3, 0, 2]) {
    const p: DrsParams = { M, gamma: g, epsilon: 1e-6, exact: false };
    for (const s of [-4, -1, 0, 0.5]) assert.ok(Math.abs(drsAcceptProbability(s, p) - sigmoid(drsLogit(s, M, 1e-6) - g)) < 1e-15);
  }
  // A larger gamma accepts less.
  const lo = drsAcceptProbability(-1, { M, gamma: 0, epsilon: 1e-6, exact: false });
  const hi = drsAcceptProbability(-1, { M, gamma: 1, epsilon: 1e-6, exact: false });
  assert.ok(hi < lo);
  for (const bad of [NaN, Infinity, -Infinity]) {
    assert.equal(drsAcceptProbability(bad, exact), 0);
    assert.equal(drsAcceptProbability(bad, { M, gamma: -100, epsilon: 1e-6, exact: false }), 0);
  }
});

test('percentile interpolates linearly between order statistics', () => {
  assert.equal(percentile([3, 1, 4, 2], 50), 2.5);
  assert.equal(percentile([3, 1, 4, 2], 0), 1);
  assert.equal(percentile([3, 1, 4, 2], 100), 4);
  assert.equal(percentile([3, 1, 4, 2], 25), 1.75);
  assert.equal(percentile([7], 80), 7);
});

test('calibration: M is the max finite burn-in score; gamma is the chosen percentile of F; NaN ignored', () => {
  const rng = new Rng(1);
  const scores = new Float32Array(5000);
  for (let i = 0; i < scores.length; i++) scores[i] = i % 97 === 0 ? NaN : rng.normal();
  scores[10] = Infinity;
  const o: DrsOptions = { ...DRS_DEFAULTS, gammaPercentile: 80 };
  const c = drsCalibrate(scores, o);
  const finite = Array.from(scores).filter(Number.isFinite);
  assert.equal(c.finite, finite.length);
  assert.equal(c.M, Math.max(...finite));
  const f = finite.map((s) => drsLogit(s, c.M, o.epsilon));
  const above = f.filter((v) => v > c.gamma!).length / f.length;
  assert.ok(Math.abs(above - 0.2) < 2 / f.length, `fraction above gamma ${above}`);
  assert.equal(drsCalibrate(scores, { ...o, gamma: 1.5 }).gamma, 1.5);
  assert.equal(drsCalibrate(scores, { ...o, exact: true }).gamma, undefined);
  assert.throws(
    () => drsCalibrate(new Float32Array([NaN, Infinity]), o),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_model',
  );
});

test('option validation names the CLI option', () => {
  const cases: Array<[Partial<DrsOptions>, string]> = [
    [{ burnIn: 0 }, 'burnIn'],
    [{ burnIn: 2.5 }, 'burnIn'],
    [{ gammaPercentile: -1 }, 'gammaPercentile'],
    [{ gammaPercentile: NaN }, 'gammaPercentile'],
    [{ gamma: Infinity }, 'gamma'],
    [{ exact: true, gamma: 1 }, 'gamma'],
    [{ epsilon: -1 }, 'epsilon'],
    [{ maxProposals: 0 }, 'maxProposals'],
  ];
  for (const [o, path] of cases) {
    assert.throws(
      () => validateDrs({ ...DRS_DEFAULTS, ...o }),
      (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument' && e.issues[0].path === path,
      JSON.stringify(o),
    );
  }
  validateDrs(DRS_DEFAULTS);
  validateDrs({ ...DRS_DEFAULTS, exact: true });
});

test('a percentile gamma derived under a larger M keeps the percentile meaning (5% of burn-in accepted with p >= 1/2)', async () => {
  const { percentileGamma } = await import('./drs.js');
  const burn = Float64Array.from({ length: 2000 }, (_, i) => -3 + (3 * i) / 2000); // scores in [-3, 0)
  const o = { epsilon: 1e-6, gammaPercentile: 95 };
  const share = (p: DrsParams) => burn.filter((s) => drsAcceptProbability(s, p) >= 0.5).length / burn.length;
  const before = { M: 0, gamma: percentileGamma(burn, 0, o), epsilon: 1e-6, exact: false };
  // One outlier raises M by 8.
  const after = { M: 8, gamma: percentileGamma(burn, 8, o), epsilon: 1e-6, exact: false };
  assert.ok(Math.abs(share(before) - 0.05) < 0.002 && Math.abs(share(after) - 0.05) < 0.002, `${share(before)} ${share(after)}`);
  // Negative control: keeping the old gamma accepts none of them with p >= 1/2, and all far less often.
  const stale = { ...after, gamma: before.gamma };
  assert.equal(share(stale), 0);
  assert.ok(drsAcceptProbability(-1, stale) < drsAcceptProbability(-1, after) / 100);
});
