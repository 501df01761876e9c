/**
 * DCD critic fine-tuning: on an exact case (identity G, p_g = N(0, I), data N(mu, diag(s2)), D a
 * quadratic whose family holds the exact log ratio) the cd loss with DDLS chains must recover
 * the data's mean and variance through p_g exp(D); a negative control (one chain step: CD-1 from
 * p_g) must overshoot.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { ModelPair } from '../models/pair.js';
import { loadPair } from '../models/load.js';
import { discriminatorGraph } from '../models/pair.js';
import type { Rng } from '../rng.js';
import { rejectsWith } from '../testing/assert.js';
import { diagonalQuadratic, identityGenerator } from '../testing/exact.js';
import { finetuneCritic, trainableInitializers } from './critic.js';

const MU = [1, -0.5];
const S2 = [0.5, 1.5];

/** D(x) = (x*x) A + x W + b, all zeros: the ratio of p_g to itself. */
const quadraticCritic = () => diagonalQuadratic();

function pair(): ModelPair {
  return {
    generator: identityGenerator(2),
    discriminator: quadraticCritic(),
    meta: { latentDim: 2, latentPrior: 'normal', dataShape: [2], dOutput: 'logit' },
    files: { generator: '', discriminator: '' },
  };
}

const real = (n: number, rng: Rng) => {
  const out = new Float32Array(n * 2);
  for (let i = 0; i < n; i++) for (let j = 0; j < 2; j++) out[i * 2 + j] = MU[j] + Math.sqrt(S2[j]) * rng.normal();
  return out;
};

/** The law p_g exp(D) implied by the trained quadratic: per coordinate precision 1 - 2a and mean w / (1 - 2a). */
function implied(dir: string): { mean: number[]; variance: number[] } {
  const d = discriminatorGraph(loadPair({ run: dir }));
  const A = d.initializers.get('A')!.data as Float32Array;
  const W = d.initializers.get('W')!.data as Float32Array;
  const lambda = [0, 1].map((j) => 1 - 2 * A[j]);
  return { mean: [0, 1].map((j) => W[j] / lambda[j]), variance: lambda.map((l) => 1 / l) };
}

test('trainable initializers: weights reached from the output', () => {
  assert.deepEqual(trainableInitializers(quadraticCritic()).sort(), ['A', 'W', 'b']);
});

// Tolerances. The trained D is the final Adam iterate (learning rate decayed linearly to 0) on
// batches of B draws; its implied mean and variance carry at most about one batch's sampling
// error: SE(mean_j) = sqrt(s2_j / B), SE(var_j) / s2_j = sqrt(2 / B); we allow 4 of those. The
// chains add two known biases. (1) Unadjusted Langevin with step eps inflates a variance s2 by
// about eps / 4, which D compensates: eps / (4 min s2) more on the relative variance. (2) The
// chain's mean relaxes from 0 towards the law's mean as exp(-eps * n / (2 s2_j)) after n steps, so
// D overshoots the mean by r / (1 - r) of |mu_j|, r = that residue.
const B = 512;
const EPS = 0.1;
const N_STEPS = 100;
const residue = (j: number) => Math.exp((-EPS * N_STEPS) / (2 * S2[j]));
const meanTol = (j: number) => 4 * Math.sqrt(S2[j] / B) + (Math.abs(MU[j]) * residue(j)) / (1 - residue(j));
const varTol = 4 * Math.sqrt(2 / B) + EPS / (4 * Math.min(...S2));

function check(m: { mean: number[]; variance: number[] }): string[] {
  const bad: string[] = [];
  for (const j of [0, 1]) {
    if (!(Math.abs(m.mean[j] - MU[j]) < meanTol(j))) bad.push(`mean ${j}: ${m.mean[j]} vs ${MU[j]} (tol ${meanTol(j).toFixed(3)})`);
    if (!(Math.abs(m.variance[j] / S2[j] - 1) < varTol)) bad.push(`variance ${j}: ${m.variance[j]} vs ${S2[j]} (rel tol ${varTol.toFixed(3)})`);
  }
  return bad;
}

test('cd fine-tuning with latent (DDLS) chains recovers the exact ratio; CD-1 from p_g (negative control) does not', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-cd-'));
  try {
    const opts = { steps: 400, batchSize: B, lr: 0.05, lrDecay: true, space: 'latent' as const, stepSize: EPS, seed: 3 };
    await finetuneCritic(pair(), { real, ...opts, out: join(dir, 'mixed'), numSteps: N_STEPS });
    assert.deepEqual(check(implied(join(dir, 'mixed'))), []);
    await finetuneCritic(pair(), { real, ...opts, out: join(dir, 'cd1'), numSteps: 1 });
    assert.ok(check(implied(join(dir, 'cd1'))).length > 0, 'one chain step from p_g cannot match the data: the check must fail');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cd fine-tuning with data-space (DCD sampler) chains: exp(D) recovers the data law, as the DCD sampler assumes', async () => {
  // The data-space chain follows grad D alone (grad log p_g is dropped), so its fixed point is
  // exp(D) / Z = p_data: the quadratic then has a_j = -1 / (2 s2_j), w_j = mu_j / s2_j.
  const dir = mkdtempSync(join(tmpdir(), 'refinery-cd-'));
  try {
    const out = join(dir, 'data');
    await finetuneCritic(pair(), {
      real,
      out,
      steps: 400,
      batchSize: B,
      lr: 0.05,
      lrDecay: true,
      stepSize: EPS,
      numSteps: N_STEPS,
      space: 'data',
      clip: Infinity,
      seed: 4,
    });
    const d = discriminatorGraph(loadPair({ run: out }));
    const A = d.initializers.get('A')!.data as Float32Array;
    const W = d.initializers.get('W')!.data as Float32Array;
    const law = { mean: [0, 1].map((j) => W[j] / (-2 * A[j])), variance: [0, 1].map((j) => 1 / (-2 * A[j])) };
    assert.deepEqual(check(law), []);
    // Negative control: the same D read as a ratio to p_g (the latent reading) is not the data law.
    assert.ok(check(implied(out)).length > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a stopped fine-tuning resumes to the bit-identical discriminator; the run folder is refused as output', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'refinery-cd-'));
  try {
    const opts = { steps: 12, batchSize: 64, lr: 0.02, space: 'latent' as const, numSteps: 5, stepSize: EPS, checkpointEvery: 4 };
    await finetuneCritic(pair(), { real, ...opts, out: join(dir, 'whole') });
    const stop = new AbortController();
    let seen = 0;
    await rejectsWith(
      finetuneCritic(pair(), {
        real,
        ...opts,
        out: join(dir, 'split2'),
        signal: stop.signal,
        onProgress: (p) => {
          seen = p.step;
          stop.abort();
        },
      }),
      'cancelled',
    );
    assert.equal(seen, 10);
    const resumed = await finetuneCritic(pair(), { real, ...opts, out: join(dir, 'split2'), resume: true });
    assert.equal(resumed.resumedFrom, 10);
    assert.deepEqual(readFileSync(join(dir, 'split2', 'discriminator.onnx')), readFileSync(join(dir, 'whole', 'discriminator.onnx')));
    // Resuming with another option is refused, naming it.
    await rejectsWith(finetuneCritic(pair(), { real, ...opts, out: join(dir, 'split2'), resume: true, lr: 0.01 }), 'invalid_argument', 'lr');
    // The output may not be the input's run folder.
    await rejectsWith(finetuneCritic(loadPair({ run: join(dir, 'whole') }), { real, ...opts, out: join(dir, 'whole') }), 'invalid_argument', 'out');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad options are refused naming the option', async () => {
  await rejectsWith(finetuneCritic(pair(), { real, out: '/tmp/x', loss: 'nope' as never }), 'invalid_argument', 'loss');
  await rejectsWith(finetuneCritic(pair(), { real, out: '/tmp/x', numSteps: -1 }), 'invalid_argument', 'numSteps');
  await rejectsWith(finetuneCritic(pair(), { real: { data: new Float32Array(3), shape: [1, 3] }, out: '/tmp/x' }), 'shape_mismatch', 'real');
  await rejectsWith(finetuneCritic(pair(), { real, out: '/tmp/x', stepsize: 1 } as never), 'invalid_argument', 'stepsize');
});
