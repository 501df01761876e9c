import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { RefineryError } from '../../errors.js';
import { readNpyFloat32 } from '../../io/npyfile.js';
import type { ModelPair } from '../../models/pair.js';
import { loadPair } from '../../models/load.js';
import { inline } from '../../onnx/compose.js';
import { Graph } from '../../onnx/graph.js';
import { RowStreams, Rng } from '../../rng.js';
import { runDgflow } from '../../run/dgflow.js';
import { DgflowField, type Divergence, type DriftField } from '../../targets/flow.js';
import {
  BIMODAL,
  type Mixture,
  exactLogRatio,
  exactPair,
  exactRatioGraph,
  eulerInflated,
  mixtureMoments,
  nanPair,
  sampleMixture,
} from '../../testing/exact.js';
import { fixturesDir, relError } from '../../testing/fixtures.js';
import { meanZScores, projectedKs, varianceZScores } from '../../testing/stats.js';
import type { Tensor } from '../../tensor.js';
import { dgflowInit, dgflowKernel } from './dgflow.js';

process.env.REFINERY_THREADS ??= '1';

/**
 * The law proportional to exp(logRatio) = p_target(x) / N(x; 0, I) for an isotropic mixture with
 * std s < 1: each component times exp(|x|^2 / 2) is again Gaussian, with precision a = 1/s^2 - 1,
 * mean mu / (s^2 a) and log-weight log w + |mu|^2 / (2 s^4 a) - |mu|^2 / (2 s^2) (shared
 * normalisers dropped). For BIMODAL: std 1/sqrt(3), means 4 mu / 3.
 */
function tilted(m: Mixture): Mixture {
  const s2 = m.std * m.std;
  const a = 1 / s2 - 1;
  const logW = m.means.map((mu, k) => {
    const mm = mu.reduce((acc, v) => acc + v * v, 0);
    return Math.log(m.weights[k]) + mm / (2 * s2 * s2 * a) - mm / (2 * s2);
  });
  const top = Math.max(...logW);
  const w = logW.map((v) => Math.exp(v - top));
  const z = w.reduce((acc, v) => acc + v, 0);
  return { means: m.means.map((mu) => mu.map((v) => v / (s2 * a))), std: 1 / Math.sqrt(a), weights: w.map((v) => v / z) };
}

/** Moment z-scores (|z| < 4 each) and the projected KS p-value against exact draws of m. */
function compare(x: Float32Array, n: number, m: Mixture): { z: number[]; ks: number; ok: boolean } {
  const exact = mixtureMoments(m);
  const z = [...meanZScores(x, n, 2, exact), ...varianceZScores(x, n, 2, exact)];
  const ks = projectedKs(x, n, sampleMixture(m, n, new Rng(4242)), n, 2).pValue;
  return { z, ks, ok: z.every((v) => Math.abs(v) < 4) && ks > 1e-3 };
}

const fmt = (r: { z: number[]; ks: number }) => `z ${r.z.map((v) => v.toFixed(2)).join(', ')}; KS p ${r.ks.toExponential(2)}`;

const N = 2000;

// The stationary-law tests share their runs (each run also serves as the other's negative control).
let priorDriftRun: Float32Array | undefined;
let paperRun: Float32Array | undefined;

test('latent KL flow with the prior drift and gamma = 1 samples p0(z) r(G(z)) = BIMODAL (DDLS limit); a zero ratio fails', async (t) => {
  // Drift grad log p0 + grad logRatio(G(z)), noise sqrt(2 eta): Langevin on p0 r(G) = BIMODAL for the
  // identity G. eta = 0.025 for 2000 steps is Langevin time 50 (the mode weights settle from the
  // prior in ~30); the step-size bias (variance inflation 1 / (1 - eta / (2 * 0.25)) = 1.053 per
  // component) is in the reference law.
  const eta = 0.025;
  const opts = { space: 'latent' as const, divergence: 'kl' as const, priorDrift: true, noise: 1, stepSize: eta, numSteps: 2000 };
  const out = await runDgflow({ pair: exactPair(BIMODAL), n: N, seed: 11, batchSize: N }, opts);
  priorDriftRun = out.samples;
  assert.equal(out.summary.nonFinite, 0);
  const r = compare(out.samples, N, eulerInflated(BIMODAL, eta));
  t.diagnostic(`DGflow-KL (prior drift) vs BIMODAL: ${fmt(r)}`);
  assert.ok(r.ok, `DGflow-KL (prior drift) vs BIMODAL: ${fmt(r)}`);
  // Without the prior term the same settings sample a different law (the paper's flow; next test).
  // Negative control: a zero ratio leaves Langevin on the prior N(0, I), which must fail.
  const bad = await runDgflow({ pair: exactPair(BIMODAL, { scale: 0 }), n: N, seed: 11, batchSize: N }, opts);
  const rb = compare(bad.samples, N, eulerInflated(BIMODAL, eta));
  t.diagnostic(`the zero-ratio control: ${fmt(rb)}`);
  assert.ok(!rb.ok, `the zero-ratio control passed: ${fmt(rb)}`);
});

test("the paper's KL flow (no prior term) with gamma = 1 samples exp(logRatio)/Z, in data and latent space alike", async (t) => {
  // Frozen KL drift grad logRatio, noise sqrt(2 eta): Langevin on r = p_target / N(0, I), whose
  // normalised law is the tilted mixture (std 1/sqrt(3), means 4 mu / 3, weights ~ w e^{2|mu|^2/3}).
  // Its modes are further apart (barrier ~3.8 nats), so Langevin time 60 (eta 0.025, 2400 steps)
  // from the prior; bias inflation 1 / (1 - 0.025 * 1.5) = 1.039 is in the reference law.
  const eta = 0.025;
  const target = tilted(BIMODAL);
  assert.ok(Math.abs(target.std - 1 / Math.sqrt(3)) < 1e-12 && Math.abs(target.means[0][0] - -4 / 3) < 1e-12);
  const opts = { space: 'data' as const, divergence: 'kl' as const, noise: 1, stepSize: eta, numSteps: 2400 };
  const out = await runDgflow({ pair: exactPair(BIMODAL), n: N, seed: 12, batchSize: N }, opts);
  paperRun = out.samples;
  const r = compare(out.samples, N, eulerInflated(target, eta));
  t.diagnostic(`DGflow-KL (data) vs exp(logRatio)/Z: ${fmt(r)}`);
  assert.ok(r.ok, `DGflow-KL (data) vs exp(logRatio)/Z: ${fmt(r)}`);
  // Identity G: the latent flow without prior term is the same computation, bit for bit.
  const small = { ...opts, numSteps: 30 };
  const a = await runDgflow({ pair: exactPair(BIMODAL), n: 64, seed: 3, batchSize: 64 }, small);
  const b = await runDgflow({ pair: exactPair(BIMODAL), n: 64, seed: 3, batchSize: 64 }, { ...small, space: 'latent' });
  assert.deepEqual(b.samples, a.samples);
  assert.deepEqual(b.latents, a.samples);
});

test('each stationary test rejects the other law (cross negative controls)', (t) => {
  assert.ok(priorDriftRun && paperRun, 'the two stationary runs must have run');
  const r1 = compare(priorDriftRun, N, eulerInflated(tilted(BIMODAL), 0.025));
  t.diagnostic(`BIMODAL draws as the tilted law: ${fmt(r1)}`);
  assert.ok(!r1.ok, `BIMODAL draws passed as the tilted law: ${fmt(r1)}`);
  const r2 = compare(paperRun, N, eulerInflated(BIMODAL, 0.025));
  t.diagnostic(`tilted draws as BIMODAL: ${fmt(r2)}`);
  assert.ok(!r2.ok, `tilted draws passed as BIMODAL: ${fmt(r2)}`);
});

const softplus = (v: number) => (v > 0 ? v + Math.log1p(Math.exp(-v)) : Math.log1p(Math.exp(v)));
/** V = f'(exp(-l)) up to constants (see src/targets/flow.ts). */
const potential: Record<Divergence, (l: number) => number> = { kl: (l) => -l, js: (l) => -softplus(l), logd: (l) => softplus(-l) };

/** A corrector logit c(x) = 0.3 x0 - 0.7 x1 + 0.2 as a graph x -> [batch, 1]. */
function linearCorrector(): Graph {
  const g = new Graph();
  g.name = 'corrector';
  const x = g.addInput('x', 'float32', ['batch', 2]);
  const w = g.constant({ dtype: 'float32', dims: [2, 1], data: Float32Array.of(0.3, -0.7) });
  g.add('Identity', [g.op('Add', [g.op('MatMul', [x, w]), g.scalar(0.2)])], {}, ['c']);
  g.outputs = ['c'];
  return g;
}
const linearCorrectorValue = (x: ArrayLike<number>) => 0.3 * x[0] - 0.7 * x[1] + 0.2;

test("the drift equals -grad f'(exp(-logRatio)) by float64 finite differences (KL, JS, log D; data, latent, prior drift, corrector)", async () => {
  const rng = new Rng(5);
  const pts: number[][] = Array.from({ length: 14 }, () => [2 * rng.normal(), 2 * rng.normal()]);
  pts.push([8, 8], [-6, 1], [0, 0]);
  const n = pts.length;
  const x = Float32Array.from(pts.flat());
  const pair = exactPair(BIMODAL);
  const h = 1e-4;
  for (const divergence of ['kl', 'js', 'logd'] as const) {
    for (const variant of ['data', 'latent', 'prior', 'corrector'] as const) {
      const field = await DgflowField.create(pair, {
        divergence,
        space: variant === 'data' || variant === 'corrector' ? 'data' : 'latent',
        priorDrift: variant === 'prior',
        corrector: variant === 'corrector' ? linearCorrector() : undefined,
      });
      const ev = await field.evaluate({ data: x, shape: [n, 2] });
      await field.release();
      const l = (p: number[]) => exactLogRatio(BIMODAL, p) + (variant === 'corrector' ? linearCorrectorValue(p) : 0);
      const w = (p: number[]) => potential[divergence](l(p)) + (variant === 'prior' ? 0.5 * (p[0] * p[0] + p[1] * p[1]) : 0);
      for (let i = 0; i < n; i++) {
        const p = pts[i];
        const lr = l(p);
        assert.ok(Math.abs(ev.logRatio[i] - lr) < 1e-4 * Math.max(1, Math.abs(lr)), `${divergence}/${variant} logRatio row ${i}: ${ev.logRatio[i]} vs ${lr}`);
        for (let j = 0; j < 2; j++) {
          const up = p.slice();
          const dn = p.slice();
          up[j] += h;
          dn[j] -= h;
          const fd = -(w(up) - w(dn)) / (2 * h);
          const got = ev.drift[2 * i + j];
          assert.ok(
            Number.isFinite(got) && Math.abs(got - fd) < 1e-3 * (1 + Math.abs(fd)),
            `${divergence}/${variant} row ${i} (${p}) dim ${j}: drift ${got} vs finite differences ${fd}`,
          );
        }
      }
    }
  }
});

/** Paired z-score of the mean change of the exact logRatio between matching rows of a and b. */
function pairedLogRatioZ(a: Float32Array, b: Float32Array, n: number): { mean: number; z: number } {
  const diff = Array.from({ length: n }, (_, i) => exactLogRatio(BIMODAL, b.subarray(2 * i, 2 * i + 2)) - exactLogRatio(BIMODAL, a.subarray(2 * i, 2 * i + 2)));
  const mean = diff.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(diff.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, z: mean / (sd / Math.sqrt(n)) };
}

test("with the paper's defaults every divergence raises the exact logRatio of the samples; a reversed ratio lowers it", async (t) => {
  const n = 1000;
  const ctx = { pair: exactPair(BIMODAL), n, seed: 21, batchSize: n };
  const before = (await runDgflow(ctx, { numSteps: 0 })).samples;
  const ref = sampleMixture(BIMODAL, n, new Rng(99));
  /** Sum over both axes of the 1-D Wasserstein distance to exact draws of BIMODAL. */
  const w1 = (x: Float32Array) => {
    let total = 0;
    for (let j = 0; j < 2; j++) {
      const a = Float64Array.from({ length: n }, (_, i) => x[2 * i + j]).sort();
      const b = Float64Array.from({ length: n }, (_, i) => ref[2 * i + j]).sort();
      total += a.reduce((acc, v, i) => acc + Math.abs(v - b[i]), 0) / n;
    }
    return total;
  };
  for (const divergence of ['kl', 'js', 'logd'] as const) {
    const out = await runDgflow(ctx, { divergence });
    assert.equal(out.summary.steps, 25);
    assert.equal(out.summary.method, 'dgflow');
    const up = pairedLogRatioZ(before, out.samples, n);
    assert.ok(up.z > 4 && up.mean > 0.5, `${divergence}: mean logRatio change ${up.mean} (z ${up.z})`);
    assert.ok((out.summary.logRatioAfter as number) > (out.summary.logRatioBefore as number));
    // The frozen ratio is only right near t = 0 (here p_g = N(0, I) is far from BIMODAL and the
    // 25-step flow overshoots toward the modes of r), so "closer to the data" is checked after 2 steps.
    const early = await runDgflow(ctx, { divergence, numSteps: 2 });
    assert.ok(w1(early.samples) < w1(before) - 0.03, `${divergence}: W1 to BIMODAL ${w1(early.samples)} after 2 steps vs ${w1(before)} before`);
    // Negative control: D reports the opposite ratio; the flow then moves away from the data.
    const rev = await runDgflow({ ...ctx, pair: exactPair(BIMODAL, { scale: -1 }) }, { divergence });
    const down = pairedLogRatioZ(before, rev.samples, n);
    assert.ok(down.z < -4, `${divergence} reversed: mean logRatio change ${down.mean} (z ${down.z})`);
    const revEarly = await runDgflow({ ...ctx, pair: exactPair(BIMODAL, { scale: -1 }) }, { divergence, numSteps: 2 });
    assert.ok(w1(revEarly.samples) > w1(before), `${divergence} reversed: W1 ${w1(revEarly.samples)} after 2 steps vs ${w1(before)} before`);
    t.diagnostic(
      `${divergence}: mean logRatio change ${up.mean.toFixed(3)} (z ${up.z.toFixed(1)}), reversed ${down.mean.toFixed(3)} (z ${down.z.toFixed(1)}); ` +
        `W1 after 2 steps ${w1(early.samples).toFixed(3)} (reversed ${w1(revEarly.samples).toFixed(3)}) vs ${w1(before).toFixed(3)} before`,
    );
  }
});

test('runs are bit-identical for the same seed and options, chunked or not, and differ for another seed', async () => {
  const pair = exactPair(BIMODAL);
  const o = { divergence: 'js' as const, numSteps: 10 };
  const a = await runDgflow({ pair, n: 300, seed: 7, batchSize: 128 }, o);
  const b = await runDgflow({ pair, n: 300, seed: 7, batchSize: 128 }, o);
  assert.deepEqual(a.samples, b.samples);
  assert.deepEqual(a.summary, b.summary);
  const c = await runDgflow({ pair, n: 300, seed: 8, batchSize: 128 }, o);
  assert.notDeepEqual(a.samples, c.samples);
  let progress = 0;
  await runDgflow({ pair, n: 300, seed: 7, batchSize: 128, hooks: { onProgress: (done, total) => (progress = done / total) } }, o);
  assert.equal(progress, 1);
});

test('a uniform latent prior keeps the latents in [-1, 1] (reflection)', async () => {
  const base = exactPair(BIMODAL);
  const pair: ModelPair = { ...base, meta: { ...base.meta, latentPrior: 'uniform[-1,1]' } };
  const out = await runDgflow({ pair, n: 200, seed: 4, batchSize: 200 }, { noise: 1, stepSize: 0.2, numSteps: 20 });
  assert.ok(out.latents!.every((v) => v >= -1 && v <= 1));
  assert.ok(
    out.latents!.some((v) => Math.abs(v) > 0.9),
    'the chains should reach the walls',
  );
  assert.deepEqual(out.samples, out.latents);
});

test('rows whose new logRatio or drift is not finite keep their position and are counted', async () => {
  const field = await DgflowField.create(nanPair(), { space: 'data', divergence: 'js' });
  let proposal: Float32Array | undefined;
  const recording: DriftField = {
    evaluate: async (t: Tensor) => {
      proposal = Float32Array.from(t.data);
      return field.evaluate(t);
    },
  };
  const n = 400;
  const x0 = new Rng(31).fillNormal(new Float32Array(n * 2));
  for (let i = 0; i < n; i++) x0[2 * i] = Math.min(x0[2 * i], 1.4); // start where the ratio is finite
  const init = await dgflowInit(recording, { data: x0, shape: [n, 2] });
  assert.ok(init.logRatio.every(Number.isFinite));
  const kernel = dgflowKernel(recording, { stepSize: 0.1, noise: 1 });
  const { state, info } = await kernel.step(init, RowStreams.range([32], 0));
  let expected = 0;
  for (let r = 0; r < n; r++) {
    const bad = proposal![2 * r] > 1.5;
    if (bad) expected++;
    const want = bad ? x0 : proposal!;
    assert.deepEqual(state.position.subarray(2 * r, 2 * r + 2), want.subarray(2 * r, 2 * r + 2), `row ${r}`);
    assert.ok(Number.isFinite(state.logRatio[r]));
  }
  assert.ok(expected > 5, `the test needs some rows to land on NaN (${expected})`);
  assert.equal(info.nonFinite, expected);
  assert.equal(info.acceptance, 1);
  assert.ok(Number.isFinite(info.gradNorm) && info.gradNorm > 0);
  await field.release();
  // The runner copes too: samples stay finite, the kept rows are counted.
  const out = await runDgflow({ pair: nanPair(), n: 200, seed: 5, batchSize: 200 }, { space: 'data', noise: 1, stepSize: 0.1, numSteps: 5 });
  assert.ok((out.summary.nonFinite as number) > 0);
  assert.ok(out.samples.every(Number.isFinite));
});

test('bad options and correctors give RefineryErrors naming the option', async () => {
  const ctx = { pair: exactPair(BIMODAL), n: 10, seed: 0, batchSize: 10 };
  const cases: [Record<string, unknown>, string][] = [
    [{ divergence: 'hellinger' }, 'divergence'],
    [{ space: 'pixel' }, 'space'],
    [{ stepSize: 0 }, 'stepSize'],
    [{ stepSize: Number.NaN }, 'stepSize'],
    [{ noise: -1 }, 'noise'],
    [{ numSteps: 2.5 }, 'numSteps'],
    [{ space: 'data', priorDrift: true }, 'priorDrift'],
  ];
  for (const [o, path] of cases) {
    await assert.rejects(runDgflow(ctx, o), (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument' && e.issues[0].path === path);
  }
  await assert.rejects(runDgflow({ ...ctx, n: 0 }, {}), (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'n');
  const wide = new Graph();
  const x = wide.addInput('x', 'float32', ['batch', 3]);
  wide.add('Identity', [x], {}, ['y']);
  wide.outputs = ['y'];
  await assert.rejects(
    runDgflow(ctx, { corrector: wide }),
    (e: unknown) => e instanceof RefineryError && e.code === 'shape_mismatch' && e.issues[0].path.startsWith('corrector'),
  );
  const vector = new Graph();
  const v = vector.addInput('x', 'float32', ['batch', 2]);
  vector.add('Identity', [v], {}, ['y']);
  vector.outputs = ['y'];
  await assert.rejects(
    runDgflow(ctx, { corrector: vector }),
    (e: unknown) => e instanceof RefineryError && e.code === 'invalid_model' && e.issues[0].path.startsWith('corrector'),
  );
  // A corrector that fits is used: with c = -logRatio the total ratio is 0 and KL moves nothing but noise.
  const cancel = new Graph();
  const cx = cancel.addInput('x', 'float32', ['batch', 2]);
  const neg = inline(cancel, exactRatioGraph(BIMODAL), 'e/', { x: cx }).logit;
  cancel.add('Neg', [neg], {}, ['c']);
  cancel.outputs = ['c'];
  const still = await runDgflow(ctx, { space: 'data', corrector: cancel, noise: 0 });
  const start = await runDgflow(ctx, { space: 'data', numSteps: 0 });
  assert.equal(still.summary.corrector, true);
  for (let i = 0; i < still.samples.length; i++) assert.ok(Math.abs(still.samples[i] - start.samples[i]) < 1e-4);
});

test('on the dcgan32 fixture (NCHW images) the drifts match the PyTorch gradients', async () => {
  const dir = join(fixturesDir(), 'dcgan32');
  const pair = loadPair({ generator: join(dir, 'generator.onnx'), discriminator: join(dir, 'discriminator.onnx') });
  const z = readNpyFloat32(join(dir, 'z.npy'));
  const x = readNpyFloat32(join(dir, 'x.npy'));
  const logit = readNpyFloat32(join(dir, 'logit.npy')).data;
  const gradZ = readNpyFloat32(join(dir, 'grad_z.npy')).data;
  const gradX = readNpyFloat32(join(dir, 'grad_x.npy')).data;
  const gradEnergyZ = readNpyFloat32(join(dir, 'grad_energy_z.npy')).data;
  const rows = z.shape[0];
  const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
  /** The golden gradient of logRatio scaled per row by the divergence's weight s(l). */
  const weighted = (g: Float32Array, weight: (l: number) => number) => {
    const per = g.length / rows;
    return Float32Array.from(g, (v, i) => weight(logit[Math.floor(i / per)]) * v);
  };
  const cases = [
    { o: { space: 'latent' as const, divergence: 'kl' as const }, input: z, want: gradZ },
    { o: { space: 'latent' as const, divergence: 'js' as const }, input: z, want: weighted(gradZ, sigmoid) },
    {
      o: { space: 'latent' as const, divergence: 'logd' as const, priorDrift: true },
      input: z,
      want: Float32Array.from(
        weighted(gradZ, (l) => sigmoid(-l)),
        (v, i) => v - z.data[i],
      ),
    },
    { o: { space: 'latent' as const, divergence: 'kl' as const, priorDrift: true }, input: z, want: Float32Array.from(gradEnergyZ, (v) => -v) },
    { o: { space: 'data' as const, divergence: 'kl' as const }, input: x, want: gradX },
    { o: { space: 'data' as const, divergence: 'logd' as const }, input: x, want: weighted(gradX, (l) => sigmoid(-l)) },
  ];
  for (const c of cases) {
    const field = await DgflowField.create(pair, c.o);
    try {
      const ev = await field.evaluate(c.input);
      assert.ok(relError(ev.logRatio, logit) < 1e-4, `${JSON.stringify(c.o)} logRatio`);
      assert.ok(relError(ev.drift, c.want) < 1e-3, `${JSON.stringify(c.o)} drift rel ${relError(ev.drift, c.want)}`);
    } finally {
      await field.release();
    }
  }
  const out = await runDgflow({ pair, n: 3, seed: 1, batchSize: 2 }, { space: 'data', numSteps: 2 });
  assert.equal(out.samples.length, 3 * 3 * 32 * 32);
  assert.ok(out.samples.every(Number.isFinite));
  assert.equal(out.latents, undefined);
  const lat = await runDgflow({ pair, n: 3, seed: 1, batchSize: 2 }, { numSteps: 2 });
  assert.equal(lat.latents!.length, 3 * 100);
  assert.ok(lat.samples.every((v) => Number.isFinite(v) && Math.abs(v) <= 1));
});
