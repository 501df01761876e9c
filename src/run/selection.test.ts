/**
 * Statistical tests of the selection runners on an exact target: identity generator, N(0, I)
 * latent, D = the exact log ratio to BIMODAL (src/testing/exact.ts). A correct DRS (exact mode),
 * MH-GAN or SIR then returns BIMODAL draws; with the ratio zeroed (exactPair(BIMODAL, {scale: 0}))
 * every method returns the prior N(0, I) and the same checks must fail.
 *
 * Effective sample sizes used in the checks (W = sup r = sup p_target/N(0,I), computed below):
 * - DRS (exact mode): accepted draws are independent draws of p_target as long as M >= sup s;
 *   M is the burn-in max, fixed for the run, and the test checks that it is within 0.05 of the
 *   true sup (rows above M are accepted with probability 1 instead of exp(s - M) <= e^0.05, a
 *   bias far below the tolerances), so nEff = n.
 * - MH: one independent chain per output, so outputs are independent; the law after K steps of an
 *   independence sampler is within (1 - 1/W)^K of p_target in total variation (Mengersen &
 *   Tweedie 1996): 1e-6 for K = 100, W = 7.55. nEff = n.
 * - SIR: given its pool, a group's outputs are draws from the pool's weighted empirical law, whose
 *   mean has variance E_q[r^2 g^2] / P ~ <= W E_p[g^2] / P for any centred statistic g (r <= W)
 *   and a pool of P; the groups' pools are independent and together hold N proposals. So every
 *   mean, variance and empirical-CDF value has variance <= Var_p(g) (1/n + W/N): nEff =
 *   1 / (1/n + W/N), used for the z-scores and the KS p-values (the self-normalisation bias,
 *   O(W / P) with P = 40000 here, is far below them).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { Graph } from '../onnx/graph.js';
import type { ModelPair } from '../models/pair.js';
import { Rng } from '../rng.js';
import { BIMODAL, exactLogRatio, exactPair, identityGenerator, mixtureMoments, sampleMixture } from '../testing/exact.js';
import { meanZScores, projectedKs, varianceZScores } from '../testing/stats.js';
import { runDrs, runMh, runSir } from './selection.js';
import type { RunContext } from './types.js';

process.env.REFINERY_THREADS ??= '1';

const D = 2;
const EXACT = mixtureMoments(BIMODAL);
const NREF = 20000;
const REF = sampleMixture(BIMODAL, NREF, new Rng(777));

/** sup_x exactLogRatio(BIMODAL, x): grid search then coordinate refinement (float64). */
function trueSup(): number {
  let best = -Infinity;
  let arg = [0, 0];
  for (let a = -3; a <= 3; a += 0.02) {
    for (let b = -3; b <= 3; b += 0.02) {
      const v = exactLogRatio(BIMODAL, [a, b]);
      if (v > best) [best, arg] = [v, [a, b]];
    }
  }
  for (let h = 0.01; h > 1e-7; h /= 2) {
    for (let moved = true; moved; ) {
      moved = false;
      for (const [da, db] of [
        [h, 0],
        [-h, 0],
        [0, h],
        [0, -h],
      ]) {
        const v = exactLogRatio(BIMODAL, [arg[0] + da, arg[1] + db]);
        if (v > best) [best, arg, moved] = [v, [arg[0] + da, arg[1] + db], true];
      }
    }
  }
  return best;
}
const SUP = trueSup();
const W = Math.exp(SUP);

/** P(K > t) of the Kolmogorov distribution (as in testing/stats.ts). */
function kolmogorovTail(t: number): number {
  if (t < 0.2) return 1;
  let s = 0;
  for (let k = 1; k <= 100; k++) s += 2 * (-1) ** (k - 1) * Math.exp(-2 * k * k * t * t);
  return Math.min(1, Math.max(0, s));
}

interface Check {
  meanZ: number[];
  varZ: number[];
  ksP: number;
  pass: boolean;
}

/** Moment z-scores and Bonferroni projected-KS p-value of x [n, 2] against BIMODAL with effective size nEff. */
function checkBimodal(x: Float32Array, n: number, nEff = n): Check {
  const meanZ = meanZScores(x, n, D, EXACT, nEff);
  const varZ = varianceZScores(x, n, D, EXACT).map((z) => z * Math.sqrt(nEff / n));
  const ks = projectedKs(x, n, REF, NREF, D);
  const ne = Math.sqrt((nEff * NREF) / (nEff + NREF));
  const ksP = Math.min(1, Math.min(...ks.statistics.map((s) => kolmogorovTail((ne + 0.12 + 0.11 / ne) * s))) * ks.statistics.length);
  const pass = [...meanZ, ...varZ].every((z) => Math.abs(z) < 4) && ksP > 1e-3;
  return { meanZ, varZ, ksP, pass };
}

const fmt = (c: Check) => `meanZ ${c.meanZ.map((z) => z.toFixed(2))} varZ ${c.varZ.map((z) => z.toFixed(2))} ksP ${c.ksP.toExponential(2)}`;

function ctx(pair: ModelPair, n: number, seed: number, extra: Partial<RunContext> = {}): RunContext {
  return { pair, n, seed, batchSize: 1000, ...extra };
}

/** D(x) = log(x_0): NaN for x_0 < 0, -Inf at 0 (a discriminator that breaks on half the proposals). */
function nanPair(): ModelPair {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', D]);
  const x0 = g.op('Slice', [x, g.int64s([0]), g.int64s([1]), g.int64s([1])]);
  g.add('Log', [x0], {}, ['logit']);
  g.outputs = ['logit'];
  return {
    generator: identityGenerator(D),
    discriminator: g,
    meta: { latentDim: D, latentPrior: 'normal', dataShape: [D], dOutput: 'logit' },
    files: { generator: '<identity>', discriminator: '<log x0>' },
  };
}

async function rejects(p: Promise<unknown>, code: string, path: string): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof RefineryError, String(e));
    assert.equal(e.code, code);
    assert.equal(e.issues[0].path, path);
    return true;
  });
}

const N = 3000;

test('the grid search finds the sup of the exact ratio (a local max, W = exp(sup) bounds r)', () => {
  assert.ok(SUP > 1.9 && SUP < 2.1, `sup ${SUP}`);
  const rng = new Rng(8);
  for (let i = 0; i < 20000; i++) {
    const x = [3 * rng.normal(), 3 * rng.normal()];
    assert.ok(exactLogRatio(BIMODAL, x) <= SUP + 1e-9, `point ${x} beats the sup`);
  }
});

test('DRS (exact mode) reproduces BIMODAL; M from the burn-in is close to the true sup; zeroed ratio fails', async () => {
  const out = await runDrs(ctx(exactPair(BIMODAL), N, 11), { exact: true, burnIn: 10000 });
  const c = checkBimodal(out.samples, N);
  assert.ok(c.pass, fmt(c));
  const s = out.summary as Record<string, number>;
  assert.equal(s.method, 'drs');
  // M is the burn-in's max, fixed for the run (every part of a run decides alike).
  assert.ok(s.M <= SUP + 1e-4 && s.M > SUP - 0.05, `burn-in M ${s.M} vs sup ${SUP}`);
  // Acceptance of exact rejection sampling is E_pg[r] / exp(M) = 1 / W (binomial tolerance).
  const p = 1 / W;
  assert.ok(Math.abs(s.acceptance - p) < 4 * Math.sqrt((p * (1 - p)) / s.proposals), `acceptance ${s.acceptance} vs ${p}`);
  assert.equal(s.nonFinite, 0);
  assert.equal(out.latents!.length, N * D);
  assert.deepEqual(out.latents, out.samples); // identity generator
  const bad = await runDrs(ctx(exactPair(BIMODAL, { scale: 0 }), N, 11), { exact: true, burnIn: 10000 });
  const cb = checkBimodal(bad.samples, N);
  assert.ok(!cb.pass, `negative control passed: ${fmt(cb)}`);
  assert.equal((bad.summary as Record<string, number>).acceptance, 1);
  console.log(
    `DRS exact: ${fmt(c)} acceptance ${s.acceptance.toFixed(4)} (1/W ${p.toFixed(4)}) M ${s.M.toFixed(4)} sup ${SUP.toFixed(4)} | control ${fmt(cb)}`,
  );
});

test('DRS shifted mode: gamma from the percentile, acceptance between exact and all; a huge negative gamma accepts all', async () => {
  const out = await runDrs(ctx(exactPair(BIMODAL), 1000, 12), { burnIn: 4000, gammaPercentile: 80 });
  const s = out.summary as Record<string, number>;
  assert.equal(s.mode, 'shifted');
  assert.equal(s.gammaPercentile, 80);
  assert.ok(Number.isFinite(s.gamma));
  assert.ok(s.acceptance > 0 && s.acceptance < 1);
  const all = await runDrs(ctx(exactPair(BIMODAL), 500, 12), { burnIn: 100, gamma: -1e3 });
  assert.equal((all.summary as Record<string, number>).acceptance, 1);
  // Proposals after the burn-in: one per sample when all are accepted.
  assert.equal((all.summary as Record<string, number>).proposals, 500);
});

test('DRS: the score override replaces the discriminator (exact JS ratio with a zeroed D reproduces BIMODAL)', async () => {
  const score = async (x: { data: Float32Array; shape: number[] }) =>
    Float32Array.from({ length: x.shape[0] }, (_, i) => exactLogRatio(BIMODAL, x.data.subarray(2 * i, 2 * i + 2)));
  const out = await runDrs(ctx(exactPair(BIMODAL, { scale: 0 }), N, 13), { exact: true, score });
  const c = checkBimodal(out.samples, N);
  assert.ok(c.pass, fmt(c));
});

test('MH-GAN from generator starts reproduces BIMODAL (K = 100); zeroed ratio fails', async () => {
  const out = await runMh(ctx(exactPair(BIMODAL), N, 21), { chainLength: 100 });
  const c = checkBimodal(out.samples, N);
  assert.ok(c.pass, fmt(c));
  const s = out.summary as Record<string, number>;
  assert.equal(s.init, 'generator');
  assert.equal(s.proposals, N * 101);
  assert.equal(s.restarts, 0);
  assert.ok(s.acceptance > 1 / W && s.acceptance < 1, `acceptance ${s.acceptance}`);
  assert.deepEqual(out.latents, out.samples);
  const bad = await runMh(ctx(exactPair(BIMODAL, { scale: 0 }), N, 21), { chainLength: 100 });
  const cb = checkBimodal(bad.samples, N);
  assert.ok(!cb.pass, `negative control passed: ${fmt(cb)}`);
  assert.equal((bad.summary as Record<string, number>).acceptance, 1);
  console.log(`MH generator start: ${fmt(c)} acceptance ${s.acceptance.toFixed(3)} | control ${fmt(cb)}`);
});

test('MH-GAN from real starts reproduces BIMODAL and never returns a real sample; zeroed ratio fails', async () => {
  const real = sampleMixture(BIMODAL, 500, new Rng(99));
  const realRows = new Set<string>();
  for (let i = 0; i < 500; i++) realRows.add(`${real[2 * i]},${real[2 * i + 1]}`);
  const out = await runMh(ctx(exactPair(BIMODAL), N, 22, { real }), { chainLength: 100 });
  assert.equal(out.summary.init, 'real');
  for (let i = 0; i < N; i++) assert.ok(!realRows.has(`${out.samples[2 * i]},${out.samples[2 * i + 1]}`), `row ${i} is a real sample`);
  const c = checkBimodal(out.samples, N);
  assert.ok(c.pass, fmt(c));
  const bad = await runMh(ctx(exactPair(BIMODAL, { scale: 0 }), N, 22, { real }), { chainLength: 100 });
  const cb = checkBimodal(bad.samples, N);
  assert.ok(!cb.pass, `negative control passed: ${fmt(cb)}`);
  console.log(`MH real start: ${fmt(c)} | control ${fmt(cb)}`);
});

test('MH-GAN restarts chains that never left their real start', async () => {
  // score = x_0 (r = e^{x_0}) and real starts at x_0 = 100: no proposal is ever accepted from them.
  const score = async (x: { data: Float32Array; shape: number[] }) => Float32Array.from({ length: x.shape[0] }, (_, i) => x.data[2 * i]);
  const real = new Float32Array([100, 100, 100, -100]);
  const n = 200;
  const out = await runMh(ctx(exactPair(BIMODAL), n, 23, { real, batchSize: 64 }), { chainLength: 20, score });
  const s = out.summary as Record<string, number>;
  assert.equal(s.restarts, n);
  assert.equal(s.proposals, n * 20 + n * 21);
  for (let i = 0; i < n; i++) {
    assert.ok(Math.abs(out.samples[2 * i]) < 10, `row ${i} kept a real start`);
    assert.ok(Number.isFinite(out.latents![2 * i]));
  }
});

test('SIR with a 40x pool reproduces BIMODAL (nEff = 1/(1/n + W/N)); zeroed ratio fails', async () => {
  const out = await runSir(ctx(exactPair(BIMODAL), N, 31), { poolMultiplier: 40 });
  const s = out.summary as Record<string, number>;
  const nEff = 1 / (1 / N + W / s.proposals);
  const c = checkBimodal(out.samples, N, nEff);
  assert.ok(c.pass, fmt(c));
  assert.equal(s.proposals, 40 * N);
  // Kong's ESS of the pool ~ N / E_pg[r^2] (E r^2 ~ 2.98 for BIMODAL): a loose sanity range.
  assert.ok(s.essFraction > 0.25 && s.essFraction < 0.45, `ESS fraction ${s.essFraction}`);
  assert.ok(s.uniqueFraction > 0.8 && s.uniqueFraction <= 1, `unique fraction ${s.uniqueFraction}`);
  assert.ok(Math.abs(s.essPerSample - s.essFraction * 40) < 1e-9);
  assert.deepEqual(out.latents, out.samples);
  // Without replacement: every proposal at most once, and with a 40x pool the same law (the
  // picked fortieth of the pool shifts the remaining weights by about 1/40 of their spread).
  const distinct = await runSir(ctx(exactPair(BIMODAL), N, 31), { poolMultiplier: 40, replace: false });
  const sd = distinct.summary as Record<string, number>;
  assert.equal(sd.uniqueFraction, 1);
  const cd = checkBimodal(distinct.samples, N, nEff);
  assert.ok(cd.pass, `without replacement: ${fmt(cd)}`);
  const bad = await runSir(ctx(exactPair(BIMODAL, { scale: 0 }), N, 31), { poolMultiplier: 40 });
  const cb = checkBimodal(bad.samples, N, N);
  assert.ok(!cb.pass, `negative control passed: ${fmt(cb)}`);
  assert.equal((bad.summary as Record<string, number>).essFraction, 1);
  console.log(
    `SIR: ${fmt(c)} without replacement ${fmt(cd)} nEff ${nEff.toFixed(0)} ESS fraction ${s.essFraction.toFixed(3)} unique fraction ${s.uniqueFraction.toFixed(3)} | control ${fmt(cb)}`,
  );
});

test('same seed gives bit-identical output; another seed differs (all three runners)', async () => {
  const pair = exactPair(BIMODAL);
  const runs = [
    (seed: number) => runDrs(ctx(pair, 300, seed, { batchSize: 128 }), { burnIn: 500 }),
    (seed: number) => runMh(ctx(pair, 300, seed, { batchSize: 128 }), { chainLength: 10 }),
    (seed: number) => runSir(ctx(pair, 300, seed, { batchSize: 128 }), { poolMultiplier: 5 }),
    (seed: number) => runSir(ctx(pair, 300, seed, { batchSize: 128 }), { poolMultiplier: 5, replace: false }),
  ];
  for (const run of runs) {
    const a = await run(5);
    const b = await run(5);
    const c = await run(6);
    assert.deepEqual(Buffer.from(a.samples.buffer), Buffer.from(b.samples.buffer));
    assert.deepEqual(a.summary, b.summary);
    assert.notDeepEqual(Buffer.from(a.samples.buffer), Buffer.from(c.samples.buffer));
  }
});

test('NaN/-Inf scores are rejections: never returned, counted in nonFinite', async () => {
  const pair = nanPair();
  const outs = [
    await runDrs(ctx(pair, 400, 41, { batchSize: 100 }), { burnIn: 300, exact: true }),
    await runDrs(ctx(pair, 400, 41, { batchSize: 100 }), { burnIn: 300 }),
    await runMh(ctx(pair, 400, 41, { batchSize: 100 }), { chainLength: 20 }),
    await runSir(ctx(pair, 400, 41, { batchSize: 100 }), { poolMultiplier: 4 }),
  ];
  for (const out of outs) {
    const s = out.summary as Record<string, number>;
    for (let i = 0; i < 400; i++) assert.ok(out.samples[2 * i] > 0, `${s.method}: row ${i} has x0 = ${out.samples[2 * i]}`);
    assert.ok(s.nonFinite > 0, `${s.method} nonFinite ${s.nonFinite}`);
    assert.ok(Number.isFinite(s.acceptance));
  }
  // Real starts with non-finite scores are left for the first finite proposal.
  const real = new Float32Array([-1, 0, NaN, 0]);
  const mh = await runMh(ctx(pair, 100, 42, { real }), { chainLength: 20 });
  for (let i = 0; i < 100; i++) assert.ok(mh.samples[2 * i] > 0);
  // A discriminator that is never finite is a clear error, not a crash.
  const never = async (x: { shape: number[] }) => new Float32Array(x.shape[0]).fill(NaN);
  await rejects(runDrs(ctx(pair, 10, 1), { burnIn: 50, score: never }), 'invalid_model', 'discriminator');
  await rejects(runSir(ctx(pair, 10, 1), { score: never }), 'invalid_model', 'discriminator');
  await rejects(runMh(ctx(pair, 10, 1), { chainLength: 3, maxRestarts: 1, score: never }), 'invalid_model', 'discriminator');
});

test('option errors name the option', async () => {
  const pair = exactPair(BIMODAL);
  await rejects(runDrs(ctx(pair, 10, 1), { burnIn: 0 }), 'invalid_argument', 'burnIn');
  await rejects(runDrs(ctx(pair, 10, 1), { gammaPercentile: 101 }), 'invalid_argument', 'gammaPercentile');
  await rejects(runDrs(ctx(pair, 10, 1), { exact: true, gamma: 0 }), 'invalid_argument', 'gamma');
  await rejects(runDrs(ctx(pair, 10, 1), { epsilon: 0 }), 'invalid_argument', 'epsilon');
  await rejects(runDrs(ctx(pair, 10, 1), { maxProposals: 1.5 }), 'invalid_argument', 'maxProposals');
  // Exceeding the cap: exact DRS accepts ~13%, so 100 proposals cannot give 1000 samples.
  await rejects(runDrs(ctx(pair, 1000, 1, { batchSize: 64 }), { exact: true, burnIn: 100, maxProposals: 100 }), 'invalid_argument', 'maxProposals');
  await rejects(runMh(ctx(pair, 10, 1), { chainLength: 0 }), 'invalid_argument', 'chainLength');
  await rejects(runMh(ctx(pair, 10, 1), { init: 'real' }), 'invalid_argument', 'real');
  await rejects(runMh(ctx(pair, 10, 1, { real: new Float32Array(3) }), {}), 'shape_mismatch', 'real');
  await rejects(runMh(ctx(pair, 10, 1), { init: 'bogus' as 'real' }), 'invalid_argument', 'mhInit');
  await rejects(runMh(ctx(pair, 10, 1), { maxRestarts: -1 }), 'invalid_argument', 'maxRestarts');
  await rejects(runSir(ctx(pair, 10, 1), { poolMultiplier: 0 }), 'invalid_argument', 'pool');
  await rejects(runSir(ctx(pair, 0, 1), {}), 'invalid_argument', 'n');
  await rejects(runSir(ctx(pair, 10, 1, { batchSize: 0 }), {}), 'invalid_argument', 'batchSize');
  await rejects(runSir(ctx(pair, 10, 1.5), {}), 'invalid_argument', 'seed');
  const short = async () => new Float32Array(1);
  await rejects(runSir(ctx(pair, 10, 1), { score: short }), 'shape_mismatch', 'score');
});

test('progress reaches the total and cancellation stops a run', async () => {
  const pair = exactPair(BIMODAL);
  const runs: Array<[string, (c: RunContext) => Promise<unknown>]> = [
    ['drs', (c) => runDrs(c, { burnIn: 200 })],
    ['mh', (c) => runMh(c, { chainLength: 5 })],
    ['sir', (c) => runSir(c, { poolMultiplier: 3 })],
  ];
  for (const [name, run] of runs) {
    const seen: Array<[number, number]> = [];
    await run(ctx(pair, 250, 1, { batchSize: 100, hooks: { onProgress: (d, t) => seen.push([d, t]) } }));
    assert.ok(seen.length > 0);
    const [d, t] = seen[seen.length - 1];
    assert.equal(d, t);
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i][0] >= seen[i - 1][0]);
    const ac = new AbortController();
    ac.abort();
    await rejects(run(ctx(pair, 250, 1, { batchSize: 100, hooks: { signal: ac.signal } })), 'cancelled', name);
  }
});
