/**
 * Models of opsets 11 and 12 are read as opset 13; graphs of different opsets meet at the higher
 * one. Checked against onnxruntime running the original bytes, and by finite differences.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { gradCheck } from '../testing/gradcheck.js';
import { inline } from './compose.js';
import { differentiate } from './autodiff.js';
import { float, Graph, int, ints } from './graph.js';
import { encodeGraph, ForwardOnlyModel, modelFromBytes } from './model.js';
import { Session } from './session.js';

const TOL = 3e-3;

/** An opset-11 model: axes and split sizes as attributes, Softmax with its old default axis. */
function opset11Model(): Uint8Array {
  const g = new Graph();
  g.opset = 11;
  const x = g.addInput('x', 'float32', ['batch', 6]);
  const [a, b] = g.add('Split', [x], { axis: int(1), split: ints([2, 4]) }, 2);
  const u = g.op('Unsqueeze', [a], { axes: ints([1]) });
  const s = g.op('Squeeze', [g.op('Tanh', [u])], { axes: ints([1]) });
  const p = g.op('Softmax', [b]);
  const m = g.op('ReduceMean', [p], { axes: ints([1]), keepdims: int(1) });
  const r = g.op('ReduceSum', [g.op('Mul', [s, s])], { axes: ints([1]), keepdims: int(1) });
  const l = g.op('LeakyRelu', [g.op('Add', [r, m])], { alpha: float(0.2) });
  g.outputs = [g.op('Concat', [l, g.op('Dropout', [s], { ratio: float(0.3) })], { axis: int(1) })];
  return encodeGraph(g);
}

const feed = { x: { data: Float32Array.from({ length: 18 }, (_, i) => Math.sin(i + 1)), shape: [3, 6] } };

test('an opset-11 model is read as opset 13 and computes what onnxruntime computes from the original', async () => {
  const bytes = opset11Model();
  const model = modelFromBytes(bytes, 'old.onnx');
  assert.ok(model instanceof Graph, 'read as a graph');
  assert.equal(model.opset, 13);
  const squeeze = model.nodes.find((n) => n.op === 'Squeeze')!;
  assert.equal(squeeze.inputs.length, 2, 'Squeeze takes its axes as an input');
  assert.equal(squeeze.attrs.axes, undefined);
  const original = await Session.create(bytes, { threads: 1 });
  const upgraded = await Session.create(model, { threads: 1 });
  const want = (await original.run(feed))[original.outputNames[0]];
  const got = (await upgraded.run(feed))[upgraded.outputNames[0]];
  assert.deepEqual(got.shape, want.shape);
  assert.deepEqual([...got.data], [...want.data]);
  await original.release();
  await upgraded.release();
});

test('an opset-11 model inlined into an opset-18 graph: raised again, gradient matches finite differences', async () => {
  const old = modelFromBytes(opset11Model()) as Graph;
  const build = (g: Graph, [x]: string[]) => {
    const y = inline(g, old, 'old/', { x })[old.outputs[0]];
    // An opset-18 reduction (axes as an input) after it.
    return g.op('ReduceMax', [y, g.int64s([1])], { keepdims: int(0) });
  };
  const r = await gradCheck(build, [{ name: 'x', shape: [3, 6] }], { opset: 18 });
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
  // The reductions of the old model now carry their axes as inputs, as opset 18 requires.
  const g = new Graph();
  g.opset = 18;
  build(g, [g.addInput('x', 'float32', [3, 6])]);
  const mean = g.nodes.find((n) => n.op === 'ReduceMean')!;
  assert.equal(mean.inputs.length, 2);
  assert.equal(mean.attrs.axes, undefined);
});

test('a graph raised by inlining a newer one rewrites its own earlier nodes', async () => {
  const newer = new Graph();
  newer.opset = 18;
  const h = newer.addInput('h', 'float32', [2, 4]);
  newer.outputs = [newer.op('ReduceLogSumExp', [h, newer.int64s([1])], { keepdims: int(0) })];
  const r = await gradCheck(
    (g, [x]) => {
      // Built at opset 13: ReduceMean with an axes attribute, then an opset-18 graph is inlined.
      const centred = g.op('Sub', [x, g.op('ReduceMean', [x], { axes: ints([1]), keepdims: int(1) })]);
      const y = inline(g, newer, 'new/', { h: centred })[newer.outputs[0]];
      assert.equal(g.opset, 18);
      assert.equal(g.nodes.find((n) => n.op === 'ReduceMean')!.inputs.length, 2);
      return y;
    },
    [{ name: 'x', shape: [2, 4] }],
  );
  assert.ok(r.worst < TOL, `worst ${r.worst}`);
});

test('opset-11 Softmax over a non-last axis (a flattening softmax) runs forward only, with the reason', () => {
  const g = new Graph();
  g.opset = 11;
  const x = g.addInput('x', 'float32', [2, 3, 4]);
  g.outputs = [g.op('Softmax', [x], { axis: int(1) })];
  const model = modelFromBytes(encodeGraph(g), 'flat.onnx');
  assert.ok(model instanceof ForwardOnlyModel);
  assert.match(model.reason.issues[0].expected, /last axis/);
  assert.match(model.reason.issues[0].received, /axis 1 of rank 3/);
});

test('ReduceMax and ReduceMin share the gradient equally between tied extrema (as torch.amax)', async () => {
  for (const op of ['ReduceMax', 'ReduceMin']) {
    const g = new Graph();
    const x = g.addInput('x', 'float32', [2, 4]);
    const y = g.op(op, [x], { axes: ints([1]), keepdims: int(0) });
    const seed = g.float32(Float32Array.of(1, 2), [2]);
    g.outputs = [differentiate(g, { [y]: seed }, [x]).get(x)!];
    const s = await Session.create(g, { threads: 1 });
    const data = op === 'ReduceMax' ? Float32Array.of(1, 3, 3, 0, 5, 5, 5, -1) : Float32Array.of(1, -3, -3, 0, -5, -5, -5, 1);
    const dx = (await s.run({ x: { data, shape: [2, 4] } }))[s.outputNames[0]].data;
    assert.deepEqual(
      [...dx].map((v) => Math.round(v * 1e6) / 1e6),
      [0, 0.5, 0.5, 0, 2 / 3, 2 / 3, 2 / 3, 0].map((v) => Math.round(v * 1e6) / 1e6),
      op,
    );
    await s.release();
  }
});
