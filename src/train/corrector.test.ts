/**
 * The corrector on an exact case: the "GAN" is the identity on N(0, I) with D the exact log ratio
 * of the data N(mu, diag(s2)) to N(0, I) (a quadratic); the target model is an affine generator,
 * p_target = N(b, a^2 I), whose ratio to the GAN is also quadratic. Trained from D's weights by
 * logistic regression, c must make p_target exp(D + c) the data law; without the corrector
 * (negative control) the target refined with D alone is not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { Graph } from '../onnx/graph.js';
import { graphFromModel } from '../onnx/model.js';
import { decodeModel } from '../onnx/proto.js';
import { Session } from '../onnx/session.js';
import { rejectsWith } from '../testing/assert.js';
import { diagonalQuadratic, identityGenerator } from '../testing/exact.js';
import { trainCorrector } from './corrector.js';

const MU = [1, -0.5];
const S2 = [0.5, 1.5];
const A_T = 1.3; // target std
const B_T = [0.4, 0.2]; // target mean

/** log N(mu, s2) - log N(0, I) per coordinate: a = (1 - 1/s2) / 2, w = mu / s2. */
const exactD = () =>
  diagonalQuadratic(
    [0, 1].map((j) => 0.5 * (1 - 1 / S2[j])),
    [0, 1].map((j) => MU[j] / S2[j]),
    0,
  );

function gan(): ModelPair {
  return {
    generator: identityGenerator(2),
    discriminator: exactD(),
    meta: { latentDim: 2, latentPrior: 'normal', dataShape: [2], dOutput: 'logit' },
    files: { generator: '', discriminator: '' },
  };
}

function affine(): ModelPair {
  const g = new Graph();
  g.name = 'affine';
  const z = g.addInput('z', 'float32', ['batch', 2]);
  g.add('Add', [g.op('Mul', [z, g.scalar(A_T)]), g.constant({ dtype: 'float32', dims: [1, 2], data: Float32Array.from(B_T) })], {}, ['x']);
  g.outputs = ['x'];
  return {
    generator: g,
    discriminator: undefined as never,
    meta: { latentDim: 2, latentPrior: 'normal', dataShape: [2], dOutput: 'logit' },
    files: { generator: '', discriminator: '' },
  };
}

/** The law p_target exp(A x^2 + W x): per coordinate precision 1/a^2 - 2A and mean (b/a^2 + W) / precision. */
function law(A: ArrayLike<number>, W: ArrayLike<number>): { mean: number[]; variance: number[] } {
  const lambda = [0, 1].map((j) => 1 / (A_T * A_T) - 2 * A[j]);
  return { mean: [0, 1].map((j) => (B_T[j] / (A_T * A_T) + W[j]) / lambda[j]), variance: lambda.map((l) => 1 / l) };
}

// Tolerances as in critic.test.ts: the final iterate (learning rate decayed to 0) on batches of B
// draws per side carries about one batch's error, SE(mean) = sqrt(s2 / B), SE(var) / s2 = sqrt(2 / B); 4 of each.
const B = 512;
function check(m: { mean: number[]; variance: number[] }): string[] {
  const bad: string[] = [];
  for (const j of [0, 1]) {
    const tm = 4 * Math.sqrt(S2[j] / B);
    if (!(Math.abs(m.mean[j] - MU[j]) < tm)) bad.push(`mean ${j}: ${m.mean[j]} vs ${MU[j]} (tol ${tm.toFixed(3)})`);
    if (!(Math.abs(m.variance[j] / S2[j] - 1) < 4 * Math.sqrt(2 / B))) bad.push(`variance ${j}: ${m.variance[j]} vs ${S2[j]}`);
  }
  return bad;
}

test('train-corrector: p_target exp(D + c) is the data law; D alone (negative control) is not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-corrector-'));
  try {
    const out = join(dir, 'corrected');
    const r = await trainCorrector(gan(), affine(), { out, steps: 600, batchSize: B, lr: 0.05, lrDecay: true, seed: 1 });
    assert.deepEqual(r.trained.sort(), ['A', 'W', 'b']);
    const c = graphFromModel(decodeModel(readFileSync(join(out, 'corrector.onnx')), 'corrector'));
    const d = exactD();
    const coef = (g: Graph, n: string) => g.initializers.get(n)!.data as Float32Array;
    const A = [0, 1].map((j) => coef(d, 'A')[j] + coef(c, 'A')[j]);
    const W = [0, 1].map((j) => coef(d, 'W')[j] + coef(c, 'W')[j]);
    assert.deepEqual(check(law(A, W)), []);
    assert.ok(check(law(coef(d, 'A'), coef(d, 'W'))).length > 0, 'the target refined with D alone is not the data law');
    // The run's discriminator.onnx is D + c, a logit, and the run loads as a pair.
    const pair = loadPair({ run: out });
    assert.equal(pair.meta.dOutput, 'logit');
    const s = await Session.create(readFileSync(join(out, 'discriminator.onnx')));
    const x = Float32Array.of(0.3, -1.2);
    const got = (await s.run({ x: { data: x, shape: [1, 2] } }))[s.outputNames[0]].data[0];
    await s.release();
    const want = [0, 1].reduce((a, j) => a + A[j] * x[j] * x[j] + W[j] * x[j], coef(d, 'b')[0] + coef(c, 'b')[0]);
    assert.ok(Math.abs(got - want) < 1e-4, `${got} vs ${want}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train-corrector refuses a target of another sample shape, naming it', async () => {
  const t = affine();
  await rejectsWith(trainCorrector(gan(), { ...t, meta: { ...t.meta, dataShape: [3] } }, { out: '/tmp/never' }), 'shape_mismatch', 'target');
});
