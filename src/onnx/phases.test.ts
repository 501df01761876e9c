import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { Rng } from '../rng.js';
import { relError, repoRoot } from '../testing/fixtures.js';
import { differentiate } from './autodiff.js';
import { foldLayers } from './fuse.js';
import { Graph, int, ints, str } from './graph.js';
import { encodeGraph } from './model.js';
import { loadGraph } from './modelfile.js';
import { foldUpsampling, rewriteConvTransposes } from './phases.js';
import { nearestReplication } from './ops/resize.js';
import { Session } from './session.js';
import { graphOutputs, withInputGradient } from '../testing/graphs.js';

const rng = new Rng(12);
const randn = (n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * rng.normal());
const count = (g: Graph, op: string) => g.nodes.filter((n) => n.op === op).length;

/** x [2, cin, h, h] -> ConvTranspose -> y, with random constant weights (and bias). */
function convTranspose(cin: number, cout: number, h: number, attrs: Record<string, number | number[] | string>, bias: boolean): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', cin, h, h]);
  const k = (attrs.kernel as number) ?? 4;
  const w = g.float32(randn(cin * cout * k * k, 0.3), [cin, cout, k, k]);
  const a: Graph['nodes'][number]['attrs'] = {};
  for (const [name, v] of Object.entries(attrs)) if (name !== 'kernel') a[name] = typeof v === 'string' ? str(v) : Array.isArray(v) ? ints(v) : int(v);
  g.outputs = [g.op('ConvTranspose', [x, w, ...(bias ? [g.float32(randn(cout), [cout])] : [])], a)];
  return g;
}

const CT_CASES: [string, number, number, number, Record<string, number | number[] | string>, boolean, string][] = [
  ['DCGAN k4 s2 p1', 5, 8, 4, { kernel: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, true, 'Concat'],
  ['k3 s2 p1 output_padding 1', 3, 8, 5, { kernel: 3, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, false, 'Concat'],
  ['k5 s2 p2 output_padding 1', 2, 9, 4, { kernel: 5, strides: [2, 2], pads: [2, 2, 2, 2], output_padding: [1, 1] }, true, 'Concat'],
  ['k3 s3 p0 (no overlap)', 3, 8, 3, { kernel: 3, strides: [3, 3] }, true, 'Concat'],
  ['k4 s1 on a 1x1 input (a generator first layer)', 7, 5, 1, { kernel: 4 }, true, 'Gemm'],
  ['grouped: left as it is', 4, 2, 3, { kernel: 4, strides: [2, 2], pads: [1, 1, 1, 1], group: 2 }, false, 'ConvTranspose'],
  ['dilated: left as it is', 2, 3, 3, { kernel: 3, strides: [2, 2], dilations: [2, 2] }, false, 'ConvTranspose'],
  ['asymmetric pads', 2, 8, 3, { kernel: 4, strides: [2, 2], pads: [0, 1, 2, 1] }, false, 'Concat'],
  ['3 output channels (an image layer): one Conv for all phases', 4, 3, 4, { kernel: 4, strides: [2, 2], pads: [1, 1, 1, 1] }, true, 'Slice'],
  ['2 output channels, phases of 1 and 2 taps', 3, 2, 5, { kernel: 3, strides: [2, 2], pads: [1, 1, 1, 1], output_padding: [1, 1] }, true, 'Slice'],
  ['1 output channel, k5 s2 p2, asymmetric pads', 3, 1, 4, { kernel: 5, strides: [2, 2], pads: [2, 1, 1, 2], output_padding: [0, 0] }, false, 'Slice'],
  ['k4 s2 auto_pad SAME_UPPER', 3, 8, 4, { kernel: 4, strides: [2, 2], auto_pad: 'SAME_UPPER' }, true, 'Concat'],
  ['k3 s2 auto_pad SAME_LOWER (the odd pad before)', 3, 8, 4, { kernel: 3, strides: [2, 2], auto_pad: 'SAME_LOWER' }, false, 'Concat'],
  ['k5 s2 output_shape', 2, 8, 4, { kernel: 5, strides: [2, 2], output_shape: [8, 8] }, true, 'Concat'],
  ['output not twice the input: left as it is', 2, 3, 3, { kernel: 3, strides: [2, 2], pads: [1, 1, 1, 1] }, true, 'ConvTranspose'],
];

for (const [name, cin, cout, h, attrs, bias, op] of CT_CASES) {
  test(`rewriteConvTransposes, ${name}: same values and input gradient as onnxruntime's ConvTranspose`, async () => {
    const g = convTranspose(cin, cout, h, attrs, bias);
    // Value and the gradient of sum(y * r) with respect to x, r random.
    const y = g.outputs[0];
    const ys = g.shape(y) as number[];
    const r = g.float32(randn(ys.slice(1).reduce((a, v) => a * v, 1)), ys.slice(1));
    const dx = differentiate(g, { [y]: g.op('Expand', [r, g.shapeOf(y)]) }, [g.inputs[0].name]).get(g.inputs[0].name)!;
    g.outputs = [y, dx];
    const rewritten = rewriteConvTransposes(g);
    assert.ok(
      rewritten.nodes.some((n) => n.op === op),
      `expected a ${op} node`,
    );
    const x = randn(2 * cin * h * h);
    const feeds = { x: { data: x, shape: [2, cin, h, h] } };
    const reference = await Session.create(encodeGraph(g), { threads: 1 }); // bytes: compiled as they are
    const want = await reference.run(feeds);
    await reference.release();
    const s = await Session.create(encodeGraph(rewritten), { threads: 1 });
    const got = await s.run(feeds);
    await s.release();
    for (const o of g.outputs) {
      assert.deepEqual(got[o].shape, want[o].shape);
      const err = relError(got[o].data, want[o].data);
      assert.ok(err < 1e-5, `${o}: relative error ${err}`);
    }
    if (op === 'Concat' || op === 'Slice') {
      // Negative control: the first row's column phases interleaved in the other order.
      const columns = rewritten.nodes.find((n) => n.op === 'Concat')!;
      columns.inputs.reverse();
      const c = await Session.create(encodeGraph(rewritten), { threads: 1 });
      const wrong = await c.run(feeds);
      await c.release();
      assert.ok(relError(wrong[y].data, want[y].data) > 1e-2, 'the control must differ');
    }
  });
}

const NEAREST = { mode: str('nearest'), coordinate_transformation_mode: str('asymmetric'), nearest_mode: str('floor') };

/** x [batch, cin, h, h] -> nearest upsampling by s -> Conv (k, pads, constant weights and bias) -> y. */
function upsampledConv(
  cin: number,
  cout: number,
  h: number,
  s: number,
  k: number,
  pads: number[] | string,
  resize: Graph['nodes'][number]['attrs'] = NEAREST,
): Graph {
  const g = new Graph();
  const x = g.addInput('x', 'float32', ['batch', cin, h, h]);
  const up = g.op('Resize', [x, '', g.float32(Float32Array.of(1, 1, s, s), [4])], resize);
  const w = g.float32(randn(cout * cin * k * k, 0.3), [cout, cin, k, k]);
  g.outputs = [
    g.op('Conv', [up, w, g.float32(randn(cout), [cout])], {
      kernel_shape: ints([k, k]),
      ...(typeof pads === 'string' ? { auto_pad: str(pads) } : { pads: ints(pads) }),
    }),
  ];
  return g;
}

const UP_CASES: [string, number, number, number, number, number, number[] | string, string][] = [
  ['3x3 after 2x (SNGAN, BigGAN)', 5, 8, 4, 2, 3, [1, 1, 1, 1], 'Concat'],
  ['1x1 after 2x: the Conv first', 5, 8, 4, 2, 1, [0, 0, 0, 0], 'Resize'],
  ['3 output channels: one Conv for all phases', 4, 3, 4, 2, 3, [1, 1, 1, 1], 'Slice'],
  ['5x5 after 3x', 3, 8, 3, 3, 5, [2, 2, 2, 2], 'Concat'],
  ['4x4 after 2x, asymmetric pads', 3, 8, 3, 2, 4, [1, 2, 2, 1], 'Concat'],
  ['3x3 after 2x, auto_pad SAME_UPPER', 4, 8, 3, 2, 3, 'SAME_UPPER', 'Concat'],
  ['4x4 after 2x, auto_pad SAME_LOWER (the odd pad before)', 3, 8, 3, 2, 4, 'SAME_LOWER', 'Concat'],
];

for (const [name, cin, cout, h, s, k, pads, op] of UP_CASES) {
  test(`foldUpsampling, ${name}: same values and input gradient as the upsampling then the Conv`, async () => {
    const g = upsampledConv(cin, cout, h, s, k, pads);
    // Folded before differentiation, as inline does; both differentiated the same way.
    const folded = foldUpsampling(g);
    assert.ok(
      folded.nodes.some((n) => n.op === op),
      `expected a ${op} node`,
    );
    if (op !== 'Resize') assert.equal(count(folded, 'Resize'), 0, 'no upsampling left');
    else assert.ok(folded.producer(folded.outputs[0])?.op === 'Resize', 'the Conv runs before the upsampling');
    const r = randn(cout * s * h * s * h);
    withInputGradient(g, r);
    withInputGradient(folded, r);
    const feeds = { x: { data: randn(2 * cin * h * h), shape: [2, cin, h, h] } };
    const want = await graphOutputs(g, feeds);
    const got = await graphOutputs(folded, feeds);
    for (const i of [0, 1]) {
      const err = relError(got[i], want[i]);
      assert.ok(err < 1e-5, `${i === 0 ? 'value' : 'gradient'}: relative error ${err}`);
    }
    if (op !== 'Resize') {
      // Negative control: the first row's column phases interleaved in the other order.
      folded.nodes.find((n) => n.op === 'Concat')!.inputs.reverse();
      assert.ok(relError((await graphOutputs(folded, feeds))[0], want[0]) > 1e-2, 'the control must differ');
    }
  });
}

test('foldUpsampling leaves other upsamplings and Convs as they are, and keeps an upsampling read elsewhere', () => {
  // half_pixel with floor rounding does not replicate pixels (output 2 reads input 0).
  const halfFloor = { mode: str('nearest'), coordinate_transformation_mode: str('half_pixel'), nearest_mode: str('floor') };
  const notReplicated = upsampledConv(2, 8, 3, 2, 3, [1, 1, 1, 1], halfFloor);
  assert.equal(nearestReplication(notReplicated, notReplicated.nodes[0]), undefined);
  assert.equal(foldUpsampling(notReplicated), notReplicated);
  const halfRound = upsampledConv(2, 8, 3, 2, 3, [1, 1, 1, 1], { mode: str('nearest'), coordinate_transformation_mode: str('half_pixel') });
  assert.deepEqual(nearestReplication(halfRound, halfRound.nodes[0]), [1, 1, 2, 2]);
  const linear = upsampledConv(2, 8, 3, 2, 3, [1, 1, 1, 1], { mode: str('linear') });
  assert.equal(foldUpsampling(linear), linear);
  // A strided Conv after the upsampling, and a Conv whose output is smaller than its input.
  const strided = upsampledConv(2, 8, 3, 2, 3, [1, 1, 1, 1]);
  strided.nodes[1].attrs.strides = ints([2, 2]);
  assert.equal(foldUpsampling(strided), strided);
  const shrinking = upsampledConv(2, 8, 3, 2, 3, [0, 0, 0, 0]);
  assert.equal(foldUpsampling(shrinking), shrinking);
  const shared = upsampledConv(2, 8, 3, 2, 3, [1, 1, 1, 1]);
  const up = shared.nodes[0].outputs[0];
  shared.outputs.push(shared.op('Relu', [up]));
  const folded = foldUpsampling(shared);
  assert.equal(count(folded, 'Resize'), 1, 'the upsampling stays for its other reader');
  assert.equal(count(folded, 'Conv'), 4);
});

test('foldLayers on the SNGAN ResNet generator: its upsamplings gone, G(z) as before', async () => {
  const dir = join(repoRoot, 'test', 'fixtures', 'bench', 'resnet32');
  const G = loadGraph(join(dir, 'generator.onnx'));
  const f = foldLayers(G);
  assert.equal(count(G, 'Resize'), 6);
  assert.equal(count(f, 'Resize'), 3, 'the three shortcut upsamplings follow their 1x1 Convs');
  const dim = G.inputs[0].shape[1] as number;
  const feeds = { [G.inputs[0].name]: { data: randn(4 * dim), shape: [4, dim] } };
  const err = relError((await graphOutputs(f, feeds))[0], (await graphOutputs(G, feeds))[0]);
  assert.ok(err < 1e-5, `relative error ${err}`);
});
