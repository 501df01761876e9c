import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../../rng.js';
import { BIMODAL, exactPair, type Mixture, eulerInflated, mixtureMoments, sampleMixture } from '../../testing/exact.js';
import { meanZScores } from '../../testing/stats.js';
import { type RefineOptions, refine } from '../refine.js';

process.env.REFINERY_THREADS ??= '1';

/** Share of rows that m's posterior assigns to its first mode (two modes of equal std). */
function firstModeShare(x: Float32Array, n: number, m: Mixture): number {
  const score = (i: number, k: number) =>
    Math.log(m.weights[k]) - ((x[2 * i] - m.means[k][0]) ** 2 + (x[2 * i + 1] - m.means[k][1]) ** 2) / (2 * m.std * m.std);
  let c = 0;
  for (let i = 0; i < n; i++) if (score(i, 0) > score(i, 1)) c++;
  return c / n;
}

/**
 * A latent sampler along a DRE-F-SP critic against the real law. p_g = N(0, I) with the identity
 * G; the critic learns log p_real / p_g from the real draws, and Langevin on p0 exp(critic) then
 * samples p_real (up to the critic's error). Langevin time 50 with the drift step 0.025, as in
 * the exact-ratio test of methods/dynamics/dgflow.test.ts, whose Euler bias (variance inflation
 * 1.053 per component) is in the reference law. Negative control: a critic trained on draws of the
 * prior itself is about 0, and the sampler then draws N(0, I).
 */
async function samplesRealLaw(t: { diagnostic: (s: string) => void }, options: RefineOptions): Promise<void> {
  const n = options.n;
  const m = 10000;
  const target = eulerInflated(BIMODAL, 0.025);
  // Tolerances: the critic knows the real law through the training parts of the two pools (80% of
  // m real and m prior draws, the rest is its validation split), so a moment of the law it samples
  // carries at least their sampling error as well as that of the n samples: n_eff = 1 / (1/n + 2/(0.8 m)).
  const nEff = 1 / (1 / n + 2 / (0.8 * m));
  const exactShare = firstModeShare(sampleMixture(target, 200000, new Rng(9)), 200000, BIMODAL);
  const check = (x: Float32Array) => {
    const z = meanZScores(x, n, 2, mixtureMoments(target), nEff);
    const share = firstModeShare(x, n, BIMODAL);
    const zShare = (share - exactShare) / Math.sqrt((exactShare * (1 - exactShare)) / nEff);
    return {
      ok: [...z, zShare].every((v) => Math.abs(v) < 4),
      text: `mean z ${z.map((v) => v.toFixed(2)).join(', ')}; first-mode share ${share.toFixed(3)} vs ${exactShare.toFixed(3)} (z ${zShare.toFixed(2)})`,
    };
  };
  const real = { data: sampleMixture(BIMODAL, m, new Rng(4, 1)), shape: [m, 2] };
  const r = check((await refine(exactPair(BIMODAL, { scale: 0 }), { ...options, real })).samples.data);
  t.diagnostic(`${options.method} vs BIMODAL: ${r.text}`);
  assert.ok(r.ok, `${options.method} vs BIMODAL: ${r.text}`);
  const prior = { data: new Rng(4, 2).fillNormal(new Float32Array(2 * m)), shape: [m, 2] };
  const control = check((await refine(exactPair(BIMODAL, { scale: 0 }), { ...options, real: prior })).samples.data);
  t.diagnostic(`the prior-critic control: ${control.text}`);
  assert.ok(!control.ok, `the prior-critic control passed: ${control.text}`);
}

test('dre-dgflow: the latent KL flow with the prior drift and gamma = 1 along a DRE-F-SP critic samples the real law (BIMODAL); a critic of prior draws does not', async (t) => {
  const options = { space: 'latent' as const, divergence: 'kl' as const, priorDrift: true, noise: 1, stepSize: 0.025, numSteps: 2000 };
  await samplesRealLaw(t, { method: 'dre-dgflow', n: 2000, seed: 4, ...options });
});

test('dre-ddls: latent Langevin along a DRE-F-SP critic samples the real law (BIMODAL); a critic of prior draws does not', async (t) => {
  // DDLS's update z - (eps/2) grad E + sqrt(eps) xi with eps = 0.05 is the flow's step above.
  await samplesRealLaw(t, { method: 'dre-ddls', n: 2000, seed: 4, stepSize: 0.05, numSteps: 2000 });
});
