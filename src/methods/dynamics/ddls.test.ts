import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelPair } from '../../models/pair.js';
import { RowStreams, Rng } from '../../rng.js';
import { refineLatentDdls } from '../../run/latent.js';
import { LatentTarget } from '../../targets/latent.js';
import { BIMODAL, type Mixture, exactPair, mixtureMoments, nanPair, sampleMixture } from '../../testing/exact.js';
import { meanZScores, projectedKs, varianceZScores } from '../../testing/stats.js';
import type { Tensor } from '../../tensor.js';
import { type DdlsOptions, type LatentEnergy, ddlsInit, ddlsKernel } from './ddls.js';

// With the identity generator, the N(0, I) prior and D = the exact log ratio to BIMODAL, DDLS's
// target p0(z) exp(logRatio(G(z))) / Z is BIMODAL itself.

const N = 2000;

/**
 * Unadjusted Langevin z' = z - (eps/2) grad E + sqrt(eps) xi on a Gaussian of variance s^2 is
 * stationary at s^2 / (1 - eps / (4 s^2)). Applied per component, this removes the first-order
 * step-size bias from the reference law (what is left is O(eps^2)).
 */
function ulaInflated(m: Mixture, eps: number): Mixture {
  return { ...m, std: m.std / Math.sqrt(1 - eps / (4 * m.std * m.std)) };
}

/** Moment z-scores (|z| < 4 each, chains independent so nEff = n) and the projected KS p-value. */
function compare(x: Float32Array, m: Mixture): { z: number[]; ks: number; ok: boolean } {
  const exact = mixtureMoments(m);
  const z = [...meanZScores(x, N, 2, exact), ...varianceZScores(x, N, 2, exact)];
  const ks = projectedKs(x, N, sampleMixture(m, N, new Rng(4242)), N, 2).pValue;
  return { z, ks, ok: z.every((v) => Math.abs(v) < 4) && ks > 1e-3 };
}

const fmt = (r: { z: number[]; ks: number }) => `z ${r.z.map((v) => v.toFixed(2)).join(', ')}; KS p ${r.ks.toExponential(2)}`;

function run(pair: ModelPair, ddls: DdlsOptions, numSteps: number, seed: number) {
  return refineLatentDdls(pair, { n: N, seed, batchSize: N, numSteps, ddls });
}

test('MALA (metropolis) at a moderate step reproduces BIMODAL; wrong ratios (scale 0 and 2) fail the same test', async (t) => {
  // eps = 0.3 is Langevin time 0.15 per step: 600 steps = time 90 from the prior (the mode weights
  // need ~50 to settle across the ~2.9-nat barrier); MALA is exact for any step, so the reference
  // is BIMODAL itself.
  const mala: DdlsOptions = { stepSize: 0.3, noise: 1, decay: 1, metropolis: true };
  const out = await run(exactPair(BIMODAL), mala, 600, 1);
  const r = compare(out.samples, BIMODAL);
  t.diagnostic(`DDLS-MALA vs BIMODAL: ${fmt(r)}`);
  assert.ok(r.ok, `DDLS-MALA vs BIMODAL: ${fmt(r)}`);
  const acc = out.summary.mean.acceptance;
  assert.ok(acc > 0.6 && acc < 1, `acceptance ${acc}`);
  assert.equal(out.summary.nonFinite, 0);
  assert.deepEqual(out.latents, out.samples); // identity generator
  for (const scale of [0, 2]) {
    const bad = await run(exactPair(BIMODAL, { scale }), mala, 600, 1);
    const rb = compare(bad.samples, BIMODAL);
    t.diagnostic(`scale ${scale} control: ${fmt(rb)}`);
    assert.ok(!rb.ok, `scale ${scale} control passed: ${fmt(rb)}`);
  }
});

test('unadjusted Langevin at a small step reproduces BIMODAL up to its step-size bias', async (t) => {
  // eps = 0.05: per-component variance inflation 1 / (1 - 0.05 / (4 * 0.25)) = 1.053, in the reference
  // law; 2000 steps = Langevin time 50, enough for the mode weights to settle from the prior.
  const eps = 0.05;
  const ula: DdlsOptions = { stepSize: eps, noise: 1, decay: 1, metropolis: false };
  const out = await run(exactPair(BIMODAL), ula, 2000, 2);
  const r = compare(out.samples, ulaInflated(BIMODAL, eps));
  t.diagnostic(`DDLS-ULA vs BIMODAL (bias-corrected): ${fmt(r)}`);
  assert.ok(r.ok, `DDLS-ULA vs BIMODAL (bias-corrected): ${fmt(r)}`);
  assert.ok(Math.abs(out.summary.mean.acceptance - 1) < 1e-9);
  // Noise 0 is gradient descent on E: the draws collapse onto the modes and must fail.
  const descent = await run(exactPair(BIMODAL), { ...ula, noise: 0 }, 300, 2);
  const rd = compare(descent.samples, ulaInflated(BIMODAL, eps));
  t.diagnostic(`gradient descent: ${fmt(rd)}`);
  assert.ok(!rd.ok, `gradient descent passed: ${fmt(rd)}`);
});

test('DDLS runs are bit-identical for the same seed and differ for another', async () => {
  const pair = exactPair(BIMODAL);
  for (const metropolis of [false, true]) {
    const o = { n: 300, batchSize: 128, numSteps: 15, ddls: { stepSize: 0.1, noise: 1, decay: 0.99, metropolis } };
    const a = await refineLatentDdls(pair, { ...o, seed: 5 });
    const b = await refineLatentDdls(pair, { ...o, seed: 5 });
    assert.deepEqual(a.samples, b.samples);
    assert.deepEqual(a.before, b.before);
    assert.deepEqual(a.summary, b.summary);
    const c = await refineLatentDdls(pair, { ...o, seed: 6 });
    assert.notDeepEqual(a.samples, c.samples);
  }
});

test('rows whose proposal has a NaN energy are kept in place and counted in nonFinite', async () => {
  const target = await LatentTarget.create(nanPair());
  let proposal: Float32Array | undefined;
  const recording: LatentEnergy = {
    evaluate: async (z: Tensor) => {
      proposal = Float32Array.from(z.data);
      return target.evaluate(z);
    },
  };
  const n = 400;
  const z0 = new Rng(41).fillNormal(new Float32Array(n * 2));
  for (let i = 0; i < n; i++) z0[2 * i] = Math.min(z0[2 * i], 1.4); // start where the ratio is finite
  try {
    for (const metropolis of [false, true]) {
      const init = await ddlsInit(recording, { data: z0, shape: [n, 2] });
      assert.ok(init.energy.every(Number.isFinite));
      const kernel = ddlsKernel(recording, 'normal', { stepSize: 0.2, noise: 1, decay: 1, metropolis });
      const { state, info } = await kernel.step(init, RowStreams.range([42], 0));
      let landed = 0;
      let moved = 0;
      for (let r = 0; r < n; r++) {
        const row = state.position.subarray(2 * r, 2 * r + 2);
        if (proposal![2 * r] > 1.5) {
          landed++;
          assert.deepEqual(row, z0.subarray(2 * r, 2 * r + 2), `row ${r} moved onto a NaN energy`);
        } else if (row[0] === proposal![2 * r] && row[1] === proposal![2 * r + 1]) {
          moved++;
        }
        assert.ok(Number.isFinite(state.energy[r]) && Number.isFinite(state.grad[2 * r]) && Number.isFinite(state.grad[2 * r + 1]));
      }
      assert.ok(landed > 5, `the test needs rows that land on NaN (${landed})`);
      assert.equal(info.nonFinite, landed, `metropolis ${metropolis}`);
      // Unadjusted: every finite proposal is taken; MALA: most are.
      if (!metropolis) assert.equal(moved, n - landed);
      else assert.ok(moved > 0.5 * (n - landed));
      assert.ok(Math.abs(info.acceptance - moved / n) < 1e-12);
    }
  } finally {
    await target.release();
  }
  // Through the runner: no crash, finite samples, kept rows counted.
  const out = await refineLatentDdls(nanPair(), {
    n: 200,
    seed: 3,
    batchSize: 200,
    numSteps: 5,
    ddls: { stepSize: 0.2, noise: 1, decay: 1, metropolis: false },
  });
  assert.ok(out.summary.nonFinite > 0);
  assert.ok(out.samples.every(Number.isFinite));
});
