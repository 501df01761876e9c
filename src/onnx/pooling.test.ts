import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { relError, repoRoot } from '../testing/fixtures.js';
import { foldLayers } from './fuse.js';
import { Graph, int, ints, str } from './graph.js';
import { loadGraph } from './modelfile.js';
import { foldPooling } from './pooling.js';
import { graphOutputs, withInputGradient } from '../testing/graphs.js';

const rng = new Rng(13);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

type Attrs = Graph['nodes'][number]['attrs'];

/** x [batch, cin, h, h] -> Conv (k x k, constant weights and bias) -> AveragePool s x s of stride s -> y. */
function pooledConv(cin: number, cout: number, h: number, k: number, s: number, conv: Attrs = {}, pool: Attrs = {}): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', cin, h, h]);
  const group = conv.group?.type === 'int' ? conv.group.v : 1;
  const w = g.float32(randn((cout * cin * k * k) / group, 0.3), [cout, cin / group, k, k]);
  const y = g.op('Conv', [x, w, g.float32(randn(cout), [cout])], { kernel_shape: ints([k, k]), ...conv });
  g.outputs = [g.op('AveragePool', [y], { kernel_shape: ints([s, s]), strides: ints([s, s]), ...pool })];
  return g;
}

const CASES: [string, number, number, number, number, number, Attrs][] = [
  ['3x3 pad 1 then 2x2 (SNGAN discriminator blocks)', 5, 8, 8, 3, 2, { pads: ints([1, 1, 1, 1]) }],
  ['3x3 pad 1 on an odd grid (the pooling floors)', 3, 4, 7, 3, 2, { pads: ints([1, 1, 1, 1]) }],
  ['1x1 then 2x2', 4, 6, 6, 1, 2, {}],
  ['3x3 unpadded then 3x3 of stride 3', 2, 5, 11, 3, 3, {}],
  ['grouped 3x3, asymmetric pads', 4, 6, 8, 3, 2, { group: int(2), pads: ints([0, 1, 2, 1]) }],
  ['auto_pad VALID', 3, 4, 8, 3, 2, { auto_pad: str('VALID') }],
];

for (const [name, cin, cout, h, k, s, conv] of CASES) {
  test(`foldPooling, ${name}: one strided Conv, same values and input gradient`, async () => {
    const g = pooledConv(cin, cout, h, k, s, conv);
    const folded = foldPooling(g);
    assert.equal(count(folded, 'AveragePool'), 0, 'no pooling left');
    assert.equal(count(folded, 'Conv'), 1);
    const c = folded.nodes[0];
    assert.deepEqual(c.attrs.strides, ints([s, s]));
    assert.deepEqual(c.attrs.kernel_shape, ints([k + s - 1, k + s - 1]));
    const yShape = g.shape(g.outputs[0]).slice(1) as number[];
    const r = randn(yShape.reduce((a, b) => a * b, 1));
    withInputGradient(g, r);
    withInputGradient(folded, r);
    const feeds = { x: { data: randn(3 * cin * h * h), shape: [3, cin, h, h] } };
    const want = await graphOutputs(g, feeds);
    const got = await graphOutputs(folded, feeds);
    assert.equal(got[0].length, want[0].length);
    for (const i of [0, 1]) {
      const err = relError(got[i], want[i]);
      assert.ok(err < 1e-5, `${i === 0 ? 'value' : 'gradient'}: relative error ${err}`);
    }
    if (k > 1) {
      // Negative control: the folded kernel flipped in space (the shifts taken the other way).
      const [wName] = [...folded.initializers.keys()].filter((n) => n.includes('pooled_w'));
      const t = folded.initializers.get(wName)!;
      const data = t.data as Float32Array;
      const [o, i, fh, fw] = t.dims;
      const flipped = new Float32Array(data.length);
      for (let p = 0; p < o * i; p++)
        for (let u = 0; u < fh; u++) for (let v = 0; v < fw; v++) flipped[(p * fh + u) * fw + v] = data[(p * fh + fh - 1 - u) * fw + fw - 1 - v];
      folded.initializers.set(wName, { ...t, data: flipped });
      assert.ok(relError((await graphOutputs(folded, feeds))[0], want[0]) > 1e-2, 'the control must differ');
    }
  });
}

test('foldPooling leaves poolings with padding, overlap or ceil mode, strided Convs and maps read twice as they are', () => {
  const padded = pooledConv(2, 4, 8, 3, 2, { pads: ints([1, 1, 1, 1]) }, { pads: ints([1, 1, 1, 1]) });
  assert.equal(foldPooling(padded), padded);
  const overlapping = pooledConv(2, 4, 8, 3, 2, {}, { strides: ints([1, 1]) });
  assert.equal(foldPooling(overlapping), overlapping);
  const ceil = pooledConv(2, 4, 7, 3, 2, {}, { ceil_mode: int(1) });
  assert.equal(foldPooling(ceil), ceil);
  const strided = pooledConv(2, 4, 8, 3, 2, { strides: ints([2, 2]) });
  assert.equal(foldPooling(strided), strided);
  const dilated = pooledConv(2, 4, 8, 3, 2, { dilations: ints([2, 2]) });
  assert.equal(foldPooling(dilated), dilated);
  // A Pad that adds rows and columns between the Conv and the pooling.
  const padded2 = pooledConv(2, 4, 8, 3, 2, { pads: ints([1, 1, 1, 1]) });
  const [conv, pool] = padded2.nodes;
  const p = padded2.op('Pad', [conv.outputs[0], padded2.int64s([0, 0, 1, 1, 0, 0, 1, 1])]);
  pool.inputs[0] = p;
  padded2.nodes = [conv, padded2.nodes[2], pool];
  assert.equal(foldPooling(padded2), padded2);
  const shared = pooledConv(2, 4, 8, 3, 2, { pads: ints([1, 1, 1, 1]) });
  shared.outputs.push(shared.op('Relu', [shared.nodes[0].outputs[0]]));
  assert.equal(foldPooling(shared), shared);
});

test('foldLayers on the SNGAN ResNet discriminator: the poolings after its 3x3 Convs gone, D(x) and its input gradient as before', async () => {
  const dir = join(repoRoot, 'test', 'fixtures', 'bench', 'resnet32');
  const D = loadGraph(join(dir, 'discriminator.onnx'));
  const f = foldLayers(D);
  assert.equal(count(D, 'AveragePool'), 8);
  assert.equal(count(f, 'AveragePool'), 4, 'the four shortcut poolings (before their 1x1 Convs) stay');
  const shape = D.shape(D.inputs[0].name).slice(1) as number[];
  const n = shape.reduce((a, b) => a * b, 1);
  const r = randn(1);
  withInputGradient(D, r);
  withInputGradient(f, r);
  const feeds = { [D.inputs[0].name]: { data: randn(4 * n), shape: [4, ...shape] } };
  const want = await graphOutputs(D, feeds);
  const got = await graphOutputs(f, feeds);
  for (const i of [0, 1]) {
    const err = relError(got[i], want[i]);
    assert.ok(err < 1e-5, `${i === 0 ? 'value' : 'gradient'}: relative error ${err}`);
  }
});
