/**
 * The non-parametric prior: its design (the solver reproduces the shipped table, a stationary
 * point of KL(p_mid || p)), the exact mid-point formula against Monte Carlo, sampling against the
 * density, the ONNX energy against the formula and its gradient, and DDLS on a pair with this
 * prior against a target known in closed form (a Gaussian-tilted mixture), with negative controls.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { differentiate, onesLike } from '../onnx/autodiff.js';
import { Graph } from '../onnx/graph.js';
import { Session } from '../onnx/session.js';
import { refine } from '../refine/refine.js';
import { Rng } from '../rng.js';
import { priorEnergy } from '../targets/logratio.js';
import { diagonalQuadratic, identityGenerator } from '../testing/exact.js';
import { ksTwoSample } from '../testing/stats.js';
import type { ModelPair } from './pair.js';
import {
  designMidpointPrior,
  fillMixture,
  midpointDivergence,
  midpointOf,
  type MixturePrior,
  mixtureLogDensity,
  mixtureMoments,
  NONPARAMETRIC_PRIOR,
} from './prior.js';

const P = NONPARAMETRIC_PRIOR;
const draw = (prior: MixturePrior, n: number, seed: number) => fillMixture(prior, new Rng(seed), new Float64Array(n));

test('the designed prior: the solver reproduces the shipped table, unit variance, far below N(0,1) in KL(mid || prior)', () => {
  const r = designMidpointPrior();
  const maxDiff = Math.max(...r.prior.weights.map((w, i) => Math.abs(w - P.weights[i])));
  assert.ok(maxDiff < 1e-9, `weights differ by ${maxDiff}`);
  assert.ok(Math.abs(r.prior.scale - P.scale) < 1e-12);
  assert.ok(Math.abs(P.weights.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  const m = mixtureMoments(P);
  assert.ok(Math.abs(m.mean) < 1e-12 && Math.abs(m.variance - 1) < 1e-9, `moments ${m.mean} ${m.variance}`);
  // The quadrature against the closed form for N(0, 1): KL(N(0, 1/2) || N(0, 1)) = (1/2)(1/2 - 1 + ln 2).
  const normal = { means: [0], weights: [1], scale: 1 };
  assert.ok(Math.abs(midpointDivergence(normal) - 0.5 * (0.5 - 1 + Math.LN2)) < 1e-7);
  assert.ok(Math.abs(midpointDivergence(normal, { direction: 'prior-mid' }) - 0.5 * (2 - 1 - Math.LN2)) < 1e-7);
  const kl = midpointDivergence(P);
  assert.ok(Math.abs(kl - r.divergence) < 1e-9 && Math.abs(r.start - midpointDivergence(normal)) < 1e-3, `start ${r.start}`);
  assert.ok(kl < 0.02 && kl < midpointDivergence(normal) / 5, `KL ${kl}`);
  // A stationary point: no small move of the logits along a random direction lowers the objective.
  const rng = new Rng(5);
  for (let k = 0; k < 10; k++) {
    const dir = Array.from({ length: P.weights.length }, () => rng.normal());
    for (const h of [1e-2, -1e-2]) {
      const w = P.weights.map((x, i) => x * Math.exp(h * dir[i]));
      const s = w.reduce((a, b) => a + b, 0);
      const moved = midpointDivergence({ ...P, weights: w.map((x) => x / s) });
      assert.ok(moved > kl - 1e-7, `direction ${k} step ${h}: ${moved} < ${kl}`);
    }
  }
});

test('the mid-point of two prior draws follows midpointOf (Monte Carlo, KS), and not the Gaussian rule', (t) => {
  const n = 20000;
  const a = draw(P, n, 1);
  const b = draw(P, n, 2);
  const mid = Float64Array.from(a, (v, i) => (v + b[i]) / 2);
  const exactMid = draw(midpointOf(P), n, 3);
  const ok = ksTwoSample(mid, exactMid);
  // Negative control: the rule a Gaussian prior would give (the mid-point rescaled by sqrt 2 is the prior).
  const rescaled = ksTwoSample(
    Float64Array.from(mid, (v) => v * Math.SQRT2),
    exactMid,
  );
  t.diagnostic(`KS p ${ok.pValue.toExponential(2)}; rescaled ${rescaled.pValue.toExponential(2)}`);
  assert.ok(ok.pValue > 1e-3, `mid-points vs midpointOf: p ${ok.pValue}`);
  assert.ok(rescaled.pValue < 1e-6);
});

test('fillMixture samples the mixture density (KS against inverse-CDF draws); a 25% wider one fails', (t) => {
  const n = 20000;
  const x = draw(P, n, 11);
  // Reference by inverting the CDF of the density on a fine grid (independent of fillMixture).
  const lo = -8;
  const hi = 8;
  const m = 16001;
  const cdf = new Float64Array(m);
  for (let i = 1; i < m; i++) {
    const z0 = lo + ((i - 1) * (hi - lo)) / (m - 1);
    const z1 = lo + (i * (hi - lo)) / (m - 1);
    cdf[i] = cdf[i - 1] + ((Math.exp(mixtureLogDensity(P, z0)) + Math.exp(mixtureLogDensity(P, z1))) / 2) * ((hi - lo) / (m - 1));
  }
  assert.ok(Math.abs(cdf[m - 1] - 1) < 1e-6, `density integrates to ${cdf[m - 1]}`);
  const rng = new Rng(12);
  const ref = Float64Array.from({ length: n }, () => {
    const u = rng.uniform() * cdf[m - 1];
    let k = 1;
    while (cdf[k] < u) k++;
    return lo + ((k - 1 + (u - cdf[k - 1]) / (cdf[k] - cdf[k - 1])) * (hi - lo)) / (m - 1);
  });
  const ok = ksTwoSample(x, ref);
  const wide = ksTwoSample(draw({ ...P, means: P.means.map((v) => v * 1.25), scale: P.scale * 1.25 }, n, 11), ref);
  t.diagnostic(`KS p ${ok.pValue.toExponential(2)}; 25% wider ${wide.pValue.toExponential(2)}`);
  assert.ok(ok.pValue > 1e-3);
  assert.ok(wide.pValue < 1e-6);
});

test('priorEnergy (nonparametric) is -sum_j log p(z_j) and its emitted gradient matches central differences', async () => {
  const d = 3;
  const g = new Graph();
  const z = g.addInput('z', 'float32', ['batch', d]);
  const e = priorEnergy(g, z, 'nonparametric')!;
  const grad = differentiate(g, { [e]: onesLike(g, e) }, [z]).get(z)!;
  g.outputs = [g.op('Identity', [e]), g.op('Identity', [grad])];
  const session = await Session.create(g);
  const rows = 64;
  const data = Float32Array.from(draw(P, rows * d, 21));
  const out = await session.run({ z: { data, shape: [rows, d] } });
  const [energy, gradient] = g.outputs.map((k) => out[k].data);
  await session.release();
  let worstE = 0;
  let worstG = 0;
  const h = 1e-4;
  for (let r = 0; r < rows; r++) {
    const row = Array.from(data.subarray(r * d, (r + 1) * d));
    const exact = -row.reduce((a, v) => a + mixtureLogDensity(P, v), 0);
    worstE = Math.max(worstE, Math.abs(energy[r] - exact) / (1 + Math.abs(exact)));
    for (let j = 0; j < d; j++) {
      const fd = -(mixtureLogDensity(P, row[j] + h) - mixtureLogDensity(P, row[j] - h)) / (2 * h);
      worstG = Math.max(worstG, Math.abs(gradient[r * d + j] - fd) / (1 + Math.abs(fd)));
    }
  }
  assert.ok(worstE < 1e-5, `energy error ${worstE}`);
  assert.ok(worstG < 1e-3, `gradient error ${worstG}`);
});

test('DDLS (MALA) on a nonparametric-prior pair samples p0(z) exp(logRatio): a Gaussian-tilted mixture; the untilted prior fails', async (t) => {
  // logRatio(x) = -c/2 |x|^2 with G the identity: the target per coordinate is
  // sum_i w_i N(mu_i; 0, s^2 + 1/c) N(z; mu_i / (1 + c s^2), s^2 / (1 + c s^2)).
  const c = 4;
  const pair: ModelPair = {
    generator: identityGenerator(2),
    discriminator: diagonalQuadratic([-c / 2, -c / 2]),
    meta: { latentDim: 2, latentPrior: 'nonparametric', dataShape: [2], dOutput: 'logit' },
    files: { generator: '<identity>', discriminator: '<quadratic>' },
  };
  const v = P.scale * P.scale + 1 / c;
  const tw = P.weights.map((w, i) => w * Math.exp((-0.5 * P.means[i] * P.means[i]) / v));
  const ts = tw.reduce((a, b) => a + b, 0);
  const tilted: MixturePrior = {
    means: P.means.map((m) => m / (1 + c * P.scale * P.scale)),
    weights: tw.map((w) => w / ts),
    scale: P.scale / Math.sqrt(1 + c * P.scale * P.scale),
  };
  const n = 3000;
  const r = await refine(pair, { method: 'ddls', n, seed: 4, metropolis: true, stepSize: 0.02, numSteps: 600 });
  const x = Float64Array.from({ length: n }, (_, i) => r.samples.data[2 * i]);
  const ref = draw(tilted, n, 31);
  const ok = ksTwoSample(x, ref);
  const untilted = ksTwoSample(x, draw(P, n, 32));
  t.diagnostic(`KS p ${ok.pValue.toExponential(2)}; against the untilted prior ${untilted.pValue.toExponential(2)}`);
  assert.ok(ok.pValue > 1e-3, `DDLS vs tilted mixture: p ${ok.pValue}`);
  assert.ok(untilted.pValue < 1e-6, 'DDLS output indistinguishable from the untilted prior');
});
