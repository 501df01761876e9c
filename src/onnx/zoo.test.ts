/**
 * The operator zoo (scripts/export_zoo.py): discriminators with the layers PyTorch users write
 * (LayerNorm, GELU, einsum attention, logsumexp, amax, GroupNorm, depthwise and grouped convs,
 * InstanceNorm, PReLU, bilinear and bicubic resizing, SELU, CELU, Mish, ...) exported by
 * torch.onnx.export 1.13 at opsets 11/12 and 17. Refinery's forward pass and its own gradient must
 * match PyTorch's outputs and autograd.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { readNpyFloat32 } from '../io/npyfile.js';
import { relError } from '../testing/fixtures.js';
import { differentiate, onesLike } from './autodiff.js';
import { inline } from './compose.js';
import { Graph } from './graph.js';
import { loadModel } from './modelfile.js';
import { Session } from './session.js';

const ZOO = fileURLToPath(new URL('../../test/fixtures/zoo/', import.meta.url));

/** Operators each model must contain as exported: what the zoo is there to cover. */
const EXPECTED: Record<string, string[]> = {
  'attention-opset12': ['Einsum', 'Softmax', 'ReduceLogSumExp', 'ReduceMax', 'Tile', 'Gather', 'Erf', 'Pow', 'Sqrt', 'ReduceMean'],
  'attention-opset17': ['Einsum', 'LayerNormalization', 'ReduceLogSumExp', 'ReduceMax', 'Tile', 'Gather', 'Erf', 'Expand'],
  'convnet-opset11': ['InstanceNormalization', 'PRelu', 'Resize', 'HardSigmoid', 'Pad', 'Elu', 'AveragePool', 'Sigmoid'],
  'convnet-opset17': ['InstanceNormalization', 'PRelu', 'Resize', 'HardSwish', 'Pad', 'Elu', 'AveragePool'],
  'activations-opset12': ['Selu', 'Celu', 'HardSigmoid', 'Softplus', 'Tanh', 'Clip', 'Sqrt', 'Pow'],
  'activations-opset17': ['Selu', 'Celu', 'HardSigmoid', 'Softplus', 'Tanh', 'Clip', 'Sqrt', 'Pow'],
};

const folders = readdirSync(ZOO).sort();

test('the zoo has every model at an old and a new opset', () => {
  assert.deepEqual(folders, Object.keys(EXPECTED).sort());
});

for (const name of folders) {
  test(`zoo ${name}: forward and input gradient match PyTorch`, async () => {
    const dir = join(ZOO, name);
    const D = loadModel(join(dir, 'discriminator.onnx'));
    assert.ok(D instanceof Graph, `${name} is rebuilt as a graph: ${'reason' in D ? (D as { reason: Error }).reason.message : ''}`);
    const ops = new Set(D.nodes.map((n) => n.op));
    for (const op of EXPECTED[name]) assert.ok(ops.has(op), `${name} contains ${op} (has ${[...ops].sort().join(', ')})`);
    assert.ok(D.opset >= 13);

    const gold = (k: string) => readNpyFloat32(join(dir, `${k}.npy`));
    const x = gold('x');
    const g = new Graph();
    const xin = g.addInput('x', 'float32', ['batch', ...x.shape.slice(1)]);
    const { logit } = inline(g, D, 'd/', { x: xin });
    const gradX = differentiate(g, { [logit]: onesLike(g, logit) }, [xin]).get(xin)!;
    g.outputs = [logit, gradX];
    const s = await Session.create(g, { threads: 1 });
    const out = await s.run({ x });
    await s.release();
    const el = relError(out[logit].data, gold('logit').data);
    assert.ok(el < 1e-4, `logit rel ${el}`);
    const eg = relError(out[gradX].data, gold('grad_x').data);
    assert.ok(eg < 1e-3, `grad_x rel ${eg}`);
  });
}
