import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldConstant } from './fold.js';
import { constNumbers, Graph, int, ints, tensorAttr } from './graph.js';
import { Session } from './session.js';

/** torch.onnx's pads for F.pad(x, (0, 1, 1, 0)) on a 4-D input (its reversing Slice ends at about -2^63), then a few more integer ops. */
function padsChain(g: Graph, x: string): string {
  const zeros = g.op('ConstantOfShape', [g.int64s([4])], { value: tensorAttr({ dtype: 'int64', dims: [1], data: BigInt64Array.of(0n) }) });
  const all = g.op('Concat', [g.int64s([0, 1, 1, 0]), zeros], { axis: int(0) });
  const pairs = g.op('Reshape', [all, g.int64s([-1, 2])]);
  const reversed = g.op('Slice', [pairs, g.int64s([-1]), g.int64s([-(2 ** 63)]), g.int64s([0]), g.int64s([-1])]);
  const onnxOrder = g.op('Reshape', [g.op('Transpose', [reversed], { perm: ints([1, 0]) }), g.int64s([-1])]);
  const spatial = g.op('Gather', [g.op('Shape', [x]), g.int64s([2, 3])], { axis: int(0) });
  const doubled = g.op('Mul', [g.op('Unsqueeze', [g.op('Cast', [spatial], { to: int(7) }), g.int64s([0])]), g.scalar(2, 'int64')]);
  return g.op('Concat', [onnxOrder, g.op('Squeeze', [doubled, g.int64s([0])])], { axis: int(0) });
}

test('foldConstant evaluates the integer chains exporters emit, as onnxruntime does', async () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', [2, 3, 5, 7]);
  const out = padsChain(g, x);
  const folded = foldConstant(g, out);
  assert.ok(folded, 'folded');
  g.outputs = [g.op('Cast', [out], { to: int(1) })];
  const s = await Session.create(g, { threads: 1 });
  const want = (await s.run({ x: { data: new Float32Array(2 * 3 * 5 * 7), shape: [2, 3, 5, 7] } }))[g.outputs[0]].data;
  await s.release();
  assert.deepEqual(constNumbers(folded), [...want]);
  assert.deepEqual(constNumbers(folded), [0, 0, 1, 0, 0, 0, 0, 1, 10, 14]);
});

test('foldConstant leaves what depends on a symbolic size or on float data unfolded', () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 3]);
  assert.equal(foldConstant(g, g.op('Shape', [x])), undefined);
  assert.deepEqual(constNumbers(foldConstant(g, g.op('Shape', [x], { start: int(1) }))!), [3]);
  assert.equal(foldConstant(g, g.op('ReduceSum', [x])), undefined);
});
