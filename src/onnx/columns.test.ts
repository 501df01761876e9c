import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { relError } from '../testing/fixtures.js';
import { graphOutputs } from '../testing/graphs.js';
import { differentiate, onesLike } from './autodiff.js';
import { denseColumns } from './columns.js';
import { nchwcMasks } from './fuse.js';
import { Graph, float, int } from './graph.js';

const rng = new Rng(23);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

/** 2 -> W (Relu) -> W (LeakyRelu, transB) -> W (Tanh, MatMul) -> 3: every form of dense layer. */
function mlp(w = 64): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2]);
  let h = g.op('Relu', [g.op('Gemm', [x, g.float32(randn(2 * w), [2, w]), g.float32(randn(w), [w])])]);
  h = g.op('LeakyRelu', [g.op('Gemm', [h, g.float32(randn(w * w, 0.2), [w, w]), g.float32(randn(w), [w])], { transB: int(1) })], { alpha: float(0.2) });
  h = g.op('Tanh', [g.op('MatMul', [h, g.float32(randn(w * w, 0.2), [w, w])])]);
  g.outputs = [g.op('Gemm', [h, g.float32(randn(w * 3), [w, 3]), g.float32(randn(3), [3])])];
  return g;
}

/**
 * An MLP critic's latent energy, as the latent step differentiates it: x [batch, 2] -> 64 (Relu)
 * -> 64 (LeakyRelu) -> 1, energy 0.5|x|^2 - D(x), and d energy / dx. Each hidden activation is
 * read twice (the next layer, and its gradient's mask).
 */
function energyWithGradient(): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2]);
  const a = g.op('Relu', [g.op('Gemm', [x, g.float32(randn(2 * 64), [2, 64]), g.float32(randn(64), [64])])]);
  const h = g.op('LeakyRelu', [g.op('Gemm', [a, g.float32(randn(64 * 64, 0.2), [64, 64]), g.float32(randn(64), [64])])], { alpha: float(0.2) });
  const d = g.op('Squeeze', [g.op('Gemm', [h, g.float32(randn(64), [64, 1]), g.float32(randn(1), [1])]), g.int64s([1])]);
  const prior = g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [x, x]), g.int64s([1])], { keepdims: int(0) }), g.scalar(0.5)]);
  const energy = g.op('Sub', [prior, d]);
  const dx = differentiate(g, { [energy]: onesLike(g, energy) }, [x]).get(x)!;
  g.outputs = [energy, dx];
  return g;
}

test('denseColumns: an MLP as 1x1 Convs over [1, features, batch, 1], same values, rows independent of the batch', async () => {
  const g = mlp();
  const p = denseColumns(g);
  assert.equal(count(p, 'Conv'), 4);
  assert.equal(count(p, 'Gemm') + count(p, 'MatMul'), 0);
  assert.equal(count(p, 'Transpose'), 2, 'one at each end');
  assert.deepEqual(p.values.get(p.outputs[0])?.shape, ['batch', 3]);
  const x = randn(64 * 2);
  const feeds = (n: number) => ({ x: { data: x.subarray(0, 2 * n), shape: [n, 2] } });
  const [want] = await graphOutputs(g, feeds(64));
  const [got] = await graphOutputs(p, feeds(64));
  const err = relError(got, want);
  assert.ok(err < 1e-5, `relative error ${err}`);
  // The first 5 rows alone give the same bits (batch-size independence of the output).
  const [few] = await graphOutputs(p, feeds(5));
  assert.deepEqual(few, got.subarray(0, 15));
  // Negative control: the input reshaped to [1, features, batch, 1] without its Transpose.
  const reshape = p.nodes.find((n) => n.op === 'Reshape')!;
  reshape.inputs[0] = p.producer(reshape.inputs[0])!.inputs[0];
  assert.ok(relError((await graphOutputs(p, feeds(64)))[0], want) > 1e-2, 'the control must differ');
});

test('denseColumns: a gradient graph stays in columns from the latents to the gradient, same energy and gradient', async () => {
  const g = energyWithGradient();
  const p = denseColumns(g);
  assert.equal(count(p, 'Gemm') + count(p, 'MatMul'), 0, 'forward and backward layers are Convs');
  assert.equal(count(p, 'Conv'), count(g, 'Gemm'));
  // The activations that the masks read twice stay columns: Transposes only where a value enters
  // (the latents; the seed of width 1 is reshaped) or leaves (the gradient; D's output is reshaped).
  assert.ok(count(p, 'Transpose') <= 4, `${count(p, 'Transpose')} Transposes`);
  const masks = p.nodes.filter((n) => n.op === 'Greater');
  assert.ok(masks.length >= 2 && masks.every((n) => p.rank(n.inputs[0]) === 4), 'the masks read columns');
  const x = randn(50 * 2);
  const feeds = (n: number) => ({ x: { data: x.subarray(0, 2 * n), shape: [n, 2] } });
  const want = await graphOutputs(g, feeds(50));
  const got = await graphOutputs(p, feeds(50));
  for (const k of [0, 1]) assert.ok(relError(got[k], want[k]) < 1e-5, `output ${k}: relative error ${relError(got[k], want[k])}`);
  const few = await graphOutputs(p, feeds(7));
  assert.deepEqual(few[1], got[1].subarray(0, 14), 'rows independent of the batch');
  // The masks on columns as clipped depthwise Convs (nchwcMasks): the same gradient bit for bit.
  const m = nchwcMasks(p);
  assert.equal(count(m, 'Greater') + count(m, 'Cast'), 0);
  assert.deepEqual((await graphOutputs(m, feeds(50)))[1], got[1]);
  // Negative control: a mask that reads another layer's activation.
  const bad = denseColumns(g);
  const greater = bad.nodes.find((n) => n.op === 'Greater')!;
  greater.inputs[0] = bad.nodes.find((n) => n.op === 'Conv' && n.outputs[0] !== greater.inputs[0] && bad.shape(n.outputs[0])[1] === 64)!.outputs[0];
  assert.ok(relError((await graphOutputs(bad, feeds(50)))[1], want[1]) > 1e-2, 'the control must differ');
});

test('denseColumns leaves groups with fewer than two wide layers, or widths off the blocks, as they are', () => {
  // 64 -> 2 -> 64: no wide layer.
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 64]);
  g.outputs = [g.op('Gemm', [g.op('Relu', [g.op('Gemm', [x, g.float32(randn(128), [64, 2])])]), g.float32(randn(128), [2, 64])])];
  assert.equal(denseColumns(g), g);
  // Two wide layers joined by a Softmax (not elementwise): two groups of one.
  const s = new Graph();
  const y = s.addInput('y', 'float32', ['batch', 64]);
  const h = s.op('Softmax', [s.op('Gemm', [y, s.float32(randn(64 * 64), [64, 64])])], { axis: int(1) });
  s.outputs = [s.op('Gemm', [h, s.float32(randn(64 * 64), [64, 64])])];
  assert.equal(denseColumns(s), s);
  // Widths below MIN_WIDTH (32), or not a multiple of 16 (72): as rows.
  for (const w of [32, 72]) {
    const m = mlp(w);
    assert.equal(denseColumns(m), m, `width ${w}`);
  }
  // Positive control: the same MLP at 64 and 80 is rewritten.
  for (const w of [64, 80]) assert.equal(count(denseColumns(mlp(w)), 'Conv'), 4, `width ${w}`);
});

test('denseColumns: Linear layers exported as MatMul and Add, and their gradient (MatMul by the transposed weights), as columns', async () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 2]);
  let h = x;
  let k = 2;
  for (const w of [64, 64]) {
    h = g.op('Relu', [g.op('Add', [g.op('MatMul', [h, g.float32(randn(k * w, 0.3), [k, w])]), g.float32(randn(w), [w])])]);
    k = w;
  }
  const d = g.op('ReduceSum', [g.op('Add', [g.op('MatMul', [h, g.float32(randn(64), [64, 1])]), g.float32(randn(1), [1])]), g.int64s([1])], {
    keepdims: int(0),
  });
  const dx = differentiate(g, { [d]: onesLike(g, d) }, [x]).get(x)!;
  g.outputs = [d, dx];
  assert.ok(
    g.nodes.some((n) => n.op === 'Transpose' && g.constValue(n.inputs[0])),
    'the gradient multiplies by transposed weights',
  );
  const p = denseColumns(g);
  assert.equal(count(p, 'MatMul') + count(p, 'Gemm'), 0);
  assert.equal(count(p, 'Conv'), 6);
  const feeds = { x: { data: randn(30 * 2), shape: [30, 2] } };
  const want = await graphOutputs(g, feeds);
  const got = await graphOutputs(p, feeds);
  for (const i of [0, 1]) assert.ok(relError(got[i], want[i]) < 1e-5, `output ${i}: relative error ${relError(got[i], want[i])}`);
  // Negative control: the first layer's bias dropped.
  const conv = p.nodes.find((n) => n.op === 'Conv' && n.inputs.length === 3)!;
  (p.initializers.get(conv.inputs[2])!.data as Float32Array).fill(0);
  assert.ok(relError((await graphOutputs(p, feeds))[1], want[1]) > 1e-2, 'the control must differ');
});
