import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RefineryError } from '../errors.js';
import { asGraph, Graph, int, ints } from '../onnx/graph.js';
import { encodeGraph, ForwardOnlyModel, modelFromBytes } from '../onnx/model.js';
import { Rng } from '../rng.js';
import { rejectsWith } from '../testing/assert.js';
import { evaluate } from './evaluate.js';
import { frechetDistance, gaussianStats } from './frechet.js';

const rng = new Rng(7);
const images = (n: number, shift: number) => ({ data: rng.fillNormal(new Float32Array(n * 2 * 3 * 3), shift, 1), shape: [n, 2, 3, 3] });

/** A "feature extractor": the mean over space of each channel, [batch, 2, 3, 3] -> [batch, 2]. */
function channelMeans(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2, 3, 3]);
  g.add('ReduceMean', [x], { axes: ints([2, 3]), keepdims: int(0) }, ['f']);
  g.outputs = ['f'];
  return g;
}

/** A "classifier" over 2 classes: logits = 20 x (channel means). */
function twoClasses(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2, 3, 3]);
  g.add('Mul', [g.op('ReduceMean', [x], { axes: ints([2, 3]), keepdims: int(0) }), g.scalar(20)], {}, ['logits']);
  g.outputs = ['logits'];
  return g;
}

test('with a feature extractor the metrics compare features; cached real statistics give the same FD', async () => {
  const real = images(400, 0);
  const fake = images(300, 0.5);
  const r = await evaluate(real, fake, { features: channelMeans(), metrics: ['fd', 'pr', 'kid'] });
  // The same FD computed by hand on the features.
  const feat = (t: { data: Float32Array; shape: number[] }) => {
    const n = t.shape[0];
    const out = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) for (let c = 0; c < 2; c++) for (let k = 0; k < 9; k++) out[i * 2 + c] += t.data[i * 18 + c * 9 + k] / 9;
    return { data: out, n, d: 2 };
  };
  const direct = await frechetDistance(feat(real), feat(fake));
  assert.ok(Math.abs(r.metrics.fd!.distance - direct.distance) < 1e-6 * (1 + direct.distance), `${r.metrics.fd!.distance} vs ${direct.distance}`);
  assert.ok(r.realStats && r.realStats.d === 2 && r.realStats.n === 400);
  const cached = await evaluate(undefined, fake, { features: channelMeans(), metrics: ['fd'], realStats: await gaussianStats(feat(real)) });
  assert.ok(Math.abs(cached.metrics.fd!.distance - direct.distance) < 1e-6 * (1 + direct.distance));
  assert.ok(r.metrics.pr && r.metrics.kid);
});

/** `t` as a SampleSource that records the rows of each read. */
function spySource(t: { data: Float32Array; shape: number[] }) {
  const size = t.data.length / t.shape[0];
  const reads: number[] = [];
  return {
    reads,
    shape: t.shape,
    read: async (start: number, count: number) => {
      reads.push(count);
      return t.data.slice(start * size, (start + count) * size);
    },
  };
}

test('sample sources: streamed through the features and the classifier a batch at a time, read whole only where the samples are compared; the same results as arrays', async () => {
  const real = images(400, 0);
  const fake = images(300, 0.5);
  const options = { features: channelMeans(), classifier: twoClasses(), metrics: ['fd', 'kid', 'pr', 'is', 'classes'] as const, batchSize: 64 };
  const arrays = await evaluate(real, fake, { ...options, metrics: [...options.metrics] });
  const r = spySource(real);
  const f = spySource(fake);
  const sources = await evaluate(r, f, { ...options, metrics: [...options.metrics] });
  assert.deepEqual(sources.metrics, arrays.metrics);
  assert.ok(Math.max(...r.reads, ...f.reads) <= 64, `reads of ${[...r.reads, ...f.reads]} rows`);
  // the real set once through the features; the fake set through the features and the classifier
  assert.equal(
    r.reads.reduce((a, b) => a + b, 0),
    400,
  );
  assert.equal(
    f.reads.reduce((a, b) => a + b, 0),
    600,
  );
  // Without features the comparisons read the samples: each source once, whole.
  const r2 = spySource(real);
  const f2 = spySource(fake);
  const raw = await evaluate(r2, f2, { metrics: ['fd', 'mmd'] });
  assert.deepEqual(raw.metrics, (await evaluate(real, fake, { metrics: ['fd', 'mmd'] })).metrics);
  assert.deepEqual([r2.reads, f2.reads], [[400], [300]]);
  // A source's shape is checked as an array's is.
  await rejectsWith(evaluate(real, { shape: [300], read: f.read }, { metrics: ['fd'] }), 'invalid_argument', 'fake.shape');
});

test('a classifier gives the Inception Score and class statistics; without real samples only what needs none runs', async () => {
  const fake = images(200, 0);
  const r = await evaluate(undefined, fake, { classifier: twoClasses() });
  assert.deepEqual(Object.keys(r.metrics).sort(), ['classes', 'is']);
  assert.ok(r.metrics.is!.mean > 1 && r.metrics.is!.mean <= 2);
  assert.equal(r.metrics.classes!.classCounts.length, 2);
  await rejectsWith(evaluate(undefined, fake, { metrics: ['kid'] }), 'invalid_argument', 'real');
  await rejectsWith(evaluate(undefined, fake, { metrics: ['is'] }), 'invalid_argument', 'classifier');
  // A feature extractor that does not fit the samples is refused naming it.
  await rejectsWith(evaluate(images(10, 0), { data: new Float32Array(40), shape: [10, 4] }, { features: channelMeans(), metrics: ['fd'] }), 'shape_mismatch');
});

test('a feature extractor beyond the graph toolkit runs forward as it is; composing it is refused with the reason', async () => {
  // Det has no shape rule in Refinery's toolkit; onnxruntime runs it.
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2, 3, 3]);
  const sq = g.op('Slice', [x, g.int64s([1]), g.int64s([3]), g.int64s([2])]);
  const m = g.op('Slice', [sq, g.int64s([1]), g.int64s([3]), g.int64s([3])]);
  const square = g.op('Reshape', [m, g.int64s([-1, 2, 2])]);
  g.add('ReduceSum', [square, g.int64s([1, 2])], { keepdims: int(0) }, ['det']);
  // Built as a supported operator, then renamed: Det has no shape rule in the toolkit.
  Object.assign(g.nodes[g.nodes.length - 1], { op: 'Det', inputs: [square], attrs: {} });
  g.add('Unsqueeze', ['det', g.int64s([1])], {}, ['f']);
  g.outputs = ['f'];
  const model = modelFromBytes(encodeGraph(g), 'det.onnx');
  assert.ok(model instanceof ForwardOnlyModel);
  const real = images(50, 0);
  const r = await evaluate(real, images(40, 0.3), { features: model, metrics: ['fd'] });
  assert.ok(Number.isFinite(r.metrics.fd!.distance));
  assert.throws(
    () => asGraph(model, 'dreFeatures'),
    (e: unknown) => e instanceof RefineryError && e.issues[0].path === 'dreFeatures' && /Det/.test(e.message),
  );
});

test('k-NN metrics on too few rows name the sample set when no k would do, else the k', async () => {
  const rng = new Rng(9);
  const rows = (n: number, d = 3) => ({ data: rng.fillNormal(new Float64Array(n * d)), n, d });
  await rejectsWith(evaluate(rows(20), rows(1), { metrics: ['pr'] }), 'invalid_argument', 'fake');
  await rejectsWith(evaluate(rows(1), rows(20), { metrics: ['pr'] }), 'invalid_argument', 'real');
  await rejectsWith(evaluate(rows(1), rows(20), { metrics: ['dc'] }), 'invalid_argument', 'real');
  // three rows: k = 1 or 2 would do, so the default k = 3 is what is named
  await rejectsWith(evaluate(rows(20), rows(3), { metrics: ['pr'] }), 'invalid_argument', 'prK');
  await rejectsWith(evaluate(rows(3), rows(20), { metrics: ['dc'] }), 'invalid_argument', 'dcK');
  await rejectsWith(evaluate(rows(10), rows(9), { metrics: ['prd'] }), 'invalid_argument', 'fake'); // 19 rows for 20 clusters
  assert.equal((await evaluate(rows(10), rows(10), { metrics: ['prd'] })).metrics.prd?.numClusters, 20);
  // control: enough rows run
  assert.equal((await evaluate(rows(20), rows(4), { metrics: ['pr'] })).metrics.pr?.k, 3);
});

test('mmd of a collapsed generator: the median heuristic is 0, which names mmdBandwidth; a given bandwidth runs', async () => {
  const rng = new Rng(10);
  const real = { data: rng.fillNormal(new Float64Array(100 * 4)), n: 100, d: 4 };
  const collapsed = { data: new Float64Array(400 * 4).fill(0.5), n: 400, d: 4 };
  await rejectsWith(evaluate(real, collapsed, { metrics: ['mmd'] }), 'invalid_argument', 'mmdBandwidth');
  await rejectsWith(evaluate(real, collapsed, { metrics: ['mmd'], mmdBandwidth: -1 }), 'invalid_argument', 'mmdBandwidth');
  const r = await evaluate(real, collapsed, { metrics: ['mmd', 'fd'], mmdBandwidth: 2 });
  assert.equal(r.metrics.mmd?.bandwidth, 2);
  assert.ok((r.metrics.mmd?.mmd2 ?? 0) > 0.05, `${r.metrics.mmd?.mmd2}`);
  // control: the same real set against a diverse fake set takes the heuristic
  const diverse = { data: rng.fillNormal(new Float64Array(400 * 4)), n: 400, d: 4 };
  assert.ok(((await evaluate(real, diverse, { metrics: ['mmd'] })).metrics.mmd?.bandwidth ?? 0) > 1);
});
