import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readNpyFloat32 } from '../io/npyfile.js';
import { FIXTURES, fixturesDir, relError } from '../testing/fixtures.js';
import { differentiate, onesLike } from './autodiff.js';
import { inline } from './compose.js';
import { Graph } from './graph.js';
import { loadGraph } from './modelfile.js';
import { Session } from './session.js';

for (const name of FIXTURES) {
  test(`fixture ${name}: forward, grad_z, grad_energy_z and grad_x match PyTorch goldens`, async () => {
    const dir = join(fixturesDir(), name);
    const G = loadGraph(join(dir, 'generator.onnx'));
    const D = loadGraph(join(dir, 'discriminator.onnx'));
    const gold = (k: string) => readNpyFloat32(join(dir, `${k}.npy`));
    const z = gold('z');

    // Composite graph: z -> x = G(z) -> logit = D(x); energy = 0.5|z|^2 - logit.
    const g = new Graph();
    const zin = g.addInput('z', 'float32', ['batch', ...z.shape.slice(1)]);
    const { x } = inline(g, G, 'g/', { z: zin });
    const { logit } = inline(g, D, 'd/', { x });
    const half = g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [zin, zin]), g.int64s([1])], { keepdims: { type: 'int', v: 1 } }), g.scalar(0.5)]);
    const energy = g.op('Sub', [half, logit]);
    const gradZ = differentiate(g, { [logit]: onesLike(g, logit) }, [zin]).get(zin)!;
    const gradE = differentiate(g, { [energy]: onesLike(g, energy) }, [zin]).get(zin)!;
    g.outputs = [x, logit, gradZ, gradE];
    const s = await Session.create(g);
    const out = await s.run({ z });
    await s.release();

    assert.ok(relError(out[x].data, gold('x').data) < 1e-4, `x rel ${relError(out[x].data, gold('x').data)}`);
    assert.ok(relError(out[logit].data, gold('logit').data) < 1e-4, 'logit');
    const ez = relError(out[gradZ].data, gold('grad_z').data);
    assert.ok(ez < 1e-3, `grad_z rel ${ez}`);
    const ee = relError(out[gradE].data, gold('grad_energy_z').data);
    assert.ok(ee < 1e-3, `grad_energy_z rel ${ee}`);

    // D alone, gradient with respect to its input.
    const gx = new Graph();
    const xs = gold('x');
    const xin = gx.addInput('x', 'float32', ['batch', ...xs.shape.slice(1)]);
    const { logit: l2 } = inline(gx, D, 'd/', { x: xin });
    const gradX = differentiate(gx, { [l2]: onesLike(gx, l2) }, [xin]).get(xin)!;
    gx.outputs = [gradX];
    const sx = await Session.create(gx);
    const ox = await sx.run({ x: xs });
    await sx.release();
    const exr = relError(ox[gradX].data, gold('grad_x').data);
    assert.ok(exr < 1e-3, `grad_x rel ${exr}`);
  });
}
