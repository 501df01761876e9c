/**
 * What the defaults guarantee, on an exact target the defaults were not tuned on (a 4-D affine
 * generator and the exact log ratio to a correlated Gaussian, AFFINE4): DDLS with its default
 * settings samples the target (up to the O(stepSize) bias of unadjusted Langevin, below the test's
 * resolution here); the former default length (100 steps) and a wrong ratio fail the same test.
 * MH and SIR with their defaults, DRS with --exact and DGflow in its sampling mode sample it too;
 * DRS's default (the paper's gamma shift) is a heuristic that does not, and the test shows it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { AFFINE4, affinePair, sampleGaussian } from '../testing/exact.js';
import { meanZScores, projectedKs, varianceZScores } from '../testing/stats.js';
import { refine } from './refine.js';
import { METHOD_DEFAULTS } from './info.js';

const N = 2000;
const D = AFFINE4.b.length;

const reference = sampleGaussian(AFFINE4.mean, AFFINE4.cov, N, new Rng(77));

/** Moment z-scores (|z| < 4 each; independent chains) and the projected two-sample KS p-value. */
function compare(x: Float32Array): { z: number[]; ks: number; ok: boolean } {
  const exact = { mean: AFFINE4.mean, cov: AFFINE4.cov };
  const z = [...meanZScores(x, N, D, exact), ...varianceZScores(x, N, D, exact)];
  const ks = projectedKs(x, N, reference, N, D).pValue;
  return { z, ks, ok: z.every((v) => Math.abs(v) < 4) && ks > 1e-3 };
}
const fmt = (r: { z: number[]; ks: number }) => `z ${r.z.map((v) => v.toFixed(2)).join(', ')}; KS p ${r.ks.toExponential(2)}`;

test('DDLS with its defaults samples the exact target of a 4-D affine case; 100 steps and a wrong ratio do not', async (t) => {
  assert.equal(METHOD_DEFAULTS.ddls.numSteps, 1000);
  const ok = await refine(affinePair(AFFINE4), { method: 'ddls', n: N, seed: 3 });
  const r = compare(ok.samples.data);
  t.diagnostic(`defaults: ${fmt(r)}`);
  assert.ok(r.ok, `DDLS defaults vs N(m, S): ${fmt(r)}`);
  const short = await refine(affinePair(AFFINE4), { method: 'ddls', n: N, seed: 3, numSteps: 100 });
  const rs = compare(short.samples.data);
  t.diagnostic(`100 steps: ${fmt(rs)}`);
  assert.ok(!rs.ok, `100 steps passed: ${fmt(rs)}`);
  const wrong = await refine(affinePair(AFFINE4, 0.5), { method: 'ddls', n: N, seed: 3 });
  const rw = compare(wrong.samples.data);
  t.diagnostic(`ratio x 0.5: ${fmt(rw)}`);
  assert.ok(!rw.ok, `a wrong ratio passed: ${fmt(rw)}`);
});

test('MH and SIR defaults, exact DRS and DGflow sampling mode reach the same target; default DRS (gamma shift) and a wrong ratio do not', async (t) => {
  const pass: [string, Record<string, unknown>][] = [
    ['mh', { method: 'mh' }],
    ['sir', { method: 'sir' }],
    ['drs --exact', { method: 'drs', exact: true }],
    ['dgflow --prior-drift --noise 1', { method: 'dgflow', priorDrift: true, noise: 1, numSteps: 1000, stepSize: 0.01 }],
  ];
  for (const [name, o] of pass) {
    const r = compare((await refine(affinePair(AFFINE4), { n: N, seed: 3, ...o } as never)).samples.data);
    t.diagnostic(`${name}: ${fmt(r)}`);
    assert.ok(r.ok, `${name} vs N(m, S): ${fmt(r)}`);
  }
  const fail: [string, Record<string, unknown>, number][] = [
    ['drs (default gamma percentile 95)', { method: 'drs' }, 1],
    ['mh with the ratio x 0.5', { method: 'mh' }, 0.5],
    ['sir with the ratio x 0.5', { method: 'sir' }, 0.5],
  ];
  for (const [name, o, scale] of fail) {
    const r = compare((await refine(affinePair(AFFINE4, scale), { n: N, seed: 3, ...o } as never)).samples.data);
    t.diagnostic(`${name}: ${fmt(r)}`);
    assert.ok(!r.ok, `${name} passed: ${fmt(r)}`);
  }
});
