import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../../errors.js';
import { Rng } from '../../rng.js';
import { SIR_DEFAULTS, multinomialResample, sirSelect, sirWeights, validateSir, weightedWithoutReplacement } from './sir.js';

test('weights exp(s - max s) and Kong ESS (sum w)^2 / sum w^2; non-finite scores weigh 0', () => {
  const eq = sirWeights(new Float32Array(50).fill(3));
  assert.ok(Math.abs(eq.ess - 50) < 1e-9);
  assert.ok(eq.weights.every((w) => w === 1));
  const one = sirWeights(Float32Array.from([0, -1000, -1000, -1000]));
  assert.ok(Math.abs(one.ess - 1) < 1e-9);
  const rng = new Rng(2);
  const s = Float32Array.from({ length: 100 }, () => 2 * rng.normal());
  s[3] = NaN;
  s[7] = Infinity;
  s[9] = -Infinity;
  const w = sirWeights(s);
  assert.equal(w.nonFinite, 3);
  assert.equal(w.weights[3], 0);
  assert.equal(w.weights[7], 0);
  assert.equal(w.weights[9], 0);
  const finite = Array.from(s).filter(Number.isFinite);
  assert.equal(w.maxScore, Math.max(...finite));
  const ws = finite.map((v) => Math.exp(v - w.maxScore));
  const sum = ws.reduce((a, b) => a + b, 0);
  const sum2 = ws.reduce((a, b) => a + b * b, 0);
  assert.ok(Math.abs(w.ess - (sum * sum) / sum2) < 1e-9);
  assert.throws(
    () => sirWeights(Float32Array.from([NaN, Infinity])),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_model',
  );
});

test('multinomial resampling picks j with probability w_j / sum w (binomial check); zero weights never', () => {
  const weights = Float64Array.from([1, 0, 3, 6, 0]);
  const n = 40000;
  const idx = multinomialResample(weights, n, new Rng(3));
  const c = [0, 0, 0, 0, 0];
  for (const j of idx) c[j]++;
  assert.equal(c[1], 0);
  assert.equal(c[4], 0);
  for (const [j, p] of [
    [0, 0.1],
    [2, 0.3],
    [3, 0.6],
  ]) {
    const z = (c[j] - n * p) / Math.sqrt(n * p * (1 - p));
    assert.ok(Math.abs(z) < 4, `index ${j}: z ${z}`);
  }
  assert.deepEqual(multinomialResample(weights, n, new Rng(3)), idx);
});

test('SIR of a pool from q with scores log(pi/q) gives pi (exact discrete target); zero scores give q (negative control)', () => {
  // Pool of N draws from q on {0,1,2}; n resampled. Given the pool, counts are multinomial with
  // the pool's weighted frequencies, which are within O(1/sqrt(ESS)) of pi: the variance of each
  // output frequency is <= p(1-p) (1/n + W/N) with W = max pi/q = 2 (see run/selection.test.ts).
  const q = [0.5, 0.3, 0.2];
  const pi = [0.2, 0.4, 0.4];
  const N = 200000;
  const n = 20000;
  const rng = new Rng(4);
  const pool = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    const u = rng.uniform();
    pool[i] = u < q[0] ? 0 : u < q[0] + q[1] ? 1 : 2;
  }
  const check = (scores: Float32Array, target: number[]) => {
    const sel = sirSelect(scores, n, new Rng(5));
    const c = [0, 0, 0];
    for (const j of sel.indices) c[pool[j]]++;
    return { z: c.map((k, j) => (k - n * target[j]) / Math.sqrt(n * target[j] * (1 - target[j]) * (1 + (2 * n) / N))), sel };
  };
  const good = check(
    Float32Array.from(pool, (k) => Math.log(pi[k] / q[k])),
    pi,
  );
  assert.ok(
    good.z.every((v) => Math.abs(v) < 4),
    `z ${good.z}`,
  );
  assert.ok(good.sel.unique <= n && good.sel.unique > 0.9 * n);
  // ESS of weights pi/q under q: N / E_q[(pi/q)^2] = N / sum pi^2/q.
  const essExact = N / pi.reduce((a, p, k) => a + (p * p) / q[k], 0);
  assert.ok(Math.abs(good.sel.ess / essExact - 1) < 0.02, `ESS ${good.sel.ess} vs ${essExact}`);
  const bad = check(new Float32Array(N), pi);
  assert.ok(
    bad.z.some((v) => Math.abs(v) > 4),
    `negative control matched pi: ${bad.z}`,
  );
});

test('draws without replacement: the first pick has law w_j / W and the second w_k / (W - w_j); the with-replacement law is rejected (control)', () => {
  const weights = Float64Array.from([1, 0, 3, 6]);
  const W = 10;
  const R = 30000;
  const pairs = new Map<string, number>();
  for (let r = 0; r < R; r++) {
    const [a, b] = weightedWithoutReplacement(weights, 2, new Rng(7, r));
    assert.ok(a !== b && a !== 1 && b !== 1);
    pairs.set(`${a}${b}`, (pairs.get(`${a}${b}`) ?? 0) + 1);
  }
  const live = [0, 2, 3];
  const zs = (law: (a: number, b: number) => number) =>
    live.flatMap((a) =>
      live
        .filter((b) => b !== a)
        .map((b) => {
          const p = law(a, b);
          return ((pairs.get(`${a}${b}`) ?? 0) - R * p) / Math.sqrt(R * p * (1 - p));
        }),
    );
  const exact = zs((a, b) => (weights[a] / W) * (weights[b] / (W - weights[a])));
  assert.ok(
    exact.every((z) => Math.abs(z) < 4),
    `z ${exact}`,
  );
  // The with-replacement law of an ordered pair of distinct picks, renormalised: must be rejected.
  const sameless = 1 - live.reduce((acc, j) => acc + (weights[j] / W) ** 2, 0);
  const withReplacement = zs((a, b) => (weights[a] * weights[b]) / W / W / sameless);
  assert.ok(
    withReplacement.some((z) => Math.abs(z) > 4),
    `control matched: ${withReplacement}`,
  );
  assert.deepEqual(weightedWithoutReplacement(weights, 3, new Rng(9)).slice().sort(), Int32Array.from([0, 2, 3]));
  assert.throws(
    () => weightedWithoutReplacement(weights, 4, new Rng(9)),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_model',
  );
});

test('SIR without replacement of a pool 100 times the output gives pi; drawing the whole pool gives q (control: the finite-pool bias)', () => {
  // Each pool member at most once: distinct picks. The law tends to pi as the pool outgrows n
  // (removing picked members changes the remaining weights by O(n / N)); n = N returns the pool.
  const q = [0.5, 0.3, 0.2];
  const pi = [0.2, 0.4, 0.4];
  const N = 200000;
  const rng = new Rng(14);
  const pool = Int32Array.from({ length: N }, () => {
    const u = rng.uniform();
    return u < q[0] ? 0 : u < q[0] + q[1] ? 1 : 2;
  });
  const scores = Float32Array.from(pool, (k) => Math.log(pi[k] / q[k]));
  const zOf = (n: number, target: number[]) => {
    const sel = sirSelect(scores, n, new Rng(15), false);
    assert.equal(sel.unique, n);
    const c = [0, 0, 0];
    for (const j of sel.indices) c[pool[j]]++;
    return c.map((k, j) => (k - n * target[j]) / Math.sqrt(n * target[j] * (1 - target[j])));
  };
  const good = zOf(2000, pi);
  assert.ok(
    good.every((z) => Math.abs(z) < 4),
    `z ${good}`,
  );
  const whole = zOf(N, pi);
  assert.ok(
    whole.some((z) => Math.abs(z) > 4),
    `the whole pool must not look like pi: ${whole}`,
  );
});

test('option validation names --pool and --sir-group', () => {
  for (const bad of [0, 1.5, -2, NaN]) {
    assert.throws(
      () => validateSir({ ...SIR_DEFAULTS, poolMultiplier: bad }),
      (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'pool',
    );
    assert.throws(
      () => validateSir({ ...SIR_DEFAULTS, groupSize: bad }),
      (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'sirGroup',
    );
  }
  assert.throws(
    () => validateSir({ ...SIR_DEFAULTS, replace: 'no' as never }),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'sirReplace',
  );
  validateSir(SIR_DEFAULTS);
});
