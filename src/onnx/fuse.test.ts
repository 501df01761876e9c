import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { fixturesDir, relError } from '../testing/fixtures.js';
import { differentiate, onesLike } from './autodiff.js';
import { denseMasks, foldBatchNorms, nchwcMasks, nchwcScales, transposeProducts } from './fuse.js';
import { Graph, float, int, ints } from './graph.js';
import { loadGraph } from './modelfile.js';
import { Session } from './session.js';
import { graphOutputs } from '../testing/graphs.js';

const rng = new Rng(11);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());
const positive = (n: number) => Float32Array.from({ length: n }, () => 0.2 + 2 * rng.uniform());

/** An inference-mode BN over c channels with random statistics. */
function batchNorm(g: Graph, x: string, c: number): string {
  return g.op('BatchNormalization', [x, g.float32(positive(c), [c]), g.float32(randn(c), [c]), g.float32(randn(c), [c]), g.float32(positive(c), [c])], {
    epsilon: float(1e-3),
  });
}

/** Conv+BN, grouped ConvTranspose+BN, and a ConvTranspose whose output is also read elsewhere (not foldable). */
function layers(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 4, 5, 5]);
  const a = g.op('Relu', [
    batchNorm(g, g.op('Conv', [x, g.float32(randn(6 * 4 * 9), [6, 4, 3, 3]), g.float32(randn(6), [6])], { pads: ints([1, 1, 1, 1]) }), 6),
  ]);
  // Group 3: input channels 2i, 2i+1 feed output channels 2i, 2i+1; weight [Cin 6, Cout/group 2, 4, 4].
  const up = g.op('ConvTranspose', [a, g.float32(randn(6 * 2 * 16), [6, 2, 4, 4])], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), group: int(3) });
  const b = batchNorm(g, up, 6);
  const shared = g.op('ConvTranspose', [b, g.float32(randn(6 * 3 * 9), [6, 3, 3, 3]), g.float32(randn(3), [3])]);
  g.outputs = [g.op('Add', [batchNorm(g, shared, 3), shared])];
  return g;
}

async function evaluate(g: Graph, x: Float32Array, shape: number[]): Promise<Float32Array> {
  const s = await Session.create(g, { threads: 1 });
  const out = (await s.run({ [g.inputs[0].name]: { data: x, shape } }))[g.outputs[0]].data;
  await s.release();
  return out;
}

const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

/** d energy / d x, added to g (the seed: ones, d sum(energy)). */
const inputGradient = (g: Graph, energy: string, x: string) => differentiate(g, { [energy]: onesLike(g, energy) }, [x]).get(x)!;

test('foldBatchNorms folds BN into the Conv and the grouped ConvTranspose before it, with the same outputs', async () => {
  const g = layers();
  const f = foldBatchNorms(g);
  assert.equal(count(g, 'BatchNormalization'), 3);
  assert.equal(count(f, 'BatchNormalization'), 1, 'the BN of a layer output read twice stays');
  assert.deepEqual(f.outputs, g.outputs);
  const x = randn(3 * 4 * 25);
  const want = await evaluate(g, x, [3, 4, 5, 5]);
  const got = await evaluate(f, x, [3, 4, 5, 5]);
  const err = relError(got, want);
  assert.ok(err < 1e-5, `relative error ${err}`);
  // Negative control: the same fold with the ConvTranspose's channels taken as Conv's (the
  // weight's first axis) gives another function.
  const wrong = foldBatchNorms(g);
  const ct = wrong.nodes.find((n) => n.op === 'ConvTranspose')!;
  const w = wrong.initializers.get(ct.inputs[1])!;
  const orig = g.initializers.get(g.nodes.find((n) => n.op === 'ConvTranspose')!.inputs[1])!;
  const bn = g.nodes.filter((n) => n.op === 'BatchNormalization')[1];
  const [sc, , , v] = bn.inputs.slice(1).map((n) => g.initializers.get(n)!.data as Float32Array);
  const taps = 16;
  const data = w.data as Float32Array;
  for (let i = 0; i < 6; i++)
    for (let j = 0; j < 2; j++)
      for (let k = 0; k < taps; k++) data[(i * 2 + j) * taps + k] = (orig.data as Float32Array)[(i * 2 + j) * taps + k] * (sc[i] / Math.sqrt(v[i] + 1e-3));
  assert.ok(relError(await evaluate(wrong, x, [3, 4, 5, 5]), want) > 1e-2, 'the control must differ');
});

test('foldBatchNorms leaves graphs whose weights are fed (training graphs) as they are', () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2, 4, 4]);
  const w = g.addInput('w', 'float32', [3, 2, 3, 3]);
  g.outputs = [batchNorm(g, g.op('Conv', [x, w]), 3)];
  assert.equal(foldBatchNorms(g), g);
});

for (const fixture of ['dcgan32', 'mnist_dcgan28']) {
  test(`foldBatchNorms on the ${fixture} fixture: no BN left in G, G(z) as before`, async () => {
    // mnist_dcgan28's first BN follows its Linear layer reshaped into channels.
    const G = loadGraph(join(fixturesDir(), fixture, 'generator.onnx'));
    const f = foldBatchNorms(G);
    assert.ok(count(G, 'BatchNormalization') >= 2);
    assert.equal(count(f, 'BatchNormalization'), 0);
    const dim = G.inputs[0].shape[1] as number;
    const z = randn(8 * dim);
    const err = relError(await evaluate(f, z, [8, dim]), await evaluate(G, z, [8, dim]));
    assert.ok(err < 1e-5, `relative error ${err}`);
  });
}

/** x [batch, 5] -> Gemm (transB) -> 12 features -> BN over them, or reshaped to [batch, 3, 2, 2] -> BN over 3 channels. */
function gemmBatchNorm(reshaped: boolean, p: { w: Float32Array; b: Float32Array; scale: Float32Array; stats: Float32Array[] }): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 5]);
  let y = g.op('Gemm', [x, g.float32(p.w, [12, 5]), g.float32(p.b, [12])], { transB: int(1) });
  if (reshaped) y = g.op('Reshape', [y, g.int64s([-1, 3, 2, 2])]);
  const c = p.scale.length;
  const [bias, mean, variance] = p.stats.map((v) => g.float32(v, [c]));
  g.outputs = [g.op('Relu', [g.op('BatchNormalization', [y, g.float32(p.scale, [c]), bias, mean, variance])])];
  return g;
}

for (const reshaped of [false, true]) {
  test(`foldBatchNorms folds a BN after a Gemm${reshaped ? ' reshaped into channels' : ''}, with the same outputs`, async () => {
    const c = reshaped ? 3 : 12;
    const p = { w: randn(60), b: randn(12), scale: positive(c), stats: [randn(c), randn(c), positive(c)] };
    const g = gemmBatchNorm(reshaped, p);
    const f = foldBatchNorms(g);
    assert.equal(count(f, 'BatchNormalization'), 0);
    assert.equal(count(f, 'Reshape'), reshaped ? 1 : 0);
    const x = randn(4 * 5);
    const want = await evaluate(g, x, [4, 5]);
    const err = relError(await evaluate(f, x, [4, 5]), want);
    assert.ok(err < 1e-5, `relative error ${err}`);
    // Negative control: the same graph with the BN's parameters in the other channel order.
    const flipped = foldBatchNorms(gemmBatchNorm(reshaped, { ...p, scale: p.scale.slice().reverse(), stats: p.stats.map((v) => v.slice().reverse()) }));
    assert.ok(relError(await evaluate(flipped, x, [4, 5]), want) > 1e-2, 'the control must differ');
  });
}

const swap = ints([0, 2, 1]);

test('transposeProducts: (A B)^T as B^T A^T, a transposed factor read as it is, a rank-2 factor broadcast', async () => {
  const g = new Graph();
  const a0 = g.addInput('a0', 'float32', ['batch', 4, 4]);
  const b = g.addInput('b', 'float32', ['batch', 4, 4]);
  const y = g.op('Transpose', [g.op('MatMul', [g.op('Transpose', [a0], { perm: swap }), b])], { perm: swap });
  const w = g.float32(randn(4 * 5), [4, 5]);
  const v = g.op('Transpose', [g.op('MatMul', [b, w])], { perm: swap });
  g.outputs = [y, v];
  const t = transposeProducts(g);
  const readsProduct = (h: Graph) => h.nodes.some((n) => n.op === 'Transpose' && h.producer(n.inputs[0])?.op === 'MatMul');
  assert.ok(readsProduct(g));
  assert.ok(!readsProduct(t), 'no Transpose reads a MatMul product');
  // a0's Transpose cancels and is dropped; left: b^T for y's product, w^T and b^T for v's.
  assert.ok(!t.nodes.some((n) => n.op === 'Transpose' && n.inputs[0] === a0));
  assert.deepEqual(
    t.nodes.filter((n) => n.op === 'Transpose').map((n) => n.inputs[0]),
    [b, w, b],
  );
  const feeds = { a0: { data: randn(3 * 16), shape: [3, 4, 4] }, b: { data: randn(3 * 16), shape: [3, 4, 4] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(t, feeds);
  for (const [k, o] of g.outputs.entries()) {
    assert.deepEqual(t.values.get(o)?.shape, g.values.get(o)?.shape);
    const err = relError(got[k], want[k]);
    assert.ok(err < 1e-6, `${o}: relative error ${err}`);
  }
  // Negative control: the factors in the other order (A^T B^T) give other values.
  t.nodes.find((n) => n.outputs[0] === y)!.inputs.reverse();
  assert.ok(relError((await graphOutputs(t, feeds))[0], want[0]) > 1e-2, 'the control must differ');
});

test('transposeProducts leaves a product read twice, and other permutations, as they are', () => {
  const g = new Graph();
  const a = g.addInput('a', 'float32', ['batch', 3, 4]);
  const p = g.op('MatMul', [a, g.float32(randn(20), [4, 5])]);
  const q = g.op('MatMul', [a, g.float32(randn(20), [4, 5])]);
  g.outputs = [g.op('Transpose', [p], { perm: swap }), p, g.op('Transpose', [q], { perm: ints([2, 1, 0]) })];
  assert.equal(transposeProducts(g), g);
});

test('transposeProducts on a self-attention gradient: fewer Transposes, same value and gradient', async () => {
  // SAGAN's block: f = Wf x, g = Wg x, h = Wh x (x: [N, C, L]); attention softmax(f^T g) over
  // the last axis; out = h attention^T; energy sum(out * r). Its gradient transposes the
  // attention map's gradient back.
  const c = 4;
  const l = 6;
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', c, l]);
  const proj = () => g.op('MatMul', [g.float32(randn(c * c, 0.5), [c, c]), x]);
  const [f, k, h] = [proj(), proj(), proj()];
  const attention = g.op('Softmax', [g.op('MatMul', [g.op('Transpose', [f], { perm: swap }), k])], { axis: int(-1) });
  const out = g.op('MatMul', [h, g.op('Transpose', [attention], { perm: swap })]);
  const energy = g.op('ReduceSum', [g.op('Mul', [out, g.float32(randn(c * l), [c, l])])], { keepdims: int(0) });
  const dx = inputGradient(g, energy, x);
  g.outputs = [energy, dx];
  const t = transposeProducts(g);
  assert.ok(count(t, 'Transpose') < count(g, 'Transpose'), `${count(g, 'Transpose')} -> ${count(t, 'Transpose')} Transposes`);
  const feeds = { x: { data: randn(2 * c * l), shape: [2, c, l] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(t, feeds);
  for (const k of [0, 1]) {
    const err = relError(got[k], want[k]);
    assert.ok(err < 1e-5, `${g.outputs[k]}: relative error ${err}`);
  }
});

/** Conv (16 channels) -> Relu -> Conv -> LeakyRelu(0.2) -> energy sum(h * r), with its input gradient. */
function reluConvs(channels: number): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 16, 4, 4]);
  const conv = (v: string, cin: number) => g.op('Conv', [v, g.float32(randn(channels * cin * 9, 0.3), [channels, cin, 3, 3])], { pads: ints([1, 1, 1, 1]) });
  const a = g.op('Relu', [conv(x, 16)]);
  const h = g.op('LeakyRelu', [conv(a, channels)], { alpha: float(0.2) });
  const energy = g.op('ReduceSum', [g.op('Mul', [h, g.float32(randn(channels * 16), [channels, 4, 4])])], { keepdims: int(0) });
  const dx = inputGradient(g, energy, x);
  g.outputs = [energy, dx];
  return g;
}

test('nchwcMasks: ReLU and LeakyReLU masks as clipped depthwise Convs, the same gradient bit for bit', async () => {
  const g = reluConvs(16);
  assert.ok(count(g, 'Cast') >= 2, 'the gradient masks by Cast(Greater(y, 0))');
  const m = nchwcMasks(g);
  assert.equal(count(m, 'Cast') + count(m, 'Greater'), 0);
  assert.equal(count(m, 'Conv'), count(g, 'Conv') + 2);
  // Inputs that put exact zeros, the smallest normal float and a huge value through the masks.
  const x = randn(3 * 16 * 16);
  x.fill(0, 0, 256);
  x[300] = 2 ** -126;
  // 1e30 keeps the forward pass finite, and 2^126 times it overflows inside the mask's Conv.
  x[301] = 1e30;
  const feeds = { x: { data: x, shape: [3, 16, 4, 4] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(m, feeds);
  assert.deepEqual(got[1], want[1]);
  assert.deepEqual(got[0], want[0]);
  // Negative control: a gain of 1 instead of 2^126 masks with min(y, 1), not 1[y > 0].
  for (const [name, t] of m.initializers) if (name.includes('mask_w')) (t.data as Float32Array).fill(1);
  assert.notDeepEqual((await graphOutputs(m, feeds))[1], want[1]);
});

test('nchwcMasks leaves masks of channel counts other than 16k as they are', () => {
  const g = reluConvs(8);
  assert.ok(count(g, 'Cast') >= 2);
  assert.equal(nchwcMasks(g), g);
});

/** Gemm (no bias) -> Relu -> Gemm -> LeakyRelu(0.2) -> energy sum(h * r), with its input gradient: an MLP's masks. */
function reluDense(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 8]);
  const a = g.op('Relu', [g.op('Gemm', [x, g.float32(randn(8 * 16, 0.3), [8, 16])])]);
  const h = g.op('LeakyRelu', [g.op('Gemm', [a, g.float32(randn(16 * 16, 0.3), [16, 16]), g.float32(randn(16), [16])])], { alpha: float(0.2) });
  const energy = g.op('ReduceSum', [g.op('Mul', [h, g.float32(randn(16), [16])]), g.int64s([1])], { keepdims: int(0) });
  const dx = inputGradient(g, energy, x);
  g.outputs = [energy, dx];
  return g;
}

test('denseMasks: ReLU and LeakyReLU masks of dense activations as Clip(y * 2^126), the same gradient bit for bit', async () => {
  const g = reluDense();
  assert.equal(count(g, 'Cast'), 2, 'the gradient masks by Cast(Greater(y, 0))');
  const m = denseMasks(g);
  assert.equal(count(m, 'Cast') + count(m, 'Greater'), 0);
  // One Clip per mask: the LeakyRelu's slope Clip is folded into its mask's.
  assert.equal(count(m, 'Clip'), 2);
  // Rows of exact zeros (zero pre-activations: no bias in the first layer) and a huge value whose
  // scaled mask overflows to +inf.
  const x = randn(6 * 8);
  x.fill(0, 0, 16);
  x[20] = 1e30;
  const feeds = { x: { data: x, shape: [6, 8] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(m, feeds);
  assert.deepEqual(got[1], want[1]);
  assert.deepEqual(got[0], want[0]);
  // Negative control: a gain of 1 instead of 2^126 masks with min(y, 1), not 1[y > 0].
  for (const [name, t] of m.initializers) if (name.includes('mask_gain')) (t.data as Float32Array).fill(1);
  assert.notDeepEqual((await graphOutputs(m, feeds))[1], want[1]);
});

test('denseMasks leaves the masks of feature maps to nchwcMasks, and nchwcMasks those of dense values', () => {
  const c = reluConvs(8);
  assert.equal(denseMasks(c), c);
  const d = reluDense();
  assert.equal(nchwcMasks(d), d);
});

test('nchwcScales: constant scalings of feature maps as depthwise 1x1 Convs, the same values bit for bit', async () => {
  // Conv (16 channels) -> AveragePool 2x2 (its gradient scales dy by 1/4) -> 3 * h (constant first) -> energy.
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 16, 4, 4]);
  const h = g.op('AveragePool', [g.op('Conv', [x, g.float32(randn(16 * 16 * 9, 0.3), [16, 16, 3, 3])], { pads: ints([1, 1, 1, 1]) })], {
    kernel_shape: ints([2, 2]),
    strides: ints([2, 2]),
  });
  const tripled = g.op('Mul', [g.scalar(3), h]);
  const energy = g.op('ReduceSum', [g.op('Mul', [tripled, g.float32(randn(16 * 4), [16, 2, 2])])], { keepdims: int(0) });
  const dx = inputGradient(g, energy, x);
  g.outputs = [tripled, dx];
  const s = nchwcScales(g);
  // The forward 3 * h, its gradient's 3 * dy and AveragePool's dy / 4; not the [16, 2, 2] product (no constant scalar).
  assert.equal(count(s, 'Conv'), count(g, 'Conv') + 3);
  assert.equal(count(s, 'Mul'), count(g, 'Mul') - 3);
  const feeds = { x: { data: randn(3 * 16 * 16), shape: [3, 16, 4, 4] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(s, feeds);
  assert.deepEqual(got[0], want[0]);
  assert.deepEqual(got[1], want[1]);
  // Negative control: one scale off by one part in 2^20.
  for (const [name, t] of s.initializers) if (name.includes('scale_w')) (t.data as Float32Array).fill(Number(t.data[0]) * (1 + 2 ** -20));
  assert.notDeepEqual((await graphOutputs(s, feeds))[1], want[1]);
  // Maps of other channel counts and 2-D values are left as they are.
  const narrow = new Graph();
  const y = narrow.addInput('y', 'float32', ['batch', 8, 4, 4]);
  const z = narrow.addInput('z', 'float32', ['batch', 32]);
  narrow.outputs = [narrow.op('Mul', [y, narrow.scalar(2)]), narrow.op('Mul', [z, narrow.scalar(2)])];
  assert.equal(nchwcScales(narrow), narrow);
});
