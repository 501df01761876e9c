import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../../errors.js';
import { Graph } from '../../onnx/graph.js';
import { Rng } from '../../rng.js';
import { DataTarget } from '../../targets/data.js';
import { BIMODAL, exactLogRatio, exactPair, sampleMixture } from '../../testing/exact.js';
import { runSir } from '../../run/selection.js';
import { trainDreFsp } from './drefsp.js';

const M = 4000;
const N = 2000;

function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] / n;
    mb += b[i] / n;
  }
  let c = 0;
  let va = 0;
  let vb = 0;
  for (let i = 0; i < n; i++) {
    c += (a[i] - ma) * (b[i] - mb);
    va += (a[i] - ma) ** 2;
    vb += (b[i] - mb) ** 2;
  }
  return c / Math.sqrt(va * vb);
}

/** Critic on fresh draws of p_data (high-density points), compared with the exact log ratio. */
async function evaluate(pair: Parameters<typeof DataTarget.create>[0]): Promise<{ corr: number; mae: number; meanAbs: number }> {
  const x = sampleMixture(BIMODAL, N, new Rng(901));
  const exact = Float64Array.from({ length: N }, (_, i) => exactLogRatio(BIMODAL, x.subarray(2 * i, 2 * i + 2)));
  const t = await DataTarget.create(pair, false);
  const r = await t.logRatio({ data: x, shape: [N, 2] });
  await t.release();
  let mae = 0;
  let meanAbs = 0;
  for (let i = 0; i < N; i++) {
    mae += Math.abs(r[i] - exact[i]) / N;
    meanAbs += Math.abs(r[i]) / N;
  }
  return { corr: correlation(r, exact), mae, meanAbs };
}

test('DRE-F-SP on mixture vs N(0, I) learns the exact log ratio; real = fake gives a critic near 0 (negative control)', async () => {
  const pair = exactPair(BIMODAL); // identity generator: p_g = N(0, I)
  const opts = { steps: 1000 };
  const good = await trainDreFsp({ pair, real: sampleMixture(BIMODAL, M, new Rng(7)), seed: 1 }, opts);
  const g = await evaluate(good.pair);
  // Measured: corr 0.993, mean abs error 0.095 (exact log ratio on these points: mean 0.72, sd ~1).
  assert.ok(g.corr > 0.95, `correlation ${g.corr}`);
  assert.ok(g.mae < 0.25, `mean abs error ${g.mae}`);
  // exp(r) is normalised on the generator law (E_pg[p_data/p_g] = 1) to within a few percent.
  assert.ok(Math.abs(good.report.meanExpFake - 1) < 0.1, `E_fake exp(r) ${good.report.meanExpFake}`);
  assert.equal(good.pair.meta.dOutput, 'logit');
  assert.deepEqual(good.critic.outputs, ['logit']);

  const same = await trainDreFsp({ pair, real: new Rng(7).fillNormal(new Float32Array(2 * M)), seed: 1 }, opts);
  const s = await evaluate(same.pair);
  // Measured: mean |r| 0.09, corr 0.2. The same thresholds as above must fail.
  assert.ok(s.meanAbs < 0.25, `mean |r| ${s.meanAbs}`);
  assert.ok(s.corr < 0.95 && s.mae > 0.25, `negative control passed the positive checks: ${JSON.stringify(s)}`);
  assert.ok(Math.abs(same.report.lossReal + same.report.lossFake - 2 * Math.log(2)) < 0.05, `loss ${same.report.loss}`);
});

test('seeded and deterministic', async () => {
  const pair = exactPair(BIMODAL);
  const real = sampleMixture(BIMODAL, 200, new Rng(3));
  const o = { steps: 30, batchSize: 32, hidden: 16 };
  const a = await trainDreFsp({ pair, real, seed: 4 }, o);
  const b = await trainDreFsp({ pair, real, seed: 4 }, o);
  const c = await trainDreFsp({ pair, real, seed: 5 }, o);
  assert.deepEqual(a.mlp.values, b.mlp.values);
  assert.equal(a.report.loss, b.report.loss);
  assert.notDeepEqual(a.mlp.values, c.mlp.values);
});

test('a feature extractor graph is inlined into the critic: critic(x) = clip(MLP((f(x) - mean) / std)) to its range on the training pools', async () => {
  const pair = exactPair(BIMODAL);
  const W = [0.5, -1, 2, 1.5, 0.25, -0.75]; // [2, 3]
  const f = new Graph();
  const inp = f.addInput('img', 'float32', ['batch', 2]);
  f.outputs = [f.op('MatMul', [inp, f.float32(Float32Array.from(W), [2, 3])])];
  const res = await trainDreFsp({ pair, real: sampleMixture(BIMODAL, 300, new Rng(3)), seed: 2, features: f }, { steps: 40, batchSize: 32, hidden: 8 });
  assert.equal(res.report.featureDim, 3);
  assert.equal(res.report.features, 'graph');
  const n = 60;
  // 50 points like the training data and 10 far away, where the ReLU MLP extrapolates.
  const x = new Rng(6).fillNormal(new Float32Array(2 * n));
  for (let i = 2 * 50; i < 2 * n; i++) x[i] *= 40;
  const [lo, hi] = res.report.range;
  let outside = 0;
  const t = await DataTarget.create(res.pair, false);
  const got = await t.logRatio({ data: x, shape: [n, 2] });
  await t.release();
  const { spec, values, mean, std } = res.mlp;
  for (let i = 0; i < n; i++) {
    let h: number[] = [0, 1, 2].map((j) => (x[2 * i] * W[j] + x[2 * i + 1] * W[3 + j] - mean[j]) / std[j]);
    for (let l = 0; l + 1 < spec.sizes.length; l++) {
      const w = values[2 * l];
      const bias = values[2 * l + 1];
      const out = spec.sizes[l + 1];
      const next = Array.from({ length: out }, (_, o) => bias[o] + h.reduce((acc, v, q) => acc + w[o * h.length + q] * v, 0));
      h = l + 2 < spec.sizes.length ? next.map((v) => Math.max(v, 0)) : next;
    }
    if (h[0] < lo || h[0] > hi) outside++;
    const want = Math.min(Math.max(h[0], lo), hi);
    assert.ok(Math.abs(got[i] - want) < 1e-4 * Math.max(1, Math.abs(want)), `row ${i}: ${got[i]} vs ${want} (MLP ${h[0]}, range [${lo}, ${hi}])`);
  }
  assert.ok(outside > 0, 'no far point left the training range: the clip is untested');
});

test('bad options and inputs are RefineryErrors naming the option', async () => {
  const pair = exactPair(BIMODAL);
  const real = sampleMixture(BIMODAL, 50, new Rng(3));
  const code = (c: string, path: string) => (e: unknown) => e instanceof RefineryError && e.code === c && e.issues[0].path.startsWith(path);
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { steps: 0 }), code('invalid_argument', 'dreSteps'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { lambda: -1 }), code('invalid_argument', 'dreLambda'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { hidden: 2.5 }), code('invalid_argument', 'dreHidden'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { lr: 2 }), code('invalid_argument', 'dreLr'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { activation: 'gelu' as never }), code('invalid_argument', 'dreActivation'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { numFake: -3 }), code('invalid_argument', 'dreFakes'));
  await assert.rejects(trainDreFsp({ pair, real: undefined, seed: 1 }), code('invalid_argument', 'real'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { lambdas: [] }), code('invalid_argument', 'dreLambdas'));
  await assert.rejects(trainDreFsp({ pair, real, seed: 1 }, { validation: 0.5 }), code('invalid_argument', 'dreValidation'));
  await assert.rejects(trainDreFsp({ pair, real: real.subarray(0, 10), seed: 1 }, { validation: 0.1 }), code('invalid_argument', 'dreValidation'));
  await assert.rejects(trainDreFsp({ pair, real: real.subarray(0, 3), seed: 1 }), code('shape_mismatch', 'real'));
  const wrongIn = new Graph();
  const a = wrongIn.addInput('x', 'float32', ['batch', 3]);
  wrongIn.outputs = [wrongIn.op('Identity', [a])];
  await assert.rejects(trainDreFsp({ pair, real, seed: 1, features: wrongIn }), code('shape_mismatch', 'dreFeatures'));
  const wrongOut = new Graph();
  const b = wrongOut.addInput('x', 'float32', ['batch', 2]);
  wrongOut.outputs = [wrongOut.op('ReduceSum', [b, wrongOut.int64s([1])], { keepdims: { type: 'int', v: 0 } })];
  await assert.rejects(trainDreFsp({ pair, real, seed: 1, features: wrongOut }), code('invalid_model', 'dreFeatures'));
});

test('validation split: lambda is selected by held-out logistic loss; the KS check flags an overfitted critic and not a sound one', async () => {
  const pair = exactPair(BIMODAL);
  // Sound: 4000 reals, a small network, 600 steps.
  const sound = await trainDreFsp({ pair, real: sampleMixture(BIMODAL, M, new Rng(11)), seed: 2 }, { steps: 600, lambdas: [0, 0.01, 100], validation: 0.25 });
  const sel = sound.report.selection!;
  assert.deepEqual(sel.lambdas, [0, 0.01, 100]);
  const best = sel.validationLoss.indexOf(Math.min(...sel.validationLoss));
  assert.equal(sound.report.lambda, sel.lambdas[best]);
  assert.ok(sound.report.ks && !sound.report.ks.overfit, JSON.stringify(sound.report.ks));
  // Overfitted (negative control): 300 training reals, a wide network at a high constant rate
  // (measured: KS p 0.003 on reals, 3e-4 on fakes).
  const over = await trainDreFsp(
    { pair, real: sampleMixture(BIMODAL, 400, new Rng(12)), seed: 2 },
    { steps: 4000, hidden: 256, layers: 3, batchSize: 64, lr: 3e-3, lrDecay: false, validation: 0.25 },
  );
  assert.ok(over.report.ks?.overfit, `the KS check must flag memorised training samples: ${JSON.stringify(over.report.ks)}`);
  assert.equal(over.report.selection, undefined);
});

test('early stopping keeps the parameters of least validation loss: the overfitted setting then passes the KS check and nears the exact ratio', async () => {
  // The overfitted setting of the test above (measured: KS flags it, mean |r - exact| 2.26 on
  // fresh real points); with a check every 100 steps the critic of step 200 is kept (KS p 0.38
  // and 0.56, mean error 0.40). The control is the same training without early stopping.
  const options = { steps: 4000, hidden: 256, layers: 3, batchSize: 64, lr: 3e-3, lrDecay: false, validation: 0.25 };
  const input = { pair: exactPair(BIMODAL), real: sampleMixture(BIMODAL, 400, new Rng(12)), seed: 2 };
  const late = await trainDreFsp(input, options);
  const early = await trainDreFsp(input, { ...options, earlyStop: 100 });
  assert.equal(late.report.earlyStop, undefined);
  const stop = early.report.earlyStop!;
  assert.ok(stop.step % 100 === 0 && stop.step < 4000, `kept step ${stop.step}`);
  assert.ok(late.report.ks?.overfit && !early.report.ks?.overfit, JSON.stringify([late.report.ks, early.report.ks]));
  const lateErr = (await evaluate(late.pair)).mae;
  const earlyErr = (await evaluate(early.pair)).mae;
  assert.ok(earlyErr < 0.6 && lateErr > 1.5, `mean |r - exact|: early ${earlyErr}, late ${lateErr}`);
  const again = await trainDreFsp(input, { ...options, earlyStop: 100 });
  assert.deepEqual(again.mlp.values, early.mlp.values);
  const code = (e: unknown) => e instanceof RefineryError && e.code === 'invalid_argument' && e.issues[0].path === 'dreEarlyStop';
  await assert.rejects(trainDreFsp(input, { earlyStop: -1 }), code);
  await assert.rejects(trainDreFsp(input, { earlyStop: 2.5 }), code);
  await assert.rejects(trainDreFsp(input, { earlyStop: 100, validation: 0 }), code);
});

test('defaults weigh the modes of a 4-mode exact target within the error their pools allow; the former defaults (constant rate, 2,000 steps) do not', async () => {
  // p_g = N(0, I) (identity G); data: 4 modes at (+-1.5, +-1.5), std 0.35, weights 0.1 .. 0.4.
  // SIR (its defaults) through the exact ratio recovers the weights within 0.015 (measured).
  const mix = {
    means: [
      [-1.5, -1.5],
      [1.5, -1.5],
      [-1.5, 1.5],
      [1.5, 1.5],
    ],
    std: 0.35,
    weights: [0.1, 0.2, 0.3, 0.4],
  };
  const pair = exactPair(mix);
  const n = 10000;
  const quadrant = (x: Float32Array, i: number) => (x[2 * i] > 0 ? 1 : 0) + (x[2 * i + 1] > 0 ? 2 : 0);
  const weights = (x: Float32Array) => {
    const c = [0, 0, 0, 0];
    for (let i = 0; i < x.length / 2; i++) c[quadrant(x, i)] += 2 / x.length;
    return c;
  };
  const seed = 2; // the seed with the largest error among 0-2 for both settings
  const real = sampleMixture(mix, n, new Rng(seed, 77));
  // Tolerance per mode k, relative: the critic estimates w_k from the real and fake samples in
  // mode k's quadrant (n_k of each pool), so its error is about sqrt(1/real_k + 1/fake_k); the
  // refined draw adds a multinomial sqrt((1 - w_k) / (n w_k)). Four of each.
  const fakes = new Rng(seed, 5).fillNormal(new Float32Array(2 * n));
  const realK = weights(real).map((w) => w * n);
  const fakeK = weights(fakes).map((w) => w * n);
  const tol = mix.weights.map((w, k) => 4 * Math.sqrt(1 / realK[k] + 1 / fakeK[k]) + 4 * Math.sqrt((1 - w) / (n * w)));
  const misweighted = async (options: Parameters<typeof trainDreFsp>[1]) => {
    const dre = await trainDreFsp({ pair, real, seed }, options);
    const sir = await runSir({ pair: dre.pair, n, seed, batchSize: n });
    const got = weights(sir.samples);
    return mix.weights.flatMap((w, k) => (Math.abs(got[k] / w - 1) > tol[k] ? [`mode ${k}: ${got[k].toFixed(3)} vs ${w} (rel tol ${tol[k].toFixed(3)})`] : []));
  };
  assert.deepEqual(await misweighted({}), []);
  assert.ok((await misweighted({ steps: 2000, lrDecay: false, validation: 0 })).length > 0, 'the former defaults must fail the same check');
});
