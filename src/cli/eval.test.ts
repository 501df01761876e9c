import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Graph, int, ints } from '../onnx/graph.js';
import { streamedChannels } from './eval.js';

/** A model x [batch, ...shape] -> per-sample means. */
function model(shape: (number | string)[]): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', ...shape]);
  g.add('ReduceMean', [x], { axes: ints(shape.map((_, i) => i + 1)), keepdims: int(0) }, ['f']);
  g.outputs = ['f'];
  return g;
}

test('eval streams image folders only when the models alone read the images, with their channels', () => {
  const rgb = model([3, 8, 8]);
  const grey = model([1, 8, 8]);
  assert.equal(streamedChannels(['fd', 'kid'], rgb, undefined, false), 3);
  assert.equal(streamedChannels(undefined, grey, undefined, false), 1);
  assert.equal(streamedChannels(['fd', 'is'], rgb, rgb, false), 3);
  assert.equal(streamedChannels(['is', 'classes'], undefined, grey, false), 1);
  // the samples themselves are read: no features, a likelihood or modes, a run or a built-in dataset
  assert.equal(streamedChannels(['fd'], undefined, undefined, false), undefined);
  assert.equal(streamedChannels(['fd', 'is'], undefined, rgb, false), undefined);
  assert.equal(streamedChannels(['fd', 'likelihood'], rgb, undefined, false), undefined);
  assert.equal(streamedChannels(['fd'], rgb, undefined, true), undefined);
  // the models disagree, or do not fix the channels
  assert.equal(streamedChannels(['fd', 'is'], rgb, grey, false), undefined);
  assert.equal(streamedChannels(['fd'], model(['c', 8, 8]), undefined, false), undefined);
  assert.equal(streamedChannels(['fd'], model([64]), undefined, false), undefined);
});
