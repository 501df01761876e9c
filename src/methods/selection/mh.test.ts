/**
 * The MH-GAN kernel on exact discrete targets (pure JS proposers, no ONNX): proposals from q on
 * three points, score log(pi/q). Independent chains are independent draws of the K-step law,
 * which is within (1 - 1/W)^K of pi (W = max pi/q = 2 here: 1e-15 at K = 50), so category counts
 * are multinomial(n, pi) and each count's z-score uses sqrt(n pi (1 - pi)).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../../errors.js';
import { RowStreams, type Rng } from '../../rng.js';
import { runChain } from '../../run/driver.js';
import {
  MH_DEFAULTS,
  type MhOptions,
  type ProposalBatch,
  type Proposer,
  mhInitFromProposals,
  mhInitFromReal,
  mhKernel,
  mhStuckChains,
  validateMh,
} from './mh.js';

const Q = [0.5, 0.3, 0.2];
const PI = [0.2, 0.4, 0.4];

/** The sample in {0, 1, 2} of latent u (law Q for u ~ U[0, 1)). */
function category(u: number): number {
  return u < Q[0] ? 0 : u < Q[0] + Q[1] ? 1 : 2;
}

/** Proposals x in {0, 1, 2} with law Q (latent = the uniform used), score = logScore(x). */
function discreteProposer(logScore: (k: number) => number): Proposer {
  return {
    latentDim: 1,
    async propose(streams: Rng[]): Promise<ProposalBatch> {
      const rows = streams.length;
      const z = new Float32Array(rows);
      const score = new Float32Array(rows);
      for (let i = 0; i < rows; i++) {
        const u = streams[i].uniform();
        z[i] = u;
        score[i] = logScore(category(u));
      }
      return { z, score };
    },
  };
}

/** How many chains sit at each sample, from their latents. */
function counts(z: Float32Array): number[] {
  const c = [0, 0, 0];
  for (const u of z) c[category(u)]++;
  return c;
}

function zScores(c: number[], p: number[]): number[] {
  const n = c.reduce((a, b) => a + b, 0);
  return c.map((k, j) => (k - n * p[j]) / Math.sqrt(n * p[j] * (1 - p[j])));
}

test('independent chains reach pi = q r on a discrete space (exact target); r = 1 stays at q (negative control)', async () => {
  const n = 20000;
  const exact = discreteProposer((k) => Math.log(PI[k] / Q[k]));
  const init = mhInitFromProposals(await exact.propose(RowStreams.range([1, 0], 0).rowsOf(n)), 1);
  const { state, infos } = await runChain(mhKernel(exact), init, 50, RowStreams.range([1, 1], 0));
  const z = zScores(counts(state.z), PI);
  assert.ok(
    z.every((v) => Math.abs(v) < 4),
    `z ${z}`,
  );
  assert.equal(state.t, 50);
  // Acceptance of the independence sampler at stationarity: sum_{x,x'} pi(x) q(x') min(1, r(x')/r(x)).
  let acc = 0;
  for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) acc += PI[a] * Q[b] * Math.min(1, PI[b] / Q[b] / (PI[a] / Q[a]));
  const meanAcc = infos.slice(10).reduce((s, i) => s + i.acceptance, 0) / 40;
  assert.ok(Math.abs(meanAcc - acc) < 0.01, `acceptance ${meanAcc} vs ${acc}`);

  const flat = discreteProposer(() => 0);
  const init0 = mhInitFromProposals(await flat.propose(RowStreams.range([1, 0], 0).rowsOf(n)), 1);
  const bad = await runChain(mhKernel(flat), init0, 50, RowStreams.range([1, 1], 0));
  const zb = zScores(counts(bad.state.z), PI);
  assert.ok(
    zb.some((v) => Math.abs(v) > 4),
    `negative control matched pi: ${zb}`,
  );
  assert.ok(zScores(counts(bad.state.z), Q).every((v) => Math.abs(v) < 4));
});

test("acceptance rule: min(1, exp(s' - s)) per chain (binomial check), better proposals always accepted", async () => {
  const n = 40000;
  const lowProposal: Proposer = {
    latentDim: 1,
    async propose(streams) {
      const rows = streams.length;
      return { z: new Float32Array(rows).fill(7), score: new Float32Array(rows).fill(Math.log(0.3)) };
    },
  };
  const init = mhInitFromReal(new Float32Array(n), 1);
  const { state, info } = await mhKernel(lowProposal).step(init, RowStreams.range([5], 0));
  const p = Math.exp(Math.fround(Math.log(0.3)));
  const z = (info.accepted - n * p) / Math.sqrt(n * p * (1 - p));
  assert.ok(Math.abs(z) < 4, `z ${z}`);
  assert.equal(
    state.moves.reduce((a, b) => a + b, 0),
    info.accepted,
  );
  // From a state with score log 0.3, a proposal with score 0 is always better.
  const up = mhInitFromReal(new Float32Array(100).fill(Math.log(0.3) - 1), 1);
  const r = await mhKernel(discreteProposer(() => 0)).step(up, RowStreams.range([6], 0));
  assert.equal(r.info.acceptance, 1);
});

test('non-finite proposals are never accepted; a non-finite start takes the first finite proposal; the step is pure', async () => {
  const n = 1000;
  const nanFor2 = discreteProposer((k) => (k === 2 ? NaN : k === 1 ? -Infinity : 0));
  const init = mhInitFromReal(new Float32Array(n).fill(NaN), 1);
  const before = { z: Float32Array.from(init.z), score: Float64Array.from(init.score), atReal: Uint8Array.from(init.atReal) };
  const { state, info } = await mhKernel(nanFor2).step(init, RowStreams.range([7], 0));
  assert.deepEqual(init.z, before.z);
  assert.deepEqual(init.score, before.score);
  assert.deepEqual(init.atReal, before.atReal);
  for (let i = 0; i < n; i++) {
    // Only the finite proposal (x = 0) can replace the NaN-scored real start (latent NaN).
    if (!Number.isNaN(state.z[i])) assert.equal(category(state.z[i]), 0);
    assert.equal(state.atReal[i], Number.isNaN(state.z[i]) ? 1 : 0);
  }
  assert.ok(info.nonFinite > 0 && info.nonFinite < n);
  const run = await runChain(mhKernel(nanFor2), state, 30, RowStreams.range([8], 0));
  for (const u of run.state.z) assert.equal(category(u), 0);
  assert.deepEqual(mhStuckChains(run.state), []);
  assert.deepEqual(
    mhStuckChains(init),
    Array.from({ length: n }, (_, i) => i),
  );
});

test('real starts: chains that never accept stay flagged for restart, others are released', async () => {
  const init = mhInitFromReal(new Float32Array([100, -100, 100]), 1);
  assert.ok(Number.isNaN(init.z[0]));
  const { state } = await runChain(mhKernel(discreteProposer(() => 0)), init, 20, RowStreams.range([9], 0));
  assert.deepEqual(mhStuckChains(state), [0, 2]);
  assert.equal(state.atReal[1], 0);
  assert.ok(state.moves[1] >= 1);
});

test('option validation names the CLI option', () => {
  const cases: Array<[Partial<MhOptions>, string]> = [
    [{ chainLength: 0 }, 'chainLength'],
    [{ chainLength: 1.5 }, 'chainLength'],
    [{ init: 'x' as 'real' }, 'mhInit'],
    [{ maxRestarts: -1 }, 'maxRestarts'],
  ];
  for (const [o, path] of cases) {
    assert.throws(
      () => validateMh({ ...MH_DEFAULTS, ...o }),
      (e: unknown) => e instanceof RefineryError && e.issues[0].path === path,
      JSON.stringify(o),
    );
  }
  validateMh(MH_DEFAULTS);
});
