import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, int, ints } from '../onnx/graph.js';
import { graphFlops } from './flops.js';

test('graphFlops counts 2 per multiply-add of Conv, ConvTranspose, MatMul and Gemm, with the batch for symbolic dims', () => {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', 3, 8, 8]);
  const w = g.constant({ dtype: 'float32', dims: [4, 3, 3, 3], data: new Float32Array(108) });
  // Conv 3 -> 4 channels, 3x3, pad 1: out [B, 4, 8, 8], each output 3*3*3 multiply-adds.
  const y = g.op('Conv', [x, w], { pads: ints([1, 1, 1, 1]) });
  // ConvTranspose 4 -> 2 channels, 2x2 stride 2: each input element feeds 2*2*2 outputs.
  const wt = g.constant({ dtype: 'float32', dims: [4, 2, 2, 2], data: new Float32Array(32) });
  const up = g.op('ConvTranspose', [y, wt], { strides: ints([2, 2]) });
  const flat = g.op('Reshape', [up, g.int64s([-1, 512])]);
  const m = g.constant({ dtype: 'float32', dims: [512, 10], data: new Float32Array(5120) });
  const h = g.op('MatMul', [flat, m]);
  const k = g.constant({ dtype: 'float32', dims: [5, 10], data: new Float32Array(50) });
  g.outputs = [g.op('Gemm', [h, k], { transB: int(1) })];
  const B = 7;
  const c = graphFlops(g, B);
  assert.equal(c.byOp.Conv, 2 * B * 4 * 8 * 8 * 27);
  assert.equal(c.byOp.ConvTranspose, 2 * B * 4 * 8 * 8 * 8);
  assert.equal(c.byOp.MatMul, 2 * B * 10 * 512);
  assert.equal(c.byOp.Gemm, 2 * B * 5 * 10);
  assert.equal(c.flops, c.byOp.Conv + c.byOp.ConvTranspose + c.byOp.MatMul + c.byOp.Gemm);
  assert.equal(c.uncounted, 0);
  // The count scales with the batch (negative control: a different batch, a different count).
  assert.equal(graphFlops(g, 2 * B).flops, 2 * c.flops);
});
